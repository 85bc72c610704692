// Every workflow the worker runs; the worker bundles this file.
export { ticketWorkflow } from './ticket';
