// What every workflow's update validators share: refusals a person can act on, as the failure types
// the API turns into 409 (not allowed now) and 400 (bad input). Text is checked by the same rules as
// at the API's boundary (domain/text-rules.ts), for callers that reach Temporal directly.
import { ApplicationFailure } from '@temporalio/workflow';
import { TEXT_RULES, textProblem, type TextField } from '../domain/text-rules';
import { ACTION_NOT_ALLOWED, INVALID_INPUT, type MessageRef } from '../domain/ticket';

/** 409: the item's state does not allow the action now. */
export function refuse(reason: string | null): void {
  if (reason !== null) throw ApplicationFailure.create({ type: ACTION_NOT_ALLOWED, message: reason, nonRetryable: true });
}

export function allowIf(ok: boolean, reason: string): void {
  if (!ok) refuse(reason);
}

/** 400: the input itself is wrong. */
export function invalid(message: string): never {
  throw ApplicationFailure.create({ type: INVALID_INPUT, message, nonRetryable: true });
}

/** Required text under its field's rule (non-empty once trimmed). */
export function requireText(value: unknown, field: string, rule: TextField = 'name'): void {
  if (typeof value !== 'string' || value.trim() === '') invalid(`${field} is required`);
  const problem = textProblem(value, TEXT_RULES[rule]);
  if (problem) invalid(`${field} ${problem}`);
}

/** Optional text: absent, or valid under its rule. */
export function optionalText(value: unknown, field: string, rule: TextField): void {
  if (value === undefined || value === null) return;
  requireText(value, field, rule);
}

export function requireBoolean(value: unknown, field: string): void {
  if (typeof value !== 'boolean') invalid(`${field} must be true or false`);
}

/** A stored message's reference (the API stored the body before asking the workflow). */
export function requireMessage(value: unknown, field: string): asserts value is MessageRef {
  const ref = value as Partial<MessageRef> | null;
  if (!ref || typeof ref !== 'object' || typeof ref.id !== 'string' || ref.id === '') {
    invalid(`${field} must be a stored message ({ id, preview, length }): store the body first`);
  }
  requireText(ref.id, `${field}.id`, 'id');
  if (typeof ref.preview !== 'string') invalid(`${field}.preview must be text`);
  const problem = textProblem(ref.preview, TEXT_RULES.reason);
  if (problem) invalid(`${field}.preview ${problem}`);
  if (!Number.isInteger(ref.length) || ref.length! < 1) invalid(`${field}.length must be a whole number of characters`);
}
