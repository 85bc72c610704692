// Polls (in real time, briefly) until what a test waits for has happened: a workflow processing
// what skipped time fired, a projection row, a search attribute catching up.
//
// A read that does not answer within READ_TIMEOUT_MS is asked again: the time-skipping test server
// loses a query that reaches a run just as it continues as new (its answer never comes back), and a
// later query reaches the new run.
const READ_TIMEOUT_MS = 3_000;

export async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const start = Date.now();
  let last: { value: T } | null = null;
  for (;;) {
    const answer = await answerWithin(read(), READ_TIMEOUT_MS);
    if (answer) {
      last = answer;
      if (ok(answer.value)) return answer.value;
    }
    if (Date.now() - start > timeoutMs) {
      if (last) return last.value;
      throw new Error(`eventually: no read answered within ${READ_TIMEOUT_MS} ms in ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function answerWithin<T>(promise: Promise<T>, ms: number): Promise<{ value: T } | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  // A read that fails keeps failing the test as before; one that never answers is asked again.
  promise.catch(() => undefined);
  try {
    return await Promise.race([promise.then((value) => ({ value })), late]);
  } finally {
    clearTimeout(timer);
  }
}
