// What a candidate policy does to an open ticket's deadlines, as a property over targets, and the
// words its timeline records.
import fc from 'fast-check';
import { ticketIntake } from '../test/intakes';
import { DEFAULT_POLICY, resolveTicketPolicy, type TicketPolicy } from './policy';
import { deadlinesMove, describePolicyChange, previewPolicy, samePolicy } from './policy-change';
import { apply, openTicket } from './ticket-machine';

const T0 = Date.UTC(2026, 11, 1, 9, 0);
const base = resolveTicketPolicy(DEFAULT_POLICY, 'helpdesk');
const withTargets = (ackMs: number, tier1Ms: number): TicketPolicy => ({
  ...base,
  acknowledge: { withinMs: ackMs, clock: 'calendar' },
  resolve: { ...base.resolve, 1: { withinMs: tier1Ms, clock: 'calendar' } },
});

test('an open ticket moves by exactly the difference of the targets; the same policy moves nothing; a met target never moves', () => {
  const ms = fc.integer({ min: 60_000, max: 30 * 86_400_000 });
  fc.assert(
    fc.property(ms, ms, ms, ms, fc.integer({ min: 0, max: 3_600_000 }), (ack, tier1, ack2, tier12, elapsed) => {
      const current = withTargets(ack, tier1);
      const candidate = withTargets(ack2, tier12);
      const t = openTicket(ticketIntake(), T0);
      const now = T0 + elapsed;
      const p = previewPolicy(t, current, candidate, now);
      expect(p.acknowledge.movedMs).toBe(ack2 - ack);
      expect(p.resolution.movedMs).toBe(tier12 - tier1);
      expect(deadlinesMove(p)).toBe(ack !== ack2 || tier1 !== tier12);
      expect(deadlinesMove(previewPolicy(t, current, current, now))).toBe(false);
      apply(t, current, { type: 'acknowledge', by: 'ana' }, now);
      expect(previewPolicy(t, current, candidate, now).acknowledge.movedMs).toBe(0);
    }),
  );
});

test('the same slice with its keys in another order is the same policy; the timeline says what differs', () => {
  const reordered = Object.fromEntries(Object.entries(base).reverse()) as unknown as TicketPolicy;
  expect(samePolicy(base, reordered)).toBe(true);
  expect(samePolicy(base, withTargets(60_000, base.resolve[1].withinMs))).toBe(false);
  const faster = { ...withTargets(2 * 3_600_000, 12 * 3_600_000), policyName: 'faster' };
  expect(describePolicyChange(base, faster, 1)).toBe('policy default → faster: acknowledge 4h → 2h; resolution (tier 1) 1d → 12h');
  expect(describePolicyChange(base, faster, 2)).toBe('policy default → faster: acknowledge 4h → 2h');
});
