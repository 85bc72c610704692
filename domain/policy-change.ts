// A policy change for open work: how a ticket's deadlines move under a candidate policy slice, and
// the words its timeline records when the change is applied. Pure, so the workflow's query and
// signal handler and the tests share it. No Node imports.
import { formatDuration } from './format';
import type { SlaTarget, TicketPolicy, Tier } from './policy';
import type { SlaClockState } from './sla-clock';
import type { DeadlineMove, PolicyPreview, TicketState } from './ticket';
import { clocksOf } from './ticket-machine';

export function previewPolicy(t: TicketState, current: TicketPolicy, candidate: TicketPolicy, now: number): PolicyPreview {
  const before = clocksOf(t, current, now);
  const after = clocksOf(t, candidate, now);
  // A target met already has nothing left to move.
  const move = (now: SlaClockState, candidate: SlaClockState): DeadlineMove =>
    now.metAt !== null
      ? { dueAt: now.dueAt, candidateDueAt: now.dueAt, movedMs: 0 }
      : {
          dueAt: now.dueAt,
          candidateDueAt: candidate.dueAt,
          movedMs: now.dueAt !== null && candidate.dueAt !== null ? candidate.dueAt - now.dueAt : 0,
        };
  return {
    id: t.ticket.id,
    status: t.status,
    tier: t.tier,
    policy: current.policyName,
    acknowledge: move(before.acknowledge, after.acknowledge),
    resolution: move(before.resolution, after.resolution),
  };
}

/** Whether a preview shows a deadline that moves. */
export function deadlinesMove(p: PolicyPreview): boolean {
  return p.acknowledge.movedMs !== 0 || p.resolution.movedMs !== 0 || (p.acknowledge.dueAt === null) !== (p.acknowledge.candidateDueAt === null) || (p.resolution.dueAt === null) !== (p.resolution.candidateDueAt === null);
}

/** The same slice: a rollout delivered twice (or to a ticket already on it) changes nothing. */
export function samePolicy(a: TicketPolicy, b: TicketPolicy): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : 1))) : v,
  );
}

/** "policy default → faster: acknowledge 4h → 2h; resolution (tier 1) 1d → 12h" (what differs only). */
export function describePolicyChange(current: TicketPolicy, next: TicketPolicy, tier: Tier): string {
  const parts: string[] = [];
  const target = (t: SlaTarget) => `${formatDuration(t.withinMs)}${t.clock === 'calendar' ? '' : ` ${t.clock}`}`;
  if (canonical(current.acknowledge) !== canonical(next.acknowledge)) {
    parts.push(`acknowledge ${target(current.acknowledge)} → ${target(next.acknowledge)}`);
  }
  if (canonical(current.resolve[tier]) !== canonical(next.resolve[tier])) {
    parts.push(`${tier === 3 ? 'hand-off' : 'resolution'} (tier ${tier}) ${target(current.resolve[tier])} → ${target(next.resolve[tier])}`);
  }
  if (canonical(current.escalationChain) !== canonical(next.escalationChain)) parts.push('escalation chain changed');
  if (current.warningShare !== next.warningShare || canonical(current.warningShares) !== canonical(next.warningShares)) parts.push('warnings changed');
  const name = current.policyName === next.policyName ? `policy ${next.policyName}` : `policy ${current.policyName} → ${next.policyName}`;
  return parts.length ? `${name}: ${parts.join('; ')}` : `${name}: other settings`;
}
