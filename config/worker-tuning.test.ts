// The worker's limits from the environment: defaults for a 1 GiB worker, a clear error for a value that
// is not a count, and the heap flag given to the process that runs it.
import { heapProblem, WORKER_TUNING_DEFAULTS, workerNodeOptions, workerTuningFromEnv } from './worker-tuning';

it('is the documented defaults with nothing set', () => {
  expect(workerTuningFromEnv({})).toEqual(WORKER_TUNING_DEFAULTS);
  expect(heapProblem(WORKER_TUNING_DEFAULTS, WORKER_TUNING_DEFAULTS.heapMb)).toBeUndefined();
});

it('reads every limit from its variable', () => {
  expect(
    workerTuningFromEnv({
      WORKER_MAX_CACHED_WORKFLOWS: '0',
      WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '8',
      WORKER_MAX_CONCURRENT_ACTIVITIES: '16',
      WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: '32',
      WORKER_HEAP_MB: '2048',
      WORKER_SHUTDOWN_GRACE_SECONDS: '0',
    }),
  ).toEqual({ maxCachedWorkflows: 0, maxConcurrentWorkflowTaskExecutions: 8, maxConcurrentActivityTaskExecutions: 16, maxConcurrentLocalActivityExecutions: 32, heapMb: 2048, shutdownGraceSeconds: 0 });
});

it.each(['-1', '1.5', 'lots', '1e3', ' ', '0x10'])('refuses %j naming the variable and its default', (text) => {
  expect(() => workerTuningFromEnv({ WORKER_MAX_CONCURRENT_ACTIVITIES: text })).toThrow(
    /WORKER_MAX_CONCURRENT_ACTIVITIES=.* is not a whole number of at least 1 \(default 100\)/,
  );
});

it('refuses no workflow tasks at all (a cache of none is allowed)', () => {
  expect(() => workerTuningFromEnv({ WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '0' })).toThrow(/at least 1/);
  expect(workerTuningFromEnv({ WORKER_MAX_CACHED_WORKFLOWS: '0', WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '1' })).toMatchObject({ maxCachedWorkflows: 0, maxConcurrentWorkflowTaskExecutions: 1 });
});

it('refuses what the SDK would quietly change: a cache of 1, one task with a cache, more tasks than cached workflows', () => {
  expect(() => workerTuningFromEnv({ WORKER_MAX_CACHED_WORKFLOWS: '1' })).toThrow(/use 0 \(no cache\) or at least 2/);
  expect(() => workerTuningFromEnv({ WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '1' })).toThrow(/at least 2 while workflows are cached/);
  expect(() => workerTuningFromEnv({ WORKER_MAX_CACHED_WORKFLOWS: '10' })).toThrow(/WORKER_MAX_CONCURRENT_WORKFLOW_TASKS=40 is more than WORKER_MAX_CACHED_WORKFLOWS=10/);
  expect(workerTuningFromEnv({ WORKER_MAX_CACHED_WORKFLOWS: '10', WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '10' }).maxCachedWorkflows).toBe(10);
});

it('gives the heap flag first and keeps the other NODE_OPTIONS', () => {
  const tuning = { ...WORKER_TUNING_DEFAULTS, heapMb: 900 };
  expect(workerNodeOptions(tuning, '--max-old-space-size=100 --enable-source-maps')).toBe('--max-old-space-size=900 --enable-source-maps');
  expect(workerNodeOptions(tuning)).toBe('--max-old-space-size=900');
});

it('says when the heap is too small for the cache', () => {
  expect(heapProblem({ ...WORKER_TUNING_DEFAULTS, maxCachedWorkflows: 10_000 }, 640)).toMatch(/10000 cached workflows need about 4200 MB: raise WORKER_HEAP_MB/);
});
