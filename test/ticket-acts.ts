// What the ticket property tests (domain/ticket-machine.test.ts on the pure machine,
// workflows/ticket.property.test.ts on the real workflow) are made of: agents' and requesters'
// actions before they are given their details, how often each is drawn, and the command each becomes.
import fc from 'fast-check';
import type { Tier } from '../domain/policy';
import type { MessageRef } from '../domain/ticket';
import type { TicketCommand } from '../domain/ticket-machine';

/** An action through the API (an update). */
export type AgentAct =
  | { type: 'acknowledge' }
  | { type: 'reply'; role: 'agent' | 'requester' }
  | { type: 'wait-on-requester' }
  | { type: 'change-tier'; tier: Tier }
  | { type: 'assign'; assignee: string }
  | { type: 'hand-off' }
  | { type: 'resolve' }
  | { type: 'reopen' }
  | { type: 'escalate' }
  | { type: 'close' }
  | { type: 'satisfaction'; resolved: boolean; score: number };

/** Any action, the requester's answer through the helpdesk (a signal) included. */
export type TicketAct = AgentAct | { type: 'requester-replied' };

const weighted = <T>(arbitrary: fc.Arbitrary<T>, weight: number) => ({ arbitrary, weight });

const agentActs = [
  weighted(fc.constant({ type: 'acknowledge' as const }), 3),
  weighted(fc.constantFrom('agent' as const, 'requester' as const).map((role) => ({ type: 'reply' as const, role })), 3),
  weighted(fc.constant({ type: 'wait-on-requester' as const }), 3),
  weighted(fc.constantFrom<Tier>(1, 2, 3).map((tier) => ({ type: 'change-tier' as const, tier })), 3),
  weighted(fc.constantFrom('alice', 'bob').map((assignee) => ({ type: 'assign' as const, assignee })), 1),
  weighted(fc.constant({ type: 'hand-off' as const }), 2),
  weighted(fc.constant({ type: 'resolve' as const }), 2),
  weighted(fc.constant({ type: 'reopen' as const }), 2),
  weighted(fc.constant({ type: 'escalate' as const }), 2),
  weighted(fc.constant({ type: 'close' as const }), 1),
  weighted(
    fc.record({ resolved: fc.boolean(), score: fc.integer({ min: 1, max: 5 }) }).map((r) => ({ type: 'satisfaction' as const, ...r })),
    1,
  ),
];

/** Agents' actions, the frequent ones (acknowledge, reply, pause, re-tier) three times as often as closing. */
export const agentActArb: fc.Arbitrary<AgentAct> = fc.oneof(...agentActs);

/** Every action, the requester's answer through the helpdesk as often as a reply. */
export const ticketActArb: fc.Arbitrary<TicketAct> = fc.oneof(...agentActs, weighted(fc.constant({ type: 'requester-replied' as const }), 3));

/** What a message is for, so a test can name the one it makes. */
export type MessageUse = 'reply' | 'answer' | 'question' | 'zendesk' | 'resolution';

/** The command an action becomes, by alice (the agent), lead (who assigns) or the requester. */
export function ticketCommand(act: TicketAct, message: (use: MessageUse) => MessageRef): TicketCommand {
  switch (act.type) {
    case 'acknowledge':
      return { type: 'acknowledge', by: 'alice' };
    case 'reply':
      return act.role === 'agent'
        ? { type: 'reply', by: 'alice', role: 'agent', message: message('reply') }
        : { type: 'reply', by: 'requester', role: 'requester', message: message('answer') };
    case 'wait-on-requester':
      return { type: 'wait-on-requester', by: 'alice', question: message('question') };
    case 'requester-replied':
      return { type: 'requester-replied', message: message('zendesk'), source: 'zendesk' };
    case 'change-tier':
      return { type: 'change-tier', by: 'alice', tier: act.tier, reason: 'triage' };
    case 'assign':
      return { type: 'assign', by: 'lead', assignee: act.assignee };
    case 'hand-off':
      return { type: 'hand-off', by: 'alice', team: 'total-rewards', reason: 'policy exception' };
    case 'resolve':
      return { type: 'resolve', by: 'alice', resolution: message('resolution') };
    case 'reopen':
      return { type: 'reopen', by: 'requester', reason: 'still broken' };
    case 'escalate':
      return { type: 'escalate', by: 'alice', reason: 'VIP customer' };
    case 'close':
      return { type: 'close', by: 'alice' };
    case 'satisfaction':
      return { type: 'satisfaction', resolved: act.resolved, score: act.score };
  }
}
