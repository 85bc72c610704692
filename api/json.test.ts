// The one JSON serializer: every time a workflow answers in epoch milliseconds leaves the API as
// ISO 8601, at any depth; nothing else changes.
import fc from 'fast-check';
import express from 'express';
import { isTimeField, jsonAnswerReplacer } from './json';

const key = fc.oneof(fc.constantFrom('at', 'since', 'until', 'createdAt', 'dueAt', 'metAt', 'breachedAt'), fc.string());
const json = fc.letrec((tie) => ({
  value: fc.oneof({ maxDepth: 3 }, fc.integer({ min: 0, max: 8.64e15 }), fc.string(), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
})).value;

/** What the answer should be: times by name turned ISO, the rest as it was. */
function expected(value: unknown, name = ''): unknown {
  if (typeof value === 'number' && isTimeField(name)) return new Date(value).toISOString();
  if (Array.isArray(value)) return value.map((v, i) => expected(v, String(i)));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expected(v, k)]));
  return value;
}

test('times (at, until, ...At) become ISO 8601 and read back to the same instant; durations and the rest stay', () => {
  fc.assert(
    fc.property(json, (value) => {
      const answered = JSON.parse(JSON.stringify(value, jsonAnswerReplacer));
      expect(answered).toEqual(expected(value));
    }),
  );
  const view = { createdAt: 1_764_754_200_000, clocks: { acknowledge: { dueAt: 1_764_754_220_000, elapsedMs: 5_000, target: { withinMs: 20_000 } } }, timeline: [{ at: 0, event: 'created' }] };
  expect(JSON.parse(JSON.stringify(view, jsonAnswerReplacer))).toEqual({
    createdAt: '2025-12-03T09:30:00.000Z',
    clocks: { acknowledge: { dueAt: '2025-12-03T09:30:20.000Z', elapsedMs: 5_000, target: { withinMs: 20_000 } } },
    timeline: [{ at: '1970-01-01T00:00:00.000Z', event: 'created' }],
  });
});

test('express answers with it once the app sets it', async () => {
  const app = express();
  app.set('json replacer', jsonAnswerReplacer);
  app.get('/', (_req, res) => res.json({ resolvedAt: 0, waitingMs: 7 }));
  const server = app.listen(0);
  try {
    const { port } = server.address() as { port: number };
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).json()).toEqual({ resolvedAt: '1970-01-01T00:00:00.000Z', waitingMs: 7 });
  } finally {
    server.close();
  }
});
