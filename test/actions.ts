// What workflow tests share to act the way the API does: an action (an update) answers small, so a
// test that wants to see the whole item reads it from the state query afterwards; a message of the
// conversation travels as a reference (the API stores its body first).
import { randomBytes } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { QueryDefinition, UpdateDefinition } from '@temporalio/common';
import { characterCount, preview } from '../domain/text-rules';
import type { MessageRef } from '../domain/ticket';
import { storeMessage } from '../db/messages';
import { testKeys } from './encryption';
import type { TestDatabase } from './postgres';

/** Runs the update, then answers the state query: what an agent sees after acting. */
export async function actThenView<I, V>(
  handle: WorkflowHandle,
  update: UpdateDefinition<unknown, [I]>,
  input: I,
  query: QueryDefinition<V, []>,
): Promise<V> {
  await handle.executeUpdate(update, { args: [input] });
  return handle.query(query);
}

/** A reference to a message whose body is not stored (the notifier then sends the preview). */
export function messageRef(body: string): MessageRef {
  return { id: `msg-test-${randomBytes(6).toString('hex')}`, preview: preview(body), length: characterCount(body) };
}

/** Stores the body as the API does and answers its reference. */
export function storedMessage(db: TestDatabase, workflowId: string, body: string, author = 'alice'): Promise<MessageRef> {
  return storeMessage(db.pool, { workflowId, author, role: author === 'requester' ? 'requester' : 'agent', body, private: false }, testKeys);
}
