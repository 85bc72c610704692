// OpenTelemetry tracing, on when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is
// set, through @temporalio/interceptors-opentelemetry: a span for each call the API makes to Temporal
// (StartWorkflow, an update, a query, a signal) and one for each activity the worker runs, exported
// over OTLP/HTTP; the exporter reads the standard OTEL_* variables itself (headers, timeouts).
//
// Not the package's workflow interceptors: in the workflow they change the order in which a task's
// commands are emitted (a timer and an activity started together), so a running ticket replayed with
// them fails as non-deterministic (the replay test of the committed histories showed it). A workflow's
// spans would need every running workflow to have finished on the code without them first.
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface Tracing {
  enabled: boolean;
  /** Sends what is buffered (at shutdown). */
  shutdown(): Promise<void>;
}

/** Tracing for `service` (support-desk-api, support-desk-worker; OTEL_SERVICE_NAME wins), registered as the global tracer. */
export function tracingFromEnv(service: string, env: NodeJS.ProcessEnv = process.env): Tracing {
  const resource = new Resource({ 'service.name': env.OTEL_SERVICE_NAME?.trim() || service });
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!endpoint) return { enabled: false, shutdown: async () => undefined };
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
  trace.setGlobalTracerProvider(provider);
  return { enabled: true, shutdown: () => provider.shutdown() };
}
