// What Temporal keeps of a private ticket is unreadable without the desk's key and whole with it, its
// failures included; and a key rotation keeps an open ticket working. On the dev server, with the
// desk's worker, its real activities and PostgreSQL.
import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter, type Payload } from '@temporalio/common';
import { historyToJSON, type History } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundle } from '@temporalio/worker';
import pino from 'pino';
import { logIntegrations } from '../activities/integrations';
import { LogNotifier, type Notifier } from '../activities/notifier';
import { AesGcmCodec, deskDataConverter, ENCRYPTED_ENCODING, KEY_ID_METADATA, type EncryptionKeys } from '../config/encryption';
import { DEFAULT_POLICY, resolveTicketPolicy } from '../domain/policy';
import {
  acknowledgeUpdate,
  replyUpdate,
  ticketStateQuery,
  ticketWorkflowId,
  type TicketIntake,
  type TicketView,
} from '../domain/ticket';
import { createDeskWorker } from '../workers/worker';
import type { ticketWorkflow } from '../workflows/ticket';
import { storedMessage } from './actions';
import { onlySecondTestKey, rotatedTestKeys, testKeys } from './encryption';
import { eventually } from './eventually';
import { ticketIntake } from './intakes';
import { createTestDatabase, type TestDatabase } from './postgres';
import { bundleWorkflows, devServerEnvironment } from './temporal';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let bundle: WorkflowBundle;

beforeAll(async () => {
  [env, db, bundle] = await Promise.all([devServerEnvironment(), createTestDatabase(), bundleWorkflows()]);
}, 120_000);
afterAll(async () => {
  await env?.teardown();
  await db?.drop();
});

const silent = pino({ level: 'silent' });
const unique = () => randomBytes(4).toString('hex');

/** The desk's worker and a client, both with these keys, as workers/main.ts and api/main.ts make them. */
async function deskWith(keys: EncryptionKeys, taskQueue: string, notifier: Notifier = new LogNotifier(silent)) {
  const worker = await createDeskWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    pool: db.pool,
    notifier,
    integrations: logIntegrations(silent),
    encryptionKeys: keys,
    workflowBundle: bundle,
  });
  const client = new Client({ connection: env.connection, dataConverter: deskDataConverter(keys) });
  return { worker, client };
}

function fileTicket(client: Client, taskQueue: string, ticket: TicketIntake) {
  return client.workflow.start<typeof ticketWorkflow>('ticketWorkflow', {
    taskQueue,
    workflowId: ticketWorkflowId(ticket.id),
    args: [{ ticket, policy: resolveTicketPolicy(DEFAULT_POLICY, ticket.channel) }],
    staticSummary: `Private ${ticket.channel} ticket, tier ${ticket.tier}`,
  });
}

/** The history as Temporal keeps it, read by a client that has no key. */
function rawHistory(workflowId: string): Promise<History> {
  return new Client({ connection: env.connection }).workflow.getHandle(workflowId).fetchHistory();
}

/** Every payload in a history, with where it is (e.g. `events.0.workflowExecutionStartedEventAttributes.input.payloads.0`). */
function payloadsOf(value: unknown, at = ''): Array<{ at: string; payload: Payload }> {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return [];
  const { metadata, data } = value as Payload;
  if (ArrayBuffer.isView(data) && typeof metadata === 'object') return [{ at, payload: value as Payload }];
  return Object.entries(value).flatMap(([key, inner]) => payloadsOf(inner, at ? `${at}.${key}` : key));
}

const metadata = (p: Payload, key: string) => (p.metadata?.[key] ? Buffer.from(p.metadata[key]!).toString() : undefined);
const isEncrypted = (p: Payload) => metadata(p, 'encoding') === ENCRYPTED_ENCODING;
/**
 * What the server must be able to read: search attributes (it indexes them), the SDK's patch markers,
 * and the SDK's record of a local activity (its sequence number, attempt, type and times; its result
 * is the marker's `result`, encrypted). The last is checked to hold only those fields.
 */
const readableByDesign = (at: string) =>
  /\.searchAttributes\.|\.markerRecordedEventAttributes\.details\.(patch-data|data)\./.test(at);
const LOCAL_ACTIVITY_RECORD = ['activity_id', 'activity_type', 'attempt', 'backoff', 'complete_time', 'original_schedule_time', 'seq'];

