// A stand-in for the incident workflow in the webhook tests: it keeps every signal it receives, by the
// names and shapes the incident workflow defines (pageAcknowledged, pageResolved, followUpClosed).
import { condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';

export interface ReceivedPageSignal {
  name: string;
  args: { by: string; source: string; resolution?: string };
}

export const receivedQuery = defineQuery<ReceivedPageSignal[]>('received');

export async function incidentStandIn(): Promise<void> {
  const received: ReceivedPageSignal[] = [];
  for (const name of ['pageAcknowledged', 'pageResolved', 'followUpClosed']) {
    setHandler(defineSignal<[ReceivedPageSignal['args']]>(name), (args) => {
      received.push({ name, args });
    });
  }
  setHandler(receivedQuery, () => received);
  await condition(() => received.some((s) => s.name === 'pageResolved'));
  // Stay open a moment so a duplicate (if any were sent) would be counted.
  await condition(() => false, '5 seconds');
}
