import path from 'node:path';
import type { Logger } from 'pino';
import { createCommandBroker } from './agents/commands.js';
import { startPuller, type Puller } from './agents/pull.js';
import { agentRoutes } from './agents/routes.js';
import { createAgentService, type AgentService, type AgentStores } from './agents/service.js';
import { createAgentStore } from './agents/store.js';
import { auditRoutes } from './audit/routes.js';
import { createAuditService } from './audit/service.js';
import { createAuditStore } from './audit/store.js';
import type { Config } from './config/config.js';
import { openDb, type Db } from './db/connection.js';
import { migrate, type MigrationReport } from './db/migrations.js';
import { openitcockpitFace } from './faces/openitcockpit/routes.js';
import { createIdempotency } from './http/idempotency.js';
import { buildHttp, type App, type HttpsOptions } from './http/server.js';
import { identityRoutes } from './identity/routes.js';
import {
  createIdentityService,
  type IdentityService,
  type IdentityStores,
  type Transact,
} from './identity/service.js';
import { createUserAdmin } from './identity/admin.js';
import { createOAuth } from './identity/oauth.js';
import { oauthClientRoutes } from './identity/oauth-routes.js';
import { cockpitFace } from './faces/cockpit/routes.js';
import { userAdminRoutes } from './identity/admin-routes.js';
import { createIdentityStore } from './identity/store.js';
import {
  createCursorCodec,
  createSealer,
  instanceSecret,
  masterKey,
  type Sealer,
} from './secrets.js';
import {
  CounterFn,
  DURATION_BUCKETS,
  Gauge,
  Histogram,
  LOOP_DELAY_BUCKETS,
  MetricsRegistry,
  watchEventLoop,
} from './system/metrics.js';
import { metricsRoutes, systemRoutes } from './system/routes.js';
import { createHealthService } from './system/service.js';
import { createHistoryReader } from './telemetry/query/history.js';
import { exportRoutes, telemetryRoutes } from './telemetry/routes.js';
import { openwatchRoutes } from './faces/openwatch/routes.js';
import { streamRoutes } from './faces/tyto/routes.js';
import { createStreamHub, type StreamHub } from './faces/tyto/stream.js';
import { createEventBus } from './events/bus.js';
import { createTelemetryService, type TelemetryService } from './telemetry/service.js';
import { createTelemetryStore } from './telemetry/store.js';
import { createTsdbStore } from './telemetry/tsdb/store.js';
import { openCertificateAuthority, type CertificateAuthority } from './tls/pki.js';
import { VERSION } from './version.js';

/** An assembled server: its HTTP application and the services the CLI needs. */
export interface Vigil {
  readonly http: App;
  readonly db: Db;
  readonly identity: IdentityService;
  readonly agents: AgentService;
  readonly telemetry: TelemetryService;
  readonly stream: StreamHub;
  readonly ca: CertificateAuthority;
  /** Polls pull agents; `poll(id)` polls one now. */
  readonly puller: Pick<Puller, 'poll'>;
  readonly migration: MigrationReport;
  /** Closes the HTTP application, then the database. */
  close(): Promise<void>;
}

/** Periodic background jobs; a job never overlaps itself, and `stop` waits for running ones. */
function startJobs(
  logger: Logger,
  jobs: { name: string; everyMs: number; run: () => Promise<unknown> }[],
): { stop(): Promise<void> } {
  const running = new Set<Promise<unknown>>();
  const timers = jobs.map((job) => {
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      const p = job
        .run()
        .catch((err: unknown) => logger.warn({ err, job: job.name }, 'background job failed'))
        .finally(() => {
          busy = false;
          running.delete(p);
        });
      running.add(p);
    }, job.everyMs);
    timer.unref();
    return timer;
  });
  return {
    async stop() {
      for (const t of timers) clearInterval(t);
      await Promise.allSettled([...running]);
    },
  };
}

