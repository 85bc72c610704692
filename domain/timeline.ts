// An item's timeline, the same for every kind of work: numbered entries, of which the workflow keeps
// only the latest; every entry is written once to PostgreSQL (item_events) by the projection, so the
// workflow's state stays small however long the conversation, and nothing is lost.

export interface TimelineEntry {
  /** 1, 2, 3... per workflow chain; the key of the entry in item_events. Absent on entries from before. */
  seq?: number;
  at: number;
  event: string;
  by?: string;
  /** A short note; for a message, its preview (the body is in the messages table). */
  note?: string;
  /** The message this entry is about, when it is one (a reply, a question, a resolution). */
  messageId?: string;
  /**
   * On a ticket's first answer and its resolution: the time it took, as the reports count it
   * (domain/reporting.ts), measured at the moment itself, so a later change written with it in the
   * same projection write cannot alter it.
   */
  measured?: { elapsedMs: number; businessMs: number | null };
}

/** Whatever keeps a timeline: every change bumps `version`; `recorded` numbers the entries. */
export interface TimelineHolder {
  timeline: TimelineEntry[];
  recorded: number;
  version: number;
}

/** How many entries a workflow keeps in its state (the rest are in item_events). */
export const TIMELINE_KEPT = 50;

export function recordEntry(
  holder: TimelineHolder,
  at: number,
  event: string,
  by?: string,
  note?: string,
  messageId?: string,
): TimelineEntry {
  holder.version += 1;
  holder.recorded += 1;
  const entry: TimelineEntry = {
    seq: holder.recorded,
    at,
    event,
    ...(by ? { by } : {}),
    ...(note ? { note } : {}),
    ...(messageId ? { messageId } : {}),
  };
  holder.timeline.push(entry);
  return entry;
}

/** Drops the oldest entries beyond TIMELINE_KEPT, but only those already written to item_events. */
export function trimTimeline(holder: TimelineHolder, writtenSeq: number, kept = TIMELINE_KEPT): void {
  let drop = 0;
  while (holder.timeline.length - drop > kept && (holder.timeline[drop]!.seq ?? 0) <= writtenSeq) drop++;
  if (drop > 0) holder.timeline.splice(0, drop);
}

/** Entries not yet written to item_events. */
export function unwrittenEntries(holder: TimelineHolder, writtenSeq: number): TimelineEntry[] {
  return holder.timeline.filter((e) => (e.seq ?? 0) > writtenSeq);
}
