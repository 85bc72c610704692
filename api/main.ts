// API entry point: connects to Temporal and PostgreSQL, migrates, and serves HTTP on PORT.
import { Client, Connection } from '@temporalio/client';
import { deskDataConverter, encryptionKeysFromEnv } from '../config/encryption';
import { loadConfig, portFromEnv } from '../config/env';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { tracingFromEnv } from '../config/tracing';
import { checkTemporalNamespace, connectionOptions, describeTemporalConnection } from '../config/temporal-connection';
import { logger } from '../config/logger';
import { ensureBootstrapKey } from '../db/api-keys';
import { migrate } from '../db/migrations';
import { createPool } from '../db/pool';
import { buildApp } from './app';
import { metricsServer } from './metrics';
import { createAuthenticator, jwtSettingsFromEnv } from './auth';
import { rateLimitsFromEnv } from './rate-limit';

async function main(): Promise<void> {
  const config = loadConfig();
  const encryptionKeys = encryptionKeysFromEnv();
  const jwt = jwtSettingsFromEnv();
  const rateLimits = rateLimitsFromEnv();
  const pool = createPool(config.databaseUrl);
  await migrate(pool);
  // The bootstrap admin key (npm start keeps one in .data/admin-key); its value is never logged.
  const adminKey = process.env.SUPPORT_DESK_ADMIN_KEY?.trim();
  if (adminKey) await ensureBootstrapKey(pool, adminKey);
  const connection = await Connection.connect(connectionOptions(config.temporal));
  const { warning } = await checkTemporalNamespace(connection, config.temporal);
  if (warning) logger.warn(warning);
  // A span for each call to Temporal, over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (config/tracing.ts).
  const tracing = tracingFromEnv('support-desk-api');
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: deskDataConverter(encryptionKeys),
    ...(tracing.enabled ? { interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } } : {}),
  });
  const { app, metrics } = buildApp({
    client,
    pool,
    policy: config.policy,
    taskQueue: config.taskQueue,
    temporalUiUrl: process.env.TEMPORAL_UI_URL ?? 'http://localhost:8233',
    auth: createAuthenticator(pool, jwt),
    rateLimits,
    encryptionKeys,
    codecOrigins: (process.env.CODEC_CORS_ORIGINS ?? process.env.TEMPORAL_UI_URL ?? 'http://localhost:8233')
      .split(',')
      .map((o) => o.trim().replace(/\/$/, ''))
      .filter(Boolean),
  });
  // HOST: every interface by default (a container); npm start keeps a laptop's desk on 127.0.0.1.
  const server = app.listen(config.port, process.env.HOST || '0.0.0.0', () => {
    logger.info(
      { url: `http://localhost:${config.port}`, temporal: describeTemporalConnection(config.temporal), policy: config.policy.name, credentials: jwt ? `API keys and JWTs from ${jwt.issuer}` : 'API keys' },
      'API listening',
    );
  });

  // Prometheus scrapes METRICS_PORT, which is never the public port (README, "Metrics").
  const metricsPort = portFromEnv('METRICS_PORT');
  if (metricsPort === config.port) throw new Error(`METRICS_PORT=${metricsPort} must be another port than PORT`);
  const metricsListener = metricsPort === undefined ? undefined : metricsServer(metrics.registry);
  if (metricsListener) {
    metricsListener.once('error', (err) => {
      logger.error({ err }, `METRICS_PORT=${metricsPort} cannot be listened on; choose a free port`);
      process.exit(1);
    });
    metricsListener.listen(metricsPort, process.env.HOST || '0.0.0.0', () => logger.info({ url: `http://localhost:${metricsPort}/metrics` }, 'metrics listening'));
  }

  const stop = () => {
    metricsListener?.close();
    logger.info('API stopping');
    server.close(() => {
      void Promise.allSettled([tracing.shutdown(), connection.close(), pool.end()]).then(() => process.exit(0));
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  logger.error({ err }, 'API failed to start');
  process.exit(1);
});
