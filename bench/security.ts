// What the desk's protections cost, each against its baseline in the same run:
// - the payload codec: µs to encode and decode a ticket-sized payload, AES-256-GCM vs no codec;
// - authentication: GET /me (an API key checked against PostgreSQL) vs GET /healthz (public, one query);
// - an action over HTTP (key, role, holder check, audit row, encrypted update) vs the same update
//   sent straight to the workflow with the codec (what the API adds).
// Run: `npm run bench:security -- --requests 500`.
import { randomBytes } from 'node:crypto';
import { DefaultPayloadConverter } from '@temporalio/common';
import { AesGcmCodec } from '../config/encryption';
import { DEMO_POLICY } from '../domain/policy';
import { acknowledgeUpdate, ticketWorkflowId } from '../domain/ticket';
import { testKeys } from '../test/encryption';
import { flag, percentile, startBenchDesk } from './desk';

const REQUESTS = flag('requests', 500);

function timeIt(runs: number, f: () => unknown): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) f();
  return Number(process.hrtime.bigint() - started) / 1_000 / runs;
}

async function codecCost(): Promise<void> {
  const converter = new DefaultPayloadConverter();
  const codec = new AesGcmCodec(testKeys);
  const ticket = { subject: 'Cannot log in to the VPN', description: 'x'.repeat(1_500), requester: { name: 'Sam', email: 'sam@example.com' } };
  const runs = 20_000;
  const plain = timeIt(runs, () => converter.toPayload(ticket));
  const payload = converter.toPayload(ticket);
  const started = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) await codec.decode(await codec.encode([payload]));
  const coded = Number(process.hrtime.bigint() - started) / 1_000 / runs;
  console.log(`payload of ${payload.data!.length} bytes: to payload ${plain.toFixed(1)} µs; AES-256-GCM encode + decode ${coded.toFixed(1)} µs (${(coded / plain).toFixed(1)}× the conversion)`);
}

async function main(): Promise<void> {
  await codecCost();
  const desk = await startBenchDesk(DEMO_POLICY);
  try {
    const sample = async (path: string) => {
      const ms: number[] = [];
      for (let i = 0; i < REQUESTS; i++) ms.push((await desk.get(path)).ms);
      return ms;
    };
    await sample('/healthz'); // warm up
    const open = await sample('/healthz');
    const authed = await sample('/me');
    console.log(
      `GET /healthz (public) p50 ${percentile(open, 50).toFixed(2)} ms p99 ${percentile(open, 99).toFixed(2)} ms; ` +
        `GET /me (API key) p50 ${percentile(authed, 50).toFixed(2)} ms p99 ${percentile(authed, 99).toFixed(2)} ms: ` +
        `authentication adds ${(percentile(authed, 50) - percentile(open, 50)).toFixed(2)} ms p50`,
    );

    // One ticket per request, so every reply is the first action of its ticket on both paths.
    const file = async () => (await desk.post('/tickets', { subject: `bench ${randomBytes(4).toString('hex')}` })).body.id as string;
    const viaApi: number[] = [];
    const direct: number[] = [];
    const n = Math.min(REQUESTS, 200);
    for (let i = 0; i < n; i++) {
      const id = await file();
      viaApi.push((await desk.post(`/tickets/${id}/acknowledge`, {})).ms);
      const other = await file();
      const handle = desk.env.client.workflow.getHandle(ticketWorkflowId(other));
      const started = performance.now();
      await handle.executeUpdate(acknowledgeUpdate, { args: [{ by: 'admin' }] });
      direct.push(performance.now() - started);
    }
    console.log(
      `acknowledge over HTTP p50 ${percentile(viaApi, 50).toFixed(1)} ms p99 ${percentile(viaApi, 99).toFixed(1)} ms; ` +
        `the same update sent straight p50 ${percentile(direct, 50).toFixed(1)} ms p99 ${percentile(direct, 99).toFixed(1)} ms: ` +
        `the API adds ${(percentile(viaApi, 50) - percentile(direct, 50)).toFixed(1)} ms p50 (${n} tickets each)`,
    );
  } finally {
    await desk.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
