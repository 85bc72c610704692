// The one serializer of every JSON answer (app.set('json replacer')): a time is ISO 8601 in UTC
// (`2026-12-03T09:30:00.000Z`), a duration is a number of milliseconds whose name ends in `Ms`
// (`elapsedMs`, `withinMs`). Workflows keep times as epoch milliseconds (their clock is
// Temporal's); this is where they become ISO, by name: a key `at`, `since` or `until`, or one ending
// in `At` (`createdAt`, `dueAt`, `metAt`), holding a number. Lists read from PostgreSQL are ISO already.

/** Whether a field of this name holds a time. */
export function isTimeField(key: string): boolean {
  return key === 'at' || key === 'since' || key === 'until' || /[a-z]At$/.test(key);
}

export function jsonAnswerReplacer(key: string, value: unknown): unknown {
  if (typeof value === 'number' && Number.isFinite(value) && isTimeField(key)) {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? value : date.toISOString();
  }
  return value;
}