describe('a private ticket in Temporal', () => {
  const who = { name: 'Zephyrine Quillfeather', email: 'zephyrine.quillfeather@private.example' };
  const subject = 'Payslip for Quillfeather shows the wrong IBAN';
  const description = 'My IBAN is NL91 ABNA 0417 1643 00, please fix before the 25th.';
  const reply = 'We corrected the IBAN ending 1643 00 on your record.';
  const secrets = [who.name, who.email, subject, description, reply];

  it('is unreadable without the key (its failures too) and whole with it', async () => {
    const taskQueue = `encryption-${unique()}`;
    // The helpdesk refuses the answer to the requester, quoting her address: a failure full of personal data.
    const refusing: Notifier = {
      driver: 'refusing',
      async deliver(n) {
        if (n.audience === 'requester') {
          throw ApplicationFailure.nonRetryable(`the mailbox of ${who.email} refused "${n.text}"`, 'IntegrationRejected', { system: 'helpdesk' });
        }
      },
    };
    const { worker, client } = await deskWith(testKeys, taskQueue, refusing);
    const ticket = ticketIntake({ private: true, subject, description, requester: who });
    const workflowId = ticketWorkflowId(ticket.id);

    const view = await worker.runUntil(async () => {
      const handle = await fileTicket(client, taskQueue, ticket);
      await handle.executeUpdate(acknowledgeUpdate, { args: [{ by: 'alice' }] });
      const message = await storedMessage(db, workflowId, reply);
      await handle.executeUpdate(replyUpdate, { args: [{ by: 'alice', role: 'agent', message }] });
      // The refusal reaches the workflow with its words: the sandbox decoded the failure.
      return eventually(
        () => handle.query(ticketStateQuery),
        (v: TicketView) => v.timeline.some((e) => e.event === 'notification refused'),
      );
    });
    expect(view.ticket.requester).toEqual(who);
    expect(view.timeline.find((e) => e.event === 'notification refused')?.note).toContain(who.email);

    const raw = await rawHistory(workflowId);
    // The acknowledgement and the reply to the requester, both refused.
    const failures = raw.events!.flatMap((e) => e.activityTaskFailedEventAttributes?.failure ?? []);
    expect(failures.length).toBeGreaterThanOrEqual(2);

    // Without the key: no trace in the JSON export, the stored bytes, or any payload's data.
    const json = historyToJSON(raw);
    const bytes = Buffer.from(temporal.api.history.v1.History.encode(raw).finish());
    const payloads = payloadsOf(raw);
    for (const secret of secrets) {
      expect(json).not.toContain(secret);
      expect(bytes.includes(secret)).toBe(false);
      for (const { payload } of payloads) expect(Buffer.from(payload.data ?? []).includes(secret)).toBe(false);
    }
    expect(payloads.filter(({ at, payload }) => !isEncrypted(payload) && !readableByDesign(at)).map(({ at }) => at)).toEqual([]);
    const localActivityRecords = payloads.filter(({ at }) => /\.markerRecordedEventAttributes\.details\.data\./.test(at));
    expect(localActivityRecords.length).toBeGreaterThan(0);
    for (const { payload } of localActivityRecords) {
      expect(Object.keys(JSON.parse(Buffer.from(payload.data!).toString())).sort()).toEqual(LOCAL_ACTIVITY_RECORD);
    }
    expect(payloads.filter(({ payload }) => isEncrypted(payload)).every(({ payload }) => metadata(payload, KEY_ID_METADATA) === 'test-1')).toBe(true);
    // A failure's message and stack trace are an encrypted payload too.
    for (const failure of failures) {
      expect(failure.message).toBe('Encoded failure');
      expect(failure.stackTrace).toBe('');
      expect(isEncrypted(failure.encodedAttributes!)).toBe(true);
    }

    // With the key: every payload decodes, and there they all are.
    const codec = new AesGcmCodec(testKeys);
    const decoded = await codec.decode(payloads.map(({ payload }) => payload));
    const readable = decoded.map((p) => Buffer.from(p.data ?? []).toString()).join('\n');
    for (const secret of secrets) expect(readable).toContain(secret);
    const attributes = (await codec.decode(failures.map((f) => f.encodedAttributes!))).map((p) =>
      defaultPayloadConverter.fromPayload<{ message: string; stack_trace: string }>(p),
    );
    expect(attributes.map((a) => a.message)).toContain(`the mailbox of ${who.email} refused "${reply}"`);
    for (const { stack_trace } of attributes) expect(stack_trace).toContain('ApplicationFailure');
  });
});

describe('rotating the key', () => {
  it('a ticket opened under test-1 is still read and acted on after the desk restarts with test-2 first', async () => {
    const taskQueue = `rotation-${unique()}`;
    const ticket = ticketIntake({ private: true, requester: { name: 'Ines Rotating', email: 'ines@private.example' } });
    const workflowId = ticketWorkflowId(ticket.id);

    const before = await deskWith(testKeys, taskQueue);
    await before.worker.runUntil(async () => {
      const handle = await fileTicket(before.client, taskQueue, ticket);
      await eventually(() => handle.query(ticketStateQuery), (v: TicketView) => v.status === 'open');
    });

    // Deployed with SUPPORT_DESK_ENCRYPTION_KEYS=test-2:...,test-1:...
    const after = await deskWith(rotatedTestKeys, taskQueue);
    const acknowledged = await after.worker.runUntil(async () => {
      const handle = after.client.workflow.getHandle<typeof ticketWorkflow>(workflowId);
      const view = await handle.query(ticketStateQuery);
      expect(view.ticket.requester).toEqual(ticket.requester);
      return handle.executeUpdate(acknowledgeUpdate, { args: [{ by: 'alice' }] });
    });
    expect(acknowledged).toMatchObject({ id: ticket.id, status: 'acknowledged' });

    const events = (await rawHistory(workflowId)).events!;
    const keyOf = (p: Payload | null | undefined) => (p ? metadata(p, KEY_ID_METADATA) : undefined);
    const started = events[0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0];
    const update = events.find((e) => e.workflowExecutionUpdateAcceptedEventAttributes)!.workflowExecutionUpdateAcceptedEventAttributes!;
    const answer = events.find((e) => e.workflowExecutionUpdateCompletedEventAttributes)!.workflowExecutionUpdateCompletedEventAttributes!;
    expect(keyOf(started)).toBe('test-1');
    expect(keyOf(update.acceptedRequest!.input!.args!.payloads![0])).toBe('test-2'); // the new client's request
    expect(keyOf(answer.outcome!.success!.payloads![0])).toBe('test-2'); // the new worker's answer
    // A process that lost test-1 could not read what it wrote, and says which key to add.
    await expect(new AesGcmCodec(onlySecondTestKey).decode([started!])).rejects.toThrow(
      'a payload is encrypted with key "test-1", which this process does not have: add it to SUPPORT_DESK_ENCRYPTION_KEYS',
    );
  });
});
