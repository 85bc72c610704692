// Turns a failed workflow update into what the caller can act on: 409 with the workflow's reason, 400,
// 404 for an unknown workflow, or 409 when the workflow has already finished.
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ACTION_NOT_ALLOWED } from '../domain/ticket';
import { HttpError } from './errors';

export async function workflowActionError(
  err: unknown,
  handle: WorkflowHandle,
  notFound: HttpError,
  finishedReason: string,
): Promise<unknown> {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    if (err.cause.type === ACTION_NOT_ALLOWED) return new HttpError(409, err.cause.message);
    if (err.cause.type === 'InvalidInput') return new HttpError(400, err.cause.message);
  }
  if (err instanceof WorkflowNotFoundError || (err instanceof Error && /already completed/i.test(err.message))) {
    try {
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING') return new HttpError(409, finishedReason);
    } catch (describeErr) {
      if (describeErr instanceof WorkflowNotFoundError) return notFound;
      throw describeErr;
    }
  }
  return err;
}
