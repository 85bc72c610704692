// The Temporal Web UI in a real browser (Debian's Chromium, driven by puppeteer-core), as an operator
// and as someone without the key: the dev server's UI decodes through the API's codec server, so a
// private ticket's input shows in plain text only in a browser holding a decode key; without that
// key, or with the codec endpoint removed, the UI has nothing but ciphertext to show.
import { existsSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import pino from 'pino';
import puppeteer, { type Browser } from 'puppeteer-core';
import { logIntegrations } from '../activities/integrations';
import { LogNotifier } from '../activities/notifier';
import { createApp } from '../api/app';
import { DEMO_POLICY } from '../domain/policy';
import { createDeskWorker } from '../workers/worker';
import { bearer, TEST_ADMIN_KEY, testCredentials, type TestCredentials } from './credentials';
import { freePort } from './desk-processes';
import { testKeys } from './encryption';
import { createTestDatabase, type TestDatabase } from './postgres';
import { bundleWorkflows, devServerEnvironment } from './temporal';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, '..', '.artifacts');
const quiet = pino({ level: 'silent' });

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let worker: Worker;
let running: Promise<void>;
let server: Server;
let browser: Browser;
let credentials: TestCredentials;
let api: string;
let ui: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (.ci/run does), or set CHROMIUM_PATH`);
  const [apiPort, uiPort] = [await freePort(), await freePort()];
  api = `http://localhost:${apiPort}`;
  ui = `http://localhost:${uiPort}`;
  const taskQueue = `ui-codec-${process.pid}`;
  const bundle = await bundleWorkflows();
  [env, db] = await Promise.all([devServerEnvironment({ port: uiPort, codecEndpoint: `${api}/codec` }), createTestDatabase()]);
  credentials = await testCredentials(db.pool);
  worker = await createDeskWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    pool: db.pool,
    notifier: new LogNotifier(quiet),
    integrations: logIntegrations(quiet),
    encryptionKeys: testKeys,
    workflowBundle: bundle,
  });
  running = worker.run();
  const app = createApp({
    client: env.client,
    pool: db.pool,
    policy: DEMO_POLICY,
    taskQueue,
    temporalUiUrl: ui,
    auth: credentials.auth,
    encryptionKeys: testKeys,
    codecOrigins: [ui, `http://127.0.0.1:${uiPort}`],
  });
  server = await new Promise((resolve) => {
    const s = app.listen(apiPort, '127.0.0.1', () => resolve(s));
  });
  browser = await puppeteer.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  worker?.shutdown();
  await running;
  await env?.teardown();
  await db?.drop();
});

/** The page text of a workflow in the UI, once its input has been shown (decoded or not). */
async function workflowPage(
  workflowId: string,
  { cookieFrom, codec }: { cookieFrom?: string; codec?: 'settings' | 'removed' } = {},
): Promise<string> {
  const context = await browser.createBrowserContext(); // its own cookies and storage
  try {
    const page = await context.newPage();
    if (cookieFrom) {
      // The operator trades a key for the codec cookie, as a person would with the form.
      await page.goto(`${api}/codec/session`);
      await page.type('input[name=key]', cookieFrom);
      await Promise.all([page.waitForNavigation(), page.click('button')]);
    }
    await page.goto(ui);
    // The UI's own codec settings ("Include cross-origin credentials", or no endpoint at all), kept in the browser.
    await page.evaluate(
      (mode, endpoint) => {
        if (!mode) return;
        const { localStorage } = globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } };
        localStorage.setItem('overrideRemoteCodecConfiguration', 'true');
        localStorage.setItem('includeCredentials', 'true');
        localStorage.setItem('endpoint', JSON.stringify(mode === 'removed' ? '' : endpoint));
      },
      codec ?? null,
      `${api}/codec`,
    );
    await page.goto(`${ui}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`, { waitUntil: 'networkidle2' });
    // The input is shown once the UI has asked the codec server (or found none): decoded, or the
    // ciphertext as base64. Wait for one of the two, with a deadline.
    await page.waitForFunction(
      () => {
        const text = (globalThis as unknown as { document: { body: { innerText: string } } }).document.body.innerText;
        const input = text.slice(text.indexOf('Input'), text.indexOf('Input') + 3000);
        return text.includes('Input') && (/Cordelia/.test(input) || /[A-Za-z0-9+/]{100,}/.test(input));
      },
      { timeout: 60_000 },
    );
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, `ui-codec-${cookieFrom ? 'operator' : codec ?? 'anonymous'}.png`), fullPage: true });
    return await page.evaluate(() => (globalThis as unknown as { document: { body: { innerText: string } } }).document.body.innerText);
  } finally {
    await context.close();
  }
}

test("an operator with a decode key sees a private ticket's input decoded; without the key, or without the codec endpoint, the UI has only ciphertext", async () => {
  const filed = await fetch(`${api}/tickets`, {
    method: 'POST',
    headers: { ...bearer(TEST_ADMIN_KEY), 'content-type': 'application/json' },
    body: JSON.stringify({ subject: 'Garnishment order', private: true, requester: { name: 'Cordelia Cipher', email: 'cordelia@example.com' } }),
  });
  expect(filed.status).toBe(201);
  const { workflowId } = (await filed.json()) as { workflowId: string };

  const operator = await workflowPage(workflowId, { cookieFrom: TEST_ADMIN_KEY, codec: 'settings' });
  expect(operator).toContain('Cordelia Cipher');
  expect(operator).toContain('cordelia@example.com');

  const agentKey = (await credentials.headers('alice', 'agent')).authorization.slice('Bearer '.length);
  for (const [who, text] of [
    ['no cookie', await workflowPage(workflowId, { codec: 'settings' })],
    ['an agent (no decode permission)', await workflowPage(workflowId, { cookieFrom: agentKey, codec: 'settings' })],
    ['no codec endpoint', await workflowPage(workflowId, { cookieFrom: TEST_ADMIN_KEY, codec: 'removed' })],
  ] as const) {
    expect([who, text.includes('Cordelia'), text.includes('cordelia@example.com')]).toEqual([who, false, false]);
    expect([who, /[A-Za-z0-9+/]{100,}/.test(text)]).toEqual([who, true]); // what it shows is the ciphertext
  }
}, 180_000);
