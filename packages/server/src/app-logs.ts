import type { CursorCodec } from './audit/service.js';
import type { CertificateAuthenticator } from './agents/push-routes.js';
import type { Config } from './config/config.js';
import type { Db } from './db/connection.js';
import type { EventBus } from './events/bus.js';
import type { App } from './http/server.js';
import { createLogRetention } from './logs/retention.js';
import { logRoutes } from './logs/routes.js';
import { createLogService } from './logs/service.js';
import { createLogStore } from './logs/store.js';
import { createLogTail } from './logs/tail.js';
import type { Job } from './scheduler.js';

/**
 * Composes the log side of the server for app.ts: the store, the service (ingest by group
 * commit, search, counts), the live tail and retention, a cluster job.
 */
export function composeLogs(deps: {
  db: Db;
  bus: EventBus;
  config: Config;
  cursors: CursorCodec;
  now: () => number;
  /** Told how long each group commit took. */
  onCommit?: (seconds: number) => void;
}) {
  const { db, config, now } = deps;
  const l = config.logs;
  const store = createLogStore(db.kysely, db.dialect, db.sqlite);
  const service = createLogService({
    store,
    bus: deps.bus,
    cursors: deps.cursors,
    now,
    policy: { commitDelayMs: l.commit_delay_ms, maxLines: l.max_batch_lines },
    onCommit: deps.onCommit,
  });
  const tail = createLogTail({
    bus: deps.bus,
    replay: (filter, after, limit) => service.after(filter, after, limit),
    policy: {
      heartbeatMs: config.telemetry.stream_heartbeat_seconds * 1000,
      maxConnectionsPerIdentity: config.telemetry.stream_max_per_user,
      maxBufferedBytes: 4 * 1024 * 1024,
      replayMax: 1_000,
    },
  });
  const retention = createLogRetention({
    store,
    now,
    policy: {
      maxAgeMs: l.retention_days * 86_400_000,
      maxBytes: l.max_bytes,
      batchMemoryMs: l.batch_memory_hours * 3_600_000,
    },
  });
  /** Periodic work on the database: retention, once per period in the cluster. */
  const jobs: Job[] = [
    { name: 'log-retention', everyMs: 60_000, scope: 'cluster', run: () => retention.run() },
  ];
  return { service, tail, retention, jobs, close: () => service.close() };
}

/** The log side's parts, as composeLogs builds them. */
export type LogParts = ReturnType<typeof composeLogs>;

/** Registers the log routes: agents' pushes, the search, the live tail, dropped counts. */
export function logsRoutes(
  app: App,
  parts: LogParts,
  deps: { authenticator: CertificateAuthenticator; config: Config },
): void {
  logRoutes(app, {
    logs: parts.service,
    tail: parts.tail,
    authenticator: deps.authenticator,
    maxPushBytes: deps.config.agents.max_document_bytes,
    maxDecompressedBytes: deps.config.logs.max_push_bytes,
  });
}
