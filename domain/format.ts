// Human-readable durations for messages and the operators' view ("4h", "1d 2h", "45s").

const UNITS: Array<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
];

/** The two largest non-zero units, e.g. 93_780_000 → "1d 2h"; below a second → "0s". */
export function formatDuration(ms: number): string {
  const parts: string[] = [];
  let rest = Math.max(0, Math.round(ms));
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
    if (parts.length === 2) break;
  }
  return parts.length ? parts.join(' ') : '0s';
}
