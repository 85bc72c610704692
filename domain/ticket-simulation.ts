// A ticket's life without a workflow: the commands at their times, and between them whatever falls
// due (warnings, breaches, escalations, the close after the reopen window), through the same machine
// and the same projection the workflow uses. For the reports' tests and the seed (npm run desk -- seed).
import type { TicketPolicy } from './policy';
import { apply, clocksOf, dueWork, nextWakeUp, refusal, ticketProjection, openTicket, type TicketCommand } from './ticket-machine';
import type { TicketIntake, TicketProjection, TicketState } from './ticket';
import { recordEntry } from './timeline';

export interface TimedCommand {
  at: number;
  command: TicketCommand;
}

export interface SimulatedTicket {
  state: TicketState;
  /** The projection writes the workflow would make, in order, each with its new timeline entries. */
  writes: TicketProjection[];
}

/**
 * Runs `commands` (in time order, none before `createdAt`) and the ticket's due work until `until`.
 * `writeEach`: one write per change, as the workflow makes them; otherwise one write at the end.
 * A command the machine refuses throws, unless `stopWhenRefused` (the rest of the life is dropped).
 */
export function simulateTicket(
  intake: TicketIntake,
  policy: TicketPolicy,
  createdAt: number,
  commands: readonly TimedCommand[],
  until: number,
  {
    workflowId,
    chainId,
    writeEach = true,
    stopWhenRefused = false,
  }: { workflowId: string; chainId: string; writeEach?: boolean; stopWhenRefused?: boolean },
): SimulatedTicket {
  const t = openTicket(intake, createdAt);
  // The workflow's first entry (workflows/ticket.ts).
  recordEntry(t, createdAt, 'created', 'intake', `${intake.channel}, tier ${intake.tier}`);
  const writes: TicketProjection[] = [];
  let written = 0;
  let writtenVersion = -1;
  const write = (now: number) => {
    if (t.version === writtenVersion) return;
    const events = t.timeline.filter((e) => (e.seq ?? 0) > written);
    writes.push({ ...ticketProjection(t, clocksOf(t, policy, now), policy, workflowId, now), chainId, events });
    written = t.recorded;
    writtenVersion = t.version;
  };
  // The workflow's loop: at each wake-up, whatever is due then.
  let cursor = createdAt;
  const runDueUntil = (limit: number) => {
    for (;;) {
      const next = nextWakeUp(t, policy, clocksOf(t, policy, cursor), cursor);
      if (!next || next.at > limit) return;
      const before = t.version;
      cursor = Math.max(cursor, next.at);
      dueWork(t, policy, clocksOf(t, policy, cursor), cursor);
      // Nothing was due after all: nothing more happens before the next command.
      if (t.version === before) return;
      if (writeEach) write(cursor);
    }
  };
  if (writeEach) write(createdAt);
  for (const { at, command } of commands) {
    if (at < cursor) throw new RangeError(`a command at ${new Date(at).toISOString()} comes before the one before it`);
    runDueUntil(at);
    cursor = at;
    const refused = refusal(t, policy, command, at);
    if (refused && stopWhenRefused) break;
    if (refused) throw new Error(`${command.type} at ${new Date(at).toISOString()} is refused: ${refused}`);
    apply(t, policy, command, at);
    if (writeEach) write(at);
  }
  runDueUntil(until);
  write(until);
  return { state: t, writes };
}
