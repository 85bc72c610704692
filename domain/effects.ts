// What every workflow carries about its external effects and its projection, as plain data (so it
// continues as new with them): the effects still to carry out, in order per lane; the refusals it
// recorded; how far its PostgreSQL projection has been written. workflows/effects.ts and
// workflows/publishing.ts act on these.

/** An external effect (a Slack post, a Zendesk comment, a page, a tracker change) still to be carried out. */
export interface PendingEffect {
  /** The activity's idempotency key: `<workflowId>:<chainId>:<step>`; one effect per key, ever. */
  key: string;
  /** The step part of the key, for people: `escalation:acknowledge:0:b1:1:1`. */
  step: string;
  /** Effects of one lane run one after another, in the order queued (the requester hears things in order). */
  lane: string;
  /** Which of the workflow's effect kinds carries it out. */
  kind: string;
  data: unknown;
  /** What operators see on the activity in the UI; never personal data. */
  summary: string;
  queuedAt: number;
  /** Given up at this moment at the latest (a page retries only until the next page is due). */
  giveUpAt?: number;
}

/**
 * An external system refused an effect for good (a 4xx), or stayed down past the give-up time:
 * recorded on the item, shown to operators, never retried; the item goes on.
 */
export interface IntegrationRefusal {
  at: number;
  /** The effect's step, e.g. `hand-off:alice` or `reply:12`. */
  step: string;
  /** Which system refused ("Slack", "GitLab"), when the failure says. */
  system: string | null;
  message: string;
}

export interface EffectQueue {
  pending: PendingEffect[];
  /** The latest refusals (at most 20 are kept); `refusedCount` counts them all. */
  refusals: IntegrationRefusal[];
  refusedCount: number;
}

/** How far the item's row (and its timeline in item_events) has been written to PostgreSQL. */
export interface ProjectionProgress {
  /** The state version the projection holds. */
  version: number;
  /** The last timeline entry written to item_events. */
  eventSeq: number;
  /** PostgreSQL refused a write for good (e.g. a value it cannot store): shown until a later write succeeds. */
  refused: { version: number; at: number; message: string } | null;
}

export const emptyEffectQueue = (): EffectQueue => ({ pending: [], refusals: [], refusedCount: 0 });
export const nothingProjected = (): ProjectionProgress => ({ version: -1, eventSeq: 0, refused: null });
