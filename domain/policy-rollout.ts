// A policy rollout's input, progress and query: shared by its workflow (workflows/policy-rollout.ts)
// and the API. No Node imports.
import { defineQuery } from '@temporalio/workflow';
import type { Channel, Policy } from './policy';

export interface PolicyRolloutInput {
  rolloutId: string;
  policy: Policy;
  tickets: Array<{ workflowId: string; channel: Channel }>;
  by: string;
  reason: string;
  /** Carried from the runs before: how many tickets were signalled and skipped. */
  done?: { signalled: number; skipped: string[] };
}

export interface PolicyRolloutProgress {
  rolloutId: string;
  policy: string;
  total: number;
  signalled: number;
  /** Workflow ids that could not be signalled (closed or gone); the first 100. */
  skipped: string[];
  skippedCount: number;
  remaining: number;
}

export const rolloutProgressQuery = defineQuery<PolicyRolloutProgress>('progress');

