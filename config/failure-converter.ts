// The failure converter of every worker, client and workflow bundle (loaded by its path, also inside the
// workflow sandbox, so it imports no Node module): a failure's message and stack trace travel in its
// encodedAttributes, a payload the encryption codec (config/encryption.ts) encrypts like any other.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