/** The server's own gauges, read at each scrape, and (optionally) every host's latest values. */
function registerServerMetrics(
  registry: MetricsRegistry,
  deps: {
    telemetry: TelemetryService;
    stream: StreamHub;
    agents: AgentService;
    exposeHosts: boolean;
  },
): void {
  const t = () => deps.telemetry.statistics();
  const g = (name: string, help: string, read: () => number) =>
    registry.register(new Gauge(name, help, () => [{ value: read() }]));
  const c = (name: string, help: string, read: () => number) =>
    registry.register(new CounterFn(name, help, read));
  c('vigil_ingest_pushes_total', 'Check-data documents ingested since start.', () => t().pushes);
  c('vigil_ingest_samples_total', 'Numeric samples ingested since start.', () => t().samples);
  c(
    'vigil_ingest_duplicates_total',
    'Documents received again and not stored twice.',
    () => t().duplicates,
  );
  c('vigil_ingest_batches_total', 'Group commits since start.', () => t().batches);
  c(
    'vigil_ingest_dropped_fields_total',
    'Fields of check-data documents dropped for having the wrong type, since start.',
    () => t().droppedFields,
  );
  g('vigil_ingest_queue_depth', 'Pushes waiting for their group commit.', () => t().queued);
  g(
    'vigil_stream_clients',
    'Open live-stream (SSE) connections.',
    () => deps.stream.statistics().clients,
  );
  c(
    'vigil_stream_events_dropped_total',
    'Stream events not delivered to subscribers that could not keep up, since start.',
    () => deps.stream.statistics().dropped,
  );
  g('process_resident_memory_bytes', 'Resident memory of the server process.', () =>
    process.memoryUsage.rss(),
  );
  g('nodejs_heap_used_bytes', 'V8 heap in use.', () => process.memoryUsage().heapUsed);
  c('process_cpu_seconds_total', 'CPU time of the server process.', () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  });
  registry.addExtra(async () => {
    const counts = new Map<string, number>();
    for (const a of await deps.agents.list()) counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
    return new Gauge('vigil_agents', 'Agents by status.', () =>
      ['online', 'offline', 'pending', 'rejected', 'revoked'].map((status) => ({
        labels: { status },
        value: counts.get(status) ?? 0,
      })),
    ).render();
  });
  if (deps.exposeHosts)
    registry.addExtra(async () => {
      const families = new Map<string, string[]>();
      for (let after = ''; ;) {
        const page = await deps.telemetry.hostPage(after, 500);
        for (const hostId of page) {
          const cur = await deps.telemetry.current(hostId);
          for (const [key, value] of cur?.values ?? []) {
            const brace = key.indexOf('{');
            const metric = `vigil_host_${brace < 0 ? key : key.slice(0, brace)}`;
            const labels = brace < 0 ? '' : `,${key.slice(brace + 1, -1)}`;
            const lines = families.get(metric) ?? [];
            lines.push(
              `${metric}{host_id="${hostId.replace(/["\\\n]/g, '_')}"${labels}} ${Number.isFinite(value) ? value : 'NaN'}`,
            );
            families.set(metric, lines);
          }
        }
        if (page.length < 500) break;
        after = page[page.length - 1]!;
      }
      let out = '';
      for (const [metric, lines] of families) {
        // Series named `…_total` are the agents' counters since boot.
        const type = metric.endsWith('_total') ? 'counter' : 'gauge';
        out += `# HELP ${metric} Latest value reported by each host.\n# TYPE ${metric} ${type}\n${lines.join('\n')}\n`;
      }
      return out;
    });
}

/** Opens the configured store: PostgreSQL when `database.url` is set, else SQLite in the data dir. */
export function openConfiguredDb(config: Config): Db {
  return openDb({
    url: config.database.url || undefined,
    sqliteFile: path.join(config.storage.data_dir, 'vigil.db'),
    poolMax: config.database.pool_max,
  });
}

/**
 * Brings the store's schema up to date, syncs the built-in roles, and returns the identity
 * service on it. Used by `serve` and by the CLI commands that touch users.
 */
export async function prepareStore(db: Db, config: Config, now: () => number = Date.now) {
  const migration = await migrate(db);
  const sealer = createSealer(
    masterKey(config.storage.master_key_file || path.join(config.storage.data_dir, 'master.key')),
  );
  const csrfKey = await instanceSecret(db.kysely);
  const identity = createIdentityServiceFor(
    db,
    {
      accessTtlSeconds: config.auth.access_token_ttl_seconds,
      refreshTtlSeconds: config.auth.refresh_token_ttl_seconds,
    },
    now,
    sealer,
    csrfKey,
  );
  await identity.syncSystemRoles();
  return { migration, identity, sealer };
}

