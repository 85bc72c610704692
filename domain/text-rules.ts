// What text the desk accepts, field by field: well-formed Unicode, no NUL or other control characters
// (free text may hold tab and line breaks), within a documented size. Pure and free of zod, so the
// API's schemas, the webhooks and the workflows' update validators all check text the same way.

/** `line`: one line of text (names, subjects, ids). `free`: prose, where tab, CR and LF are allowed. */
export type TextKind = 'line' | 'free';

export interface TextRule {
  kind: TextKind;
  /** Most characters (Unicode code points) allowed. */
  max: number;
}

/**
 * Every class of text field and its limit. The README's "What text is accepted" table is this table;
 * a field's name in a 400 answer says which rule it broke.
 */
export const TEXT_RULES = {
  /** Ids: external ids, other systems' ids and keys. An item's own id (in a path) is also one word: idProblem(). */
  id: { kind: 'line', max: 200 },
  /** People, teams and channels: `by`, `agent`, `assignee`, `team`, `responder`, handles. */
  name: { kind: 'line', max: 200 },
  /** Email addresses (at most 254 characters, as SMTP allows); the API also checks the form. */
  email: { kind: 'line', max: 254 },
  subject: { kind: 'line', max: 500 },
  title: { kind: 'line', max: 500 },
  label: { kind: 'line', max: 200 },
  url: { kind: 'line', max: 2_000 },
  /** Short free text: why something was done. */
  reason: { kind: 'free', max: 2_000 },
  note: { kind: 'free', max: 5_000 },
  comment: { kind: 'free', max: 5_000 },
  /** Bodies: replies, questions, resolutions, descriptions, game plans. Stored once in PostgreSQL. */
  message: { kind: 'free', max: 50_000 },
} as const satisfies Record<string, TextRule>;

export type TextField = keyof typeof TEXT_RULES;

// C0 controls except tab, LF and CR; DEL; C1 controls; the noncharacters U+FFFE and U+FFFF.
const CONTROL_IN_FREE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFE\uFFFF]/;
const CONTROL_IN_LINE = /[\u0000-\u001F\u007F-\u009F\uFFFE\uFFFF]/;
// A surrogate half without its partner is not a character: PostgreSQL and JSON consumers mangle it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Characters as people count them (code points), not UTF-16 units. */
export function characterCount(value: string): number {
  let count = 0;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}

/** What is wrong with `value` under `rule`, in words a caller can act on, or null when it is fine. */
export function textProblem(value: string, rule: TextRule): string | null {
  if (LONE_SURROGATE.test(value)) return 'is not valid Unicode text (it holds half of a surrogate pair)';
  if (value.includes('\u0000')) return 'must not contain the NUL character (\\u0000)';
  const control = (rule.kind === 'free' ? CONTROL_IN_FREE : CONTROL_IN_LINE).exec(value);
  if (control) {
    const code = codePoint(control[0]);
    return rule.kind === 'free'
      ? `must not contain control characters (found U+${code}); only tab and line breaks are allowed`
      : `must be a single line without control characters (found U+${code})`;
  }
  if (value.length > rule.max && characterCount(value) > rule.max) {
    return `must be at most ${thousands(rule.max)} characters (got ${thousands(characterCount(value))})`;
  }
  return null;
}

// An item's id names its workflow (`ticket-<id>`) and keys the desk's own records (`ticket-<id>:reply:3`):
// it is one printable word, so no whitespace, no `/` (a path separator) and no `:` (the keys' separator).
const NOT_IN_ITEM_ID = /[\s/:]/;

/** What is wrong with `value` as an item's id (in a path, a command, a button), or null when it is fine. */
export function idProblem(value: string): string | null {
  if (value.length === 0) return 'must not be empty';
  const problem = textProblem(value, TEXT_RULES.id);
  if (problem) return problem;
  const found = NOT_IN_ITEM_ID.exec(value);
  if (found) {
    const what = found[0] === '/' || found[0] === ':' ? `"${found[0]}"` : `U+${codePoint(found[0])} (a space)`;
    return `must be one word without spaces, "/" or ":" (found ${what}); use the id the desk answered with`;
  }
  return null;
}

/** A rule in words, for answers and the README: "one line, at most 500 characters". */
export function ruleInWords(field: TextField): string {
  const rule: TextRule = TEXT_RULES[field];
  const size = `at most ${thousands(rule.max)} characters`;
  return rule.kind === 'line' ? `one line, ${size}` : `text with tabs and line breaks, ${size}`;
}

function codePoint(character: string): string {
  return character.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
}

/** 50000 → "50,000", without Intl (the same in every workflow sandbox). */
function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A short preview of a body for timelines and the UI: its first line, cut (with …) at `max` characters. */
export function preview(body: string, max = 160): string {
  const firstLine = body.trim().split('\n')[0]!.trim();
  if (characterCount(firstLine) <= max) return firstLine;
  return `${[...firstLine].slice(0, max - 1).join('')}…`;
}
