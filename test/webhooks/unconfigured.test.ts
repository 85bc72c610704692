// A webhook whose secret is not configured answers 503 naming the variable to set, before it reads
// or touches anything (no Temporal, no database needed to say so).
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApp } from '../../api/app';
import { DEMO_POLICY } from '../../domain/policy';

let server: Server;
let url: string;
const VARIABLES = ['SLACK_SIGNING_SECRET', 'ZENDESK_WEBHOOK_SECRET', 'PAGERDUTY_WEBHOOK_SECRETS', 'GITLAB_WEBHOOK_TOKEN'];

beforeAll(async () => {
  const saved = VARIABLES.map((v) => [v, process.env[v]] as const);
  for (const v of VARIABLES) delete process.env[v];
  process.env.PAGERDUTY_WEBHOOK_SECRETS = ' , '; // set, but holding no secret
  // The webhook routes answer 503 before they would use Temporal or PostgreSQL.
  const app = createApp({ client: undefined as never, pool: { query: async () => ({ rows: [] }) } as never, policy: DEMO_POLICY, taskQueue: 'none', temporalUiUrl: '', auth: { principalOf: async () => null } });
  for (const [v, value] of saved) {
    if (value === undefined) delete process.env[v];
    else process.env[v] = value;
  }
  server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

test.each([
  ['slack', 'SLACK_SIGNING_SECRET'],
  ['zendesk', 'ZENDESK_WEBHOOK_SECRET'],
  ['pagerduty', 'PAGERDUTY_WEBHOOK_SECRETS'],
  ['gitlab', 'GITLAB_WEBHOOK_TOKEN'],
])('POST /webhooks/%s without its secret answers 503 naming %s', async (source, variable) => {
  const res = await fetch(`${url}/webhooks/${source}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-gitlab-token': 'anything' },
    body: '{"type":"event_callback"}',
  });
  expect(res.status).toBe(503);
  expect(((await res.json()) as { error: string }).error).toBe(`this webhook is not configured: set ${variable} to the secret the sender signs with`);
});
