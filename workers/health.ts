// The worker's own HTTP endpoint (WORKER_HEALTH_PORT): /healthz answers while the process runs,
// /readyz while the worker is polling its task queue, /metrics the desk's worker metrics for
// Prometheus. Probes (compose, Kubernetes) restart a worker whose /healthz stops answering and
// route nothing to it (it takes no HTTP traffic) but see /readyz to know it is doing its work.
import { createServer, type Server } from 'node:http';
import type { State } from '@temporalio/worker';

export interface WorkerHealthSource {
  /** The SDK worker's state: RUNNING while it polls. */
  state(): State;
  /** Prometheus text exposition and its content type. */
  metrics?(): Promise<{ contentType: string; body: string }>;
}

export function workerHealthServer(source: WorkerHealthSource): Server {
  return createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const route = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(405, { error: 'only GET' });
    const state = source.state();
    if (route === '/healthz') {
      // FAILED: the worker gave up (e.g. a fatal poll error) and the process is about to exit.
      return send(state === 'FAILED' ? 503 : 200, { ok: state !== 'FAILED', state });
    }
    if (route === '/readyz') return send(state === 'RUNNING' ? 200 : 503, { ok: state === 'RUNNING', state });
    if (route === '/metrics' && source.metrics) {
      source.metrics().then(
        ({ contentType, body }) => {
          res.writeHead(200, { 'content-type': contentType });
          res.end(body);
        },
        () => send(500, { error: 'metrics could not be collected' }),
      );
      return;
    }
    send(404, { error: `no route ${req.method} ${route}; try /healthz, /readyz or /metrics` });
  });
}