/** Runs a unit of work of the identity domain in one transaction. */
const identityTransact =
  (db: Db): Transact<IdentityStores> =>
  (fn) =>
    db.kysely
      .transaction()
      .execute((trx) => fn({ identity: createIdentityStore(trx), audit: createAuditStore(trx) }));

function createIdentityServiceFor(
  db: Db,
  tokens: { accessTtlSeconds: number; refreshTtlSeconds: number },
  now: () => number,
  sealer: Sealer,
  csrfKey: Buffer,
): IdentityService {
  return createIdentityService({
    store: createIdentityStore(db.kysely),
    transact: identityTransact(db),
    tokens,
    now,
    sealer,
    csrfKey,
  });
}

/**
 * Builds the whole server. This is the only place that constructs stores and services and wires
 * them together.
 */
export async function createVigil(opts: {
  config: Config;
  logger: Logger;
  db?: Db;
  https?: HttpsOptions;
  now?: () => number;
}): Promise<Vigil> {
  const { config } = opts;
  const now = opts.now ?? Date.now;
  const db = opts.db ?? openConfiguredDb(config);
  try {
    const { migration, identity, sealer } = await prepareStore(db, config, now);
    const idempotency = createIdempotency({ db: db.kysely, now, sealer });
    const audit = createAuditService({
      store: createAuditStore(db.kysely),
      cursors: createCursorCodec(await instanceSecret(db.kysely)),
    });
    const health = createHealthService({ db, version: VERSION, startedAt: now(), now });
    const ca = await openCertificateAuthority(path.join(config.storage.data_dir, 'tls'));
    const registry = new MetricsRegistry();
    const requestSeconds = registry.register(
      new Histogram(
        'vigil_http_request_duration_seconds',
        'Time to answer HTTP requests, by method, route and status class.',
        DURATION_BUCKETS,
      ),
    );
    const commitSeconds = registry.register(
      new Histogram(
        'vigil_db_commit_duration_seconds',
        'Time of each ingest group commit (one transaction for many pushes).',
        DURATION_BUCKETS,
      ),
    );
    const stopLoopWatch = watchEventLoop(
      registry.register(
        new Histogram(
          'nodejs_eventloop_delay_seconds',
          'How late the event loop ran a timer due every 20 ms: how long synchronous work, a collection or a blocking disk sync held every request up.',
          LOOP_DELAY_BUCKETS,
        ),
      ),
    );
    const t = config.telemetry;
    const bus = createEventBus((err) => opts.logger.warn({ err }, 'event subscriber failed'));
    const stream = createStreamHub({
      bus,
      policy: {
        bufferFrames: 1000,
        heartbeatMs: t.stream_heartbeat_seconds * 1000,
        maxConnectionsPerIdentity: t.stream_max_per_user,
      },
    });
    const ingest = createTelemetryService({
      bus,
      onCommit: (seconds) => commitSeconds.observe(seconds),
      store: createTelemetryStore(db.kysely),
      tsdb: createTsdbStore(db.kysely, db.sqlite),
      now,
      log: opts.logger,
      policy: {
        retention: {
          raw: t.retention_raw_hours * 3_600_000,
          '1m': t.retention_1m_days * 86_400_000,
          '5m': t.retention_5m_days * 86_400_000,
          '1h': t.retention_1h_days * 86_400_000,
        },
        commitDelayMs: t.commit_delay_ms,
        maxBatch: t.max_batch,
        documentFlushMs: t.document_flush_seconds * 1000,
        rollupGraceMs: 15_000,
        maxCheckAttempts: t.max_check_attempts,
        maxClockSkewMs: config.agents.max_clock_skew_seconds * 1000,
      },
    });
    const commands = createCommandBroker();
    const agents = createAgentService({
      store: createAgentStore(db.kysely),
      transact: (fn) =>
        db.kysely.transaction().execute((trx) =>
          fn({
            agents: createAgentStore(trx),
            audit: createAuditStore(trx),
          } satisfies AgentStores),
        ),
      ca,
      ingest,
      commands,
      policy: {
        tokenTtlSeconds: config.agents.enrollment_token_ttl_seconds,
        certificateDays: config.agents.certificate_lifetime_days,
        defaultIntervalSeconds: config.agents.default_interval_seconds,
        autoApproveNetworks: config.agents.auto_approve_networks,
        autoApproveHostnames: config.agents.auto_approve_hostnames,
        commandTimeoutSeconds: config.agents.command_timeout_seconds,
        pendingPerAddress: config.agents.pending_per_address,
        pendingTtlHours: config.agents.pending_ttl_hours,
      },
      now,
      tls: config.server.tls !== 'off',
      sealer,
      pullCommander: () => puller.commander,
    });
    const pullClient = await ca.issueClient('vigil-server', 825);
    // Background work: rollups and agents' last contacts every 5 s, retention every minute; one
    // run of each at a time.
    const jobs = startJobs(opts.logger, [
      { name: 'rollups', everyMs: 5_000, run: () => ingest.runRollups() },
      { name: 'contacts', everyMs: 5_000, run: () => ingest.writeContacts() },
      { name: 'retention', everyMs: 60_000, run: () => ingest.runRetention() },
      { name: 'idempotency-expiry', everyMs: 300_000, run: () => idempotency.expire() },
      { name: 'pending-expiry', everyMs: 300_000, run: () => agents.expirePending() },
    ]);
    const puller = startPuller({
      agents,
      identity: { ca, cert: pullClient.pem, key: pullClient.key },
      concurrency: config.agents.pull_concurrency,
      maxAnswerBytes: config.agents.max_document_bytes,
      certificateDays: config.agents.certificate_lifetime_days,
      now,
      log: opts.logger,
    });

    registerServerMetrics(registry, {
      telemetry: ingest,
      stream,
      agents,
      exposeHosts: t.expose_host_metrics,
    });
    const http = await buildHttp({
      onRequestDone: (method, route, status, seconds) =>
        requestSeconds.observe(seconds, { method, route, code: `${Math.floor(status / 100)}xx` }),
      logger: opts.logger,
      authenticator: identity,
      idempotency,
      bodyLimitBytes: config.server.body_limit_bytes,
      version: VERSION,
      https: opts.https,
      routes: (app) => {
        systemRoutes(app, { health });
        metricsRoutes(app, { registry });
        identityRoutes(app, { identity });
        const oauth = createOAuth({
          db: db.kysely,
          identity,
          identityStore: createIdentityStore(db.kysely),
          now,
        });
        oauthClientRoutes(app, { oauth });
        cockpitFace(app, { oauth });
        userAdminRoutes(app, {
          admin: createUserAdmin({
            store: createIdentityStore(db.kysely),
            transact: identityTransact(db),
            identity,
            now,
            sealer,
            allowRegistration: config.auth.allow_registration,
          }),
        });
        auditRoutes(app, { audit });
        agentRoutes(app, { agents, maxDocumentBytes: config.agents.max_document_bytes });
        const history = createHistoryReader({ telemetry: ingest, now });
        telemetryRoutes(app, { history });
        exportRoutes(app, { telemetry: ingest, history });
        openwatchRoutes(app, {
          resolveHost: (target) => history.resolveHost(target),
          latestDocument: (hostId) => ingest.latestDocument(hostId),
        });
        streamRoutes(app, { stream });
        openitcockpitFace(app, {
          agents,
          options: {
            apiKey: config.agents.oitc_api_key,
            bodyLimitBytes: config.agents.max_document_bytes,
          },
        });
      },
    });
    // Waiting long polls and commands end first, so that shutdown does not wait for them.
    http.addHook('preClose', (done) => {
      commands.close();
      stream.close();
      done();
    });
    http.addHook('onClose', async () => {
      stopLoopWatch();
      await jobs.stop();
      await puller.stop();
      await ingest.close();
      await db.close();
    });
    await http.ready();
    return {
      http,
      db,
      identity,
      agents,
      telemetry: ingest,
      stream,
      ca,
      puller,
      migration,
      close: () => http.close(),
    };
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}
