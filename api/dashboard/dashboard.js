// The dashboard: reads the reports (GET /reports/...) with the supervisor's key and draws them with
// Chart.js. Everything it shows comes from the API; text from the API is set as text, never as HTML.
// document.body.dataset.state says where it is (loading, ready, error): the browser test waits on it.
'use strict';

const KEY = 'support-desk.dashboard.key';
const $ = (id) => document.getElementById(id);
const charts = {};

function setState(state) {
  document.body.dataset.state = state;
}

function showError(message) {
  const el = $('error');
  el.textContent = message;
  el.hidden = false;
  setState('error');
}

async function api(path) {
  const key = sessionStorage.getItem(KEY);
  const res = await fetch(path, { headers: { accept: 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${path.split('?')[0]}: ${res.status} ${body.error ?? res.statusText}`);
  return body;
}

/** The UTC instant of local midnight of `date` (YYYY-MM-DD) in `timeZone`. */
function zonedMidnight(date, timeZone) {
  const [y, m, d] = date.split('-').map(Number);
  const guess = Date.UTC(y, m - 1, d);
  const offset = (at) => {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
        .formatToParts(new Date(at))
        .map((p) => [p.type, p.value]),
    );
    return Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second) - at;
  };
  const first = guess - offset(guess);
  return new Date(guess - offset(first)).toISOString();
}

function filters() {
  return { from: $('from').value, to: $('to').value, timeZone: $('timeZone').value || 'UTC', groupBy: $('groupBy').value, channel: $('channel').value };
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== undefined) q.set(k, String(v));
  return q.toString();
}

const duration = (ms) => {
  if (ms === null || ms === undefined) return '–';
  const min = Math.round(Math.abs(ms) / 60000);
  const text = min < 60 ? `${min} min` : min < 2880 ? `${(min / 60).toFixed(1)} h` : `${(min / 1440).toFixed(1)} d`;
  return ms < 0 ? `−${text}` : text;
};
const sum = (rows, column) => rows.reduce((total, r) => total + (Number(r[column]) || 0), 0);

function setNumber(id, text) {
  $(id).querySelector('.value').textContent = text;
}

function draw(id, config) {
  if (charts[id]) charts[id].destroy();
  charts[id] = new Chart($(id), { ...config, options: { responsive: true, maintainAspectRatio: false, animation: false, ...(config.options ?? {}) } });
}

async function load() {
  setState('loading');
  $('error').hidden = true;
  const f = filters();
  const base = { from: f.from, to: f.to, timeZone: f.timeZone };
  const withChannel = { ...base, channel: f.channel };
  const grouped = { ...withChannel, groupBy: f.groupBy };
  try {
    const [volume, backlog, times, attainment, bands, satisfaction, breaches, atRisk] = await Promise.all([
      api(`/reports/volume?${query(grouped)}`),
      api(`/reports/backlog?${query(grouped)}`),
      api(`/reports/response-times?${query(withChannel)}`),
      api(`/reports/sla-attainment?${query(withChannel)}`),
      api(`/reports/first-reply-distribution?${query(withChannel)}`),
      api(`/reports/satisfaction?${query(grouped)}`),
      api(`/reports/breaches?${query(grouped)}`),
      api(`/reports/at-risk?${query(withChannel)}`),
    ]);
    const tickets = volume.rows.filter((r) => r.kind === 'ticket');
    setNumber('n-opened', String(sum(tickets, 'opened')));
    setNumber('n-resolved', String(sum(tickets, 'resolved')));
    setNumber('n-open', String(backlog.rows.length ? backlog.rows[backlog.rows.length - 1].open : 0));
    const overall = attainment.rows.filter((r) => r.tier === 'all' && r.channel === 'all' && r.target !== 'acknowledgement');
    const met = sum(overall, 'met');
    const decided = met + sum(overall, 'breached');
    setNumber('n-attainment', decided ? `${((100 * met) / decided).toFixed(1)} %` : '–');
    const firstReply = times.rows.find((r) => r.measure === 'first-reply' && r.clock === 'calendar' && r.tier === 'all');
    setNumber('n-first-reply', duration(firstReply ? firstReply.medianMs : null));
    const answered = sum(satisfaction.rows, 'answered');
    setNumber('n-csat', answered ? `${((100 * (sum(satisfaction.rows, 'score4') + sum(satisfaction.rows, 'score5'))) / answered).toFixed(1)} %` : '–');
    setNumber('n-breaches', String(sum(breaches.rows, 'breaches')));

    draw('chart-volume', {
      type: 'line',
      data: {
        labels: backlog.rows.map((r) => r.period),
        datasets: [
          { label: 'opened', data: backlog.rows.map((r) => r.opened), borderColor: '#2b6cb0' },
          { label: 'resolved', data: backlog.rows.map((r) => r.resolved), borderColor: '#2f855a' },
          { label: 'open at the end', data: backlog.rows.map((r) => r.open), borderColor: '#a0aec0', borderDash: [4, 4] },
        ],
      },
    });
    const tiers = attainment.rows.filter((r) => r.tier !== 'all' && r.channel === 'all');
    const targets = [...new Set(tiers.map((r) => r.target))];
    draw('chart-attainment', {
      type: 'bar',
      data: {
        labels: ['1', '2', '3'].map((t) => `tier ${t}`),
        datasets: targets.map((target, i) => ({
          label: target,
          data: ['1', '2', '3'].map((t) => tiers.find((r) => r.target === target && r.tier === t)?.attainmentPercent ?? null),
          backgroundColor: ['#2b6cb0', '#2f855a', '#b7791f'][i % 3],
        })),
      },
      options: { scales: { y: { min: 0, max: 100 } } },
    });
    draw('chart-first-reply', {
      type: 'bar',
      data: { labels: bands.rows.map((r) => r.band), datasets: [{ label: 'tickets', data: bands.rows.map((r) => r.tickets), backgroundColor: '#2b6cb0' }] },
    });
    draw('chart-csat', {
      type: 'line',
      data: { labels: satisfaction.rows.map((r) => r.period), datasets: [{ label: 'CSAT %', data: satisfaction.rows.map((r) => r.csatPercent), borderColor: '#2f855a', spanGaps: true }] },
      options: { scales: { y: { min: 0, max: 100 } } },
    });
    const byChannel = {};
    for (const r of breaches.rows) byChannel[r.channel] = (byChannel[r.channel] ?? 0) + r.breaches;
    draw('chart-breaches', {
      type: 'bar',
      data: { labels: Object.keys(byChannel), datasets: [{ label: 'breaches', data: Object.values(byChannel), backgroundColor: '#c53030' }] },
    });

    const body = $('at-risk').querySelector('tbody');
    body.replaceChildren(
      ...atRisk.rows.slice(0, 20).map((r) => {
        const tr = document.createElement('tr');
        const cells = [r.id, r.tier, r.channel, r.assignee ?? 'nobody', r.resolutionDueAt, duration(r.leftMs), duration(r.typicalNeedMs), duration(r.marginMs)];
        for (const [i, text] of cells.entries()) {
          const td = document.createElement('td');
          if (i === 0) {
            const a = document.createElement('a');
            a.href = '#';
            a.textContent = String(text);
            a.addEventListener('click', (e) => {
              e.preventDefault();
              showList(`Ticket ${r.id}`, `/tickets/${encodeURIComponent(r.id)}`);
            });
            td.append(a);
          } else td.textContent = String(text ?? '');
          if (i === 7 && r.marginMs < 0) td.className = 'late';
          tr.append(td);
        }
        return tr;
      }),
    );
    setState('ready');
  } catch (err) {
    showError(err.message);
  }
}

/** The tickets behind a number: GET /tickets with the filters the number was counted with. */
function listFor(kind) {
  const f = filters();
  const range = { createdFrom: zonedMidnight(f.from, f.timeZone), createdTo: zonedMidnight(f.to, f.timeZone), channel: f.channel };
  if (kind === 'open') return { title: 'Open tickets', url: `/tickets?${query({ open: 'true', channel: f.channel })}` };
  if (kind === 'resolved') return { title: 'Tickets opened in the range that are resolved or closed', url: `/tickets?${query({ ...range, open: 'false' })}` };
  if (kind === 'breached') return { title: 'Tickets opened in the range that breached an SLA target', url: `/tickets?${query({ ...range, breached: 'true' })}` };
  return { title: 'Tickets opened in the range', url: `/tickets?${query(range)}` };
}

async function showList(title, url) {
  $('list').hidden = false;
  $('list-title').textContent = title;
  $('list-url').textContent = `GET ${url}`;
  const rows = $('list-rows');
  rows.replaceChildren();
  try {
    const answer = await api(url);
    const tickets = answer.tickets ?? [answer];
    for (const t of tickets) {
      const tr = document.createElement('tr');
      for (const text of [t.id ?? t.ticket?.id, t.status, t.tier, t.channel ?? t.ticket?.channel, t.priority ?? t.ticket?.priority, t.assignee, t.subject ?? t.ticket?.subject, t.createdAt ?? t.ticket?.createdAt]) {
        const td = document.createElement('td');
        td.textContent = text === null || text === undefined ? '' : String(text);
        tr.append(td);
      }
      rows.append(tr);
    }
    $('list').dataset.count = String(tickets.length);
  } catch (err) {
    showError(err.message);
  }
}

async function useKey() {
  try {
    const me = await api('/me');
    $('who').textContent = `${me.name} (${me.roles.join(', ')})`;
    const index = await api('/reports');
    const chosen = new URLSearchParams(location.search).get('channel') || $('channel').value;
    $('channel').replaceChildren(new Option('all', ''), ...index.channels.map((c) => new Option(c, c)));
    $('channel').value = chosen;
    await load();
  } catch (err) {
    showError(err.message);
  }
}

function init() {
  const params = new URLSearchParams(location.search);
  const asked = params.get('timeZone') || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  // A zone the browser does not know (a typo in the link) falls back to UTC; the API says what it takes.
  const zone = (() => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: asked });
      return asked;
    } catch {
      return 'UTC';
    }
  })();
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  const shift = (date, days) => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86400000).toISOString().slice(0, 10);
  $('timeZone').value = zone;
  $('to').value = params.get('to') || shift(today, 1);
  $('from').value = params.get('from') || shift($('to').value, -30);
  if (params.get('groupBy')) $('groupBy').value = params.get('groupBy');
  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, $('key').value.trim());
    $('key').value = '';
    useKey();
  });
  $('filters').addEventListener('submit', (e) => {
    e.preventDefault();
    load();
  });
  for (const button of document.querySelectorAll('.number')) {
    button.addEventListener('click', () => {
      const { title, url } = listFor(button.dataset.list);
      showList(title, url);
    });
  }
  if (sessionStorage.getItem(KEY)) useKey();
  else setState('needs-key');
}

document.addEventListener('DOMContentLoaded', init);
