/// <reference lib="dom" />
// The dashboard in a real browser (Debian's Chromium, driven by puppeteer-core) over seeded data: it
// loads without a console error, its numbers and charts are the reports' answers, a filter changes
// them, a number opens the tickets behind it, and a key without the supervisor's role is told why.
// Screenshots go to .artifacts/.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { TestCredentials } from './credentials';
import { seededReportsDesk, type ReportsDesk } from './reports-desk';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, '..', '.artifacts');
// Seeded up to this hour: the page asks for the last 30 days and what is at risk now, by the real clock.
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const RANGE = { from: '2026-11-01', to: '2026-12-01', timeZone: 'UTC' };

let desk: ReportsDesk;
let browser: Browser;
let credentials: TestCredentials;
let api: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (.ci/run does), or set CHROMIUM_PATH`);
  desk = await seededReportsDesk({ tickets: 400, days: 30, now: NOW, seed: 7 });
  ({ api, credentials } = desk);
  browser = await puppeteer.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
  mkdirSync(ARTIFACTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await desk?.stop();
});

/** A report as the API answers it to a supervisor. */
async function reportRows(name: string, query: Record<string, string>): Promise<Array<Record<string, any>>> {
  const res = await fetch(`${api}/reports/${name}?${new URLSearchParams(query)}`, { headers: await credentials.headers('sue', 'supervisor') });
  expect(res.status).toBe(200);
  return ((await res.json()) as { rows: Array<Record<string, any>> }).rows;
}

/** The page, with every console error and uncaught exception collected. */
async function openDashboard(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1800 });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`);
  });
  await page.goto(`${api}/dashboard?${new URLSearchParams(RANGE)}`, { waitUntil: 'load' });
  await page.waitForFunction(() => document.body.dataset.state === 'needs-key', { timeout: 15_000 });
  return { page, errors };
}

async function useKey(page: Page, key: string, state: 'ready' | 'error'): Promise<void> {
  await page.type('#key', key);
  await page.click('#key-form button');
  await page.waitForFunction((s) => document.body.dataset.state === s, { timeout: 30_000 }, state);
}

const number = (page: Page, id: string) => page.$eval(`#${id} .value`, (el) => el.textContent);
const chartData = (page: Page, id: string) =>
  page.evaluate((canvas) => {
    const chart = (window as any).Chart.getChart(document.getElementById(canvas));
    return { labels: chart.data.labels, datasets: chart.data.datasets.map((d: any) => ({ label: d.label, data: d.data })) };
  }, id);

it('shows the seeded numbers and charts, a filter changes them, and a number opens its tickets', async () => {
  const { page, errors } = await openDashboard();
  const key = (await credentials.headers('sue', 'supervisor')).authorization!.slice('Bearer '.length);
  await useKey(page, key, 'ready');

  const volume = await reportRows('volume', { ...RANGE, groupBy: 'day' });
  const opened = volume.filter((r) => r.kind === 'ticket').reduce((n, r) => n + r.opened, 0);
  expect(opened).toBeGreaterThan(300);
  expect(await number(page, 'n-opened')).toBe(String(opened));
  const backlog = await reportRows('backlog', { ...RANGE, groupBy: 'day' });
  expect(backlog).toHaveLength(30);
  expect(await chartData(page, 'chart-volume')).toMatchObject({
    labels: backlog.map((r) => r.period),
    datasets: [{ label: 'opened', data: backlog.map((r) => r.opened) }, { label: 'resolved', data: backlog.map((r) => r.resolved) }, { data: backlog.map((r) => r.open) }],
  });
  const bands = await reportRows('first-reply-distribution', RANGE);
  expect((await chartData(page, 'chart-first-reply')).datasets[0]!.data).toEqual(bands.map((r) => r.tickets));
  const attainment = await reportRows('sla-attainment', RANGE);
  const tier1 = attainment.find((r) => r.target === 'resolution' && r.tier === '1' && r.channel === 'all')!;
  const chart = await chartData(page, 'chart-attainment');
  expect(chart.datasets.find((d: any) => d.label === 'resolution').data[0]).toBe(tier1.attainmentPercent);
  expect(await page.$$eval('#at-risk tbody tr', (rows) => rows.length)).toBeGreaterThan(0);
  await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });

  // Only helpdesk: the numbers and charts follow.
  await page.select('#channel', 'helpdesk');
  await page.click('#filters button');
  await page.waitForFunction(() => document.body.dataset.state === 'ready', { timeout: 30_000 });
  const helpdesk = (await reportRows('volume', { ...RANGE, groupBy: 'day', channel: 'helpdesk' })).reduce((n, r) => n + r.opened, 0);
  expect(helpdesk).toBeLessThan(opened);
  expect(await number(page, 'n-opened')).toBe(String(helpdesk));
  const helpdeskBacklog = await reportRows('backlog', { ...RANGE, groupBy: 'day', channel: 'helpdesk' });
  expect((await chartData(page, 'chart-volume')).datasets[0]!.data).toEqual(helpdeskBacklog.map((r) => r.opened));

  // "open now" lists the open helpdesk tickets: the same as GET /tickets answers.
  await page.click('#n-open');
  await page.waitForFunction(() => document.getElementById('list')!.dataset.count !== undefined, { timeout: 15_000 });
  const listed = await fetch(`${api}/tickets?open=true&channel=helpdesk`, { headers: await credentials.headers('sue', 'supervisor') }).then((r) => r.json() as Promise<{ tickets: unknown[] }>);
  expect(listed.tickets.length).toBeGreaterThan(0);
  expect(await page.$eval('#list', (el) => (el as HTMLElement).dataset.count)).toBe(String(listed.tickets.length));
  expect(await page.$eval('#list-url', (el) => el.textContent)).toBe('GET /tickets?open=true&channel=helpdesk');
  await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-helpdesk.png'), fullPage: true });
  expect(errors).toEqual([]);
  await page.close();
}, 120_000);

it("an agent's key is told the reports are a supervisor's", async () => {
  const { page } = await openDashboard();
  const key = (await credentials.headers('alice', 'agent')).authorization!.slice('Bearer '.length);
  await useKey(page, key, 'error');
  expect(await page.$eval('#error', (el) => el.textContent)).toMatch(/403 .*needs the role supervisor or admin/);
  await page.close();
}, 60_000);
