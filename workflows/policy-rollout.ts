// A policy rollout (POST /policy/apply): gives each chosen open ticket its slice of the new policy,
// by signal, a page at a time, durably: an API that stops half-way does not leave half the tickets
// unsignalled. A ticket that has closed (or whose workflow is gone) since it was chosen is counted as
// skipped. Continues as new before its history grows long, carrying what is left.
import { continueAsNew, getExternalWorkflowHandle, setHandler, workflowInfo } from '@temporalio/workflow';
import { resolveTicketPolicy } from '../domain/policy';
import { rolloutProgressQuery, type PolicyRolloutInput, type PolicyRolloutProgress } from '../domain/policy-rollout';
import { changePolicySignal } from '../domain/ticket';

/**
 * Signals sent at once: each carries the ticket's slice of a policy of at most 32 KiB (api/policy.ts),
 * so a page's commands stay well under the 4 MB a workflow task may answer with.
 */
const PAGE = 20;
/** Signals per run before continuing as new (each is two events). */
const PER_RUN = 1_000;

export async function policyRolloutWorkflow(input: PolicyRolloutInput): Promise<PolicyRolloutProgress> {
  const done = { signalled: input.done?.signalled ?? 0, skipped: [...(input.done?.skipped ?? [])] };
  const total = done.signalled + done.skipped.length + input.tickets.length;
  let next = 0;
  const progress = (): PolicyRolloutProgress => ({
    rolloutId: input.rolloutId,
    policy: input.policy.name,
    total,
    signalled: done.signalled,
    skipped: done.skipped.slice(0, 100),
    skippedCount: done.skipped.length,
    remaining: input.tickets.length - next,
  });
  setHandler(rolloutProgressQuery, progress);

  while (next < input.tickets.length) {
    if (next >= PER_RUN || workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof policyRolloutWorkflow>({ ...input, tickets: input.tickets.slice(next), done });
    }
    const page = input.tickets.slice(next, next + PAGE);
    await Promise.all(
      page.map(async ({ workflowId, channel }) => {
        try {
          await getExternalWorkflowHandle(workflowId).signal(changePolicySignal, {
            policy: resolveTicketPolicy(input.policy, channel),
            by: input.by,
            reason: input.reason,
            rolloutId: input.rolloutId,
          });
          done.signalled += 1;
        } catch {
          done.skipped.push(workflowId); // closed since it was chosen, or its workflow is gone
        }
      }),
    );
    next += page.length;
  }
  return progress();
}
