import path from 'node:path';
import type { Logger } from 'pino';
import { createCommandBroker } from './agents/commands.js';
import { startPuller } from './agents/pull.js';
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
import { buildHttp, type App, type HttpsOptions } from './http/server.js';
import { identityRoutes } from './identity/routes.js';
import {
  createIdentityService,
  type IdentityService,
  type IdentityStores,
} from './identity/service.js';
import { createIdentityStore } from './identity/store.js';
import { createCursorCodec, instanceSecret } from './secrets.js';
import { systemRoutes } from './system/routes.js';
import { createHealthService } from './system/service.js';
import { createHistoryReader } from './telemetry/history.js';
import { telemetryRoutes } from './telemetry/routes.js';
import { createTelemetryService, type TelemetryService } from './telemetry/service.js';
import { createTelemetryStore } from './telemetry/store.js';
import { openCertificateAuthority, type CertificateAuthority } from './tls/pki.js';
import { VERSION } from './version.js';

/** An assembled server: its HTTP application and the services the CLI needs. */
export interface Vigil {
  readonly http: App;
  readonly db: Db;
  readonly identity: IdentityService;
  readonly agents: AgentService;
  readonly telemetry: TelemetryService;
  readonly ca: CertificateAuthority;
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
  const identity = createIdentityServiceFor(
    db,
    {
      accessTtlSeconds: config.auth.access_token_ttl_seconds,
      refreshTtlSeconds: config.auth.refresh_token_ttl_seconds,
    },
    now,
  );
  await identity.syncSystemRoles();
  return { migration, identity };
}

function createIdentityServiceFor(
  db: Db,
  tokens: { accessTtlSeconds: number; refreshTtlSeconds: number },
  now: () => number,
): IdentityService {
  return createIdentityService({
    store: createIdentityStore(db.kysely),
    transact: (fn) =>
      db.kysely.transaction().execute((trx) =>
        fn({
          identity: createIdentityStore(trx),
          audit: createAuditStore(trx),
        } satisfies IdentityStores),
      ),
    tokens,
    now,
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
    const { migration, identity } = await prepareStore(db, config, now);
    const audit = createAuditService({
      store: createAuditStore(db.kysely),
      cursors: createCursorCodec(await instanceSecret(db.kysely)),
    });
    const health = createHealthService({ db, version: VERSION, startedAt: now(), now });
    const ca = await openCertificateAuthority(path.join(config.storage.data_dir, 'tls'));
    const t = config.telemetry;
    const ingest = createTelemetryService({
      store: createTelemetryStore(db.kysely),
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
      },
      now,
      tls: config.server.tls !== 'off',
      pullCommander: () => puller.commander,
    });
    const pullClient = await ca.issueClient('vigil-server', 825);
    // Background work: rollups every 5 s, retention every minute; one run of each at a time.
    const jobs = startJobs(opts.logger, [
      { name: 'rollups', everyMs: 5_000, run: () => ingest.runRollups() },
      { name: 'retention', everyMs: 60_000, run: () => ingest.runRetention() },
    ]);
    const puller = startPuller({
      agents,
      identity: { ca, cert: pullClient.pem, key: pullClient.key },
      concurrency: config.agents.pull_concurrency,
      log: opts.logger,
    });

    const http = await buildHttp({
      logger: opts.logger,
      authenticator: identity,
      bodyLimitBytes: config.server.body_limit_bytes,
      version: VERSION,
      https: opts.https,
      routes: (app) => {
        systemRoutes(app, { health });
        identityRoutes(app, { identity });
        auditRoutes(app, { audit });
        agentRoutes(app, { agents });
        telemetryRoutes(app, { history: createHistoryReader({ telemetry: ingest, now }) });
        openitcockpitFace(app, {
          agents,
          options: { apiKey: config.agents.oitc_api_key, bodyLimitBytes: 16 * 1024 * 1024 },
        });
      },
    });
    // Waiting long polls and commands end first, so that shutdown does not wait for them.
    http.addHook('preClose', (done) => {
      commands.close();
      done();
    });
    http.addHook('onClose', async () => {
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
      ca,
      migration,
      close: () => http.close(),
    };
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}
