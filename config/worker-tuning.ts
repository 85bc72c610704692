// How much a worker takes on, from the environment, with defaults for a worker given 1 GiB of memory.
// Measured with `npm run bench` (README, "Performance"): 0.6-0.7 MB of RSS per cached ticket (an upper
// bound: V8 keeps what it took), so 1,000 cached workflows and the worker itself peaked at 888 MB with
// 10,000 tickets open: under 1 GiB on a 640 MB heap. A ticket that is not cached is replayed from its history
// when it next has something to do (milliseconds for a ticket's short history). Several workers can
// poll one task queue; each takes its own share up to these limits.
import { ConfigError } from './env';

export interface WorkerTuning {
  /** Workflows kept in memory between tasks (the sticky cache). */
  maxCachedWorkflows: number;
  maxConcurrentWorkflowTaskExecutions: number;
  maxConcurrentActivityTaskExecutions: number;
  maxConcurrentLocalActivityExecutions: number;
  /**
   * V8's old-space limit for the worker process (--max-old-space-size), applied by whoever starts it:
   * `npm start`, and `npm run worker` (package.json, with this default written there too).
   */
  heapMb: number;
  /**
   * How long a stopping worker (SIGTERM) lets its running activities finish before it cancels them;
   * the container's stop grace period must be longer (docker-compose.yml gives 45 s).
   */
  shutdownGraceSeconds: number;
}

export const WORKER_TUNING_DEFAULTS: WorkerTuning = {
  maxCachedWorkflows: 1_000,
  maxConcurrentWorkflowTaskExecutions: 40,
  maxConcurrentActivityTaskExecutions: 100,
  maxConcurrentLocalActivityExecutions: 100,
  heapMb: 640,
  shutdownGraceSeconds: 30,
};

/** The variable that sets each limit. */
export const WORKER_TUNING_ENV: Record<keyof WorkerTuning, string> = {
  maxCachedWorkflows: 'WORKER_MAX_CACHED_WORKFLOWS',
  maxConcurrentWorkflowTaskExecutions: 'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS',
  maxConcurrentActivityTaskExecutions: 'WORKER_MAX_CONCURRENT_ACTIVITIES',
  maxConcurrentLocalActivityExecutions: 'WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES',
  heapMb: 'WORKER_HEAP_MB',
  shutdownGraceSeconds: 'WORKER_SHUTDOWN_GRACE_SECONDS',
};

/** Heap a cached workflow and the worker itself take (measured; see the header). */
const MB_PER_CACHED_WORKFLOW = 0.4;
const BASE_HEAP_MB = 200;

export function workerTuningFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerTuning {
  const tuning = { ...WORKER_TUNING_DEFAULTS };
  for (const key of Object.keys(WORKER_TUNING_ENV) as Array<keyof WorkerTuning>) {
    const name = WORKER_TUNING_ENV[key];
    const text = env[name];
    if (text === undefined || text === '') continue;
    const value = Number(text);
    // A cache of 0 is allowed (every task replays), as is no grace; the rest must take at least one.
    const least = key === 'maxCachedWorkflows' || key === 'shutdownGraceSeconds' ? 0 : 1;
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < least) {
      throw new ConfigError(`${name}="${text}" is not a whole number of at least ${least} (default ${WORKER_TUNING_DEFAULTS[key]})`);
    }
    tuning[key] = value;
  }
  // The SDK would change these quietly (a cache of 1 to 2, more tasks than cached workflows to the
  // cache's size): refused here, so what the worker logs is what it runs with.
  const { maxCachedWorkflows: cache, maxConcurrentWorkflowTaskExecutions: tasks } = tuning;
  const names = WORKER_TUNING_ENV;
  if (cache === 1) throw new ConfigError(`${names.maxCachedWorkflows}=1 is too small for the SDK: use 0 (no cache) or at least 2`);
  if (cache > 0 && tasks < 2) throw new ConfigError(`${names.maxConcurrentWorkflowTaskExecutions} must be at least 2 while workflows are cached`);
  if (cache > 0 && tasks > cache) {
    throw new ConfigError(`${names.maxConcurrentWorkflowTaskExecutions}=${tasks} is more than ${names.maxCachedWorkflows}=${cache}: raise the cache or lower the tasks`);
  }
  return tuning;
}

/** NODE_OPTIONS for a worker process: the heap limit first, then whatever else was set. */
export function workerNodeOptions(tuning: WorkerTuning, existing = ''): string {
  const others = existing.split(/\s+/).filter((o) => o && !o.startsWith('--max-old-space-size'));
  return [`--max-old-space-size=${tuning.heapMb}`, ...others].join(' ');
}

/** Why this heap is too small for this cache, or undefined. */
export function heapProblem(tuning: WorkerTuning, heapLimitMb: number): string | undefined {
  const needed = BASE_HEAP_MB + tuning.maxCachedWorkflows * MB_PER_CACHED_WORKFLOW;
  if (heapLimitMb >= needed) return undefined;
  return (
    `the heap limit is ${Math.round(heapLimitMb)} MB, but ${tuning.maxCachedWorkflows} cached workflows need about ` +
    `${Math.round(needed)} MB: raise ${WORKER_TUNING_ENV.heapMb} (npm run worker applies it) or lower ${WORKER_TUNING_ENV.maxCachedWorkflows}`
  );
}
