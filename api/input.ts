// What the API and the webhooks accept: zod builders for every field that comes in, checked once here
// against the rules of domain/text-rules.ts, so a 400 names the field and the rule it broke.
import { z } from 'zod';
import { TEXT_RULES, idProblem, ruleInWords, textProblem, type TextField } from '../domain/text-rules';
import { HttpError, invalidInput } from './errors';

/** The rule a text field follows, kept on its schema so tests can find every text field of a route. */
export interface TextFieldMeta {
  textRule: TextField;
  /** An item's id: one word as well (idProblem). */
  itemId?: true;
  /** An http(s) link (link()). */
  link?: true;
}

const ruleNamed = (rule: TextField) => `(rule "${rule}": ${ruleInWords(rule)})`;

/**
 * Text under `rule`, trimmed. Required and not empty unless `allowEmpty` (then '' or only spaces is '').
 * Callers add .optional() / .default() as the field needs.
 */
export function text(rule: TextField, { allowEmpty = false }: { allowEmpty?: boolean } = {}) {
  const trimmed = z.string().trim();
  return (allowEmpty ? trimmed : trimmed.min(1, 'must not be empty'))
    .superRefine((value, ctx) => {
      const problem = textProblem(value, TEXT_RULES[rule]);
      if (problem) ctx.addIssue({ code: 'custom', message: `${problem} ${ruleNamed(rule)}` });
    })
    .meta({ textRule: rule } satisfies TextFieldMeta);
}

export const optionalText = (rule: TextField) => text(rule).optional();

/** An item's id (a ticket's, an incident's...): not trimmed, since a path or a button sends it exactly. */
export function idText() {
  return z
    .string()
    .superRefine((value, ctx) => {
      const problem = idProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: `${problem} ${ruleNamed('id')}` });
    })
    .meta({ textRule: 'id', itemId: true } satisfies TextFieldMeta);
}

/** An email address: the text rule first (no control characters, a size), then its form. */
export function email() {
  return text('email').pipe(z.email('must be an email address such as sam@example.com'));
}

/** A web link (a fix, a merge request): http or https only. */
export function link() {
  return text('url')
    .pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) link such as https://gitlab.example.com/desk/-/merge_requests/7' }))
    .meta({ textRule: 'url', link: true } satisfies TextFieldMeta);
}

/** An IANA time zone name, as Intl knows it (e.g. Europe/Amsterdam, America/Chicago, UTC). */
export function timeZone() {
  return text('name').pipe(z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Amsterdam or UTC'));
}

function isTimeZone(value: string): boolean {
  if (value.length === 0 || value.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** A short code for a dimension of the reports (a region): lowercase letters, digits and '-'. */
export function code() {
  return text('name').pipe(z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "must be a short code such as emea or us-east (lowercase letters, digits and '-', at most 40)"));
}

/** The value of `schema` for a body, or a 400 listing every invalid field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw invalidInput(parsed.error, what);
  return parsed.data;
}

/**
 * The value of `schema` for a query string. A parameter given twice arrives as a list (`?status=a&status=b`):
 * that is a 400 naming it, never a filter on a list.
 */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown, what: string): z.output<S> {
  const repeated = Object.entries((query ?? {}) as Record<string, unknown>)
    .filter(([, value]) => Array.isArray(value))
    .map(([field, value]) => ({ field, message: `was given ${(value as unknown[]).length} times; give it once` }));
  if (repeated.length > 0) {
    throw new HttpError(400, `invalid ${what}: ${repeated.map((d) => `${d.field}: ${d.message}`).join('; ')}`, repeated);
  }
  return parseBody(schema, query, what);
}

const itemIdParam = z.strictObject({ id: idText() });

/** The `:id` of a route, or a 400 naming `id`; a valid id nobody has is the route's 404. */
export function itemIdFrom(value: unknown): string {
  return parseBody(itemIdParam, { id: value }, 'id').id;
}
