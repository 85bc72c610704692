// The ticket the workflow tests file unless they say otherwise: a tier-1 helpdesk ticket with a fresh id.
import { randomBytes } from 'node:crypto';
import type { TicketIntake } from '../domain/ticket';

export function ticketIntake(overrides: Partial<TicketIntake> = {}): TicketIntake {
  return {
    id: `t-${randomBytes(5).toString('hex')}`,
    externalId: null,
    channel: 'helpdesk',
    tier: 1,
    priority: 'normal',
    subject: 'Cannot log in to the VPN',
    description: 'Since this morning.',
    requester: { name: 'Sam', email: 'sam@example.com' },
    private: false,
    ...overrides,
  };
}
