// Over 500 lines: the composition root wires every domain, its jobs and its routes in one place
// (the configuration side is composed in app-configuration.ts).
import path from 'node:path';
import type { Logger } from 'pino';
import { composeConfiguration, configurationRoutes } from './app-configuration.js';
import { composeJobs, jobsRoutes, type Jobs } from './app-jobs.js';
import { alertRoutes, composeAlerts, type AlertParts } from './app-alerts.js';
import { composeRules, ruleRoutes, type RuleParts } from './app-rules.js';
import {
  complianceAppRoutes,
  composeCompliance,
  withoutComplianceAlerts,
  type ComplianceParts,
} from './app-compliance.js';
import { composeLogs, logsRoutes, type LogParts } from './app-logs.js';
import { composeLogRules, type LogRuleParts } from './app-log-rules.js';
import { composeIntelligence, hostIntelligenceRoutes } from './app-intelligence.js';
import { startSyslog } from './app-syslog.js';
import type { SyslogListener } from './logs/syslog/listener.js';
import { alertSourceOf, composeNotifications, notificationsRoutes } from './app-notifications.js';
import { createAgentAuthCache } from './agents/auth-cache.js';
import {
  createCommandBroker,
  createCommandService,
  type CommandService,
} from './agents/commands.js';
import { createCsrSigner } from './agents/csr.js';
import { createEnrollmentService, type EnrollmentService } from './agents/enrollment.js';
import { createFactsRecorder } from './agents/facts.js';
import { createAgentIntake, type AgentIntake } from './agents/intake.js';
import { createMutator, type AgentStores, type Mutate } from './agents/mutate.js';
import { startPuller, type Puller } from './agents/pull.js';
import { createAgentRegistry, type AgentRegistry } from './agents/registry.js';
import { createAgentStatusWatch, type AgentStatusWatch } from './agents/status-events.js';
import { agentPushRoutes, type DeployedChecks } from './agents/push-routes.js';
import { createTicketCheck } from './agents/ticket-enrollment.js';
import { type TicketService } from './secrets/ticket.js';
import { agentRoutes } from './agents/routes.js';
import { createAgentStore } from './agents/store.js';
import { auditRoutes } from './audit/routes.js';
import { createAuditService } from './audit/service.js';
import { createAuditStore } from './audit/store.js';
import { createFleetOverview } from './hosts/overview.js';
import { hostRoutes } from './hosts/routes.js';
import { createHostService } from './hosts/service.js';
import { createHostStore } from './hosts/store.js';
import type { ObjectService } from './objects/service.js';
import type { DeploymentService } from './deployments/service.js';
import type { Config } from './config/config.js';
import { openDb, type Db } from './db/connection.js';
import { migrate, type MigrationReport } from './db/migrations/index.js';
import { openitcockpitFace } from './faces/openitcockpit/routes.js';
import { createConsole, defaultConsoleDir } from './http/console.js';
import { createIdempotency } from './http/idempotency.js';
import { createIdempotencyStore } from './http/idempotency-store.js';
import { buildHttp, type App, type HttpsOptions } from './http/server.js';
import { identityRoutes } from './identity/routes.js';
import type { Transact } from './audit/audited.js';
import type { IdentityStores } from './identity/model.js';
import { createIdentityService, type IdentityService } from './identity/service.js';
import { createUserAdmin } from './identity/admin.js';
import { createOAuth } from './identity/oauth.js';
import { createOAuthClientStore } from './identity/oauth-store.js';
import { oauthClientRoutes } from './identity/oauth-routes.js';
import { cockpitFace } from './faces/cockpit/routes.js';
import { userAdminRoutes } from './identity/admin-routes.js';
import { createIdentityStore } from './identity/store.js';
import { createCursorCodec } from './secrets/cursors.js';
import { instanceSecret } from './secrets/instance-secret.js';
import { masterKey } from './secrets/master-key.js';
import { createSealer, type Sealer } from './secrets/sealer.js';
import { createInstanceSecretStore } from './secrets/store.js';
import { MetricsRegistry } from './faces/prometheus/registry.js';
import { metricsRoutes } from './faces/prometheus/routes.js';
import {
  registerServerHistograms,
  registerServerMetrics,
} from './faces/prometheus/server-metrics.js';
import { startJobs, type Job } from './scheduler.js';
import { systemRoutes } from './system/routes.js';
import { createHealthService } from './system/service.js';
import { createHistoryReader } from './telemetry/query/history.js';
import { createSectionReader } from './telemetry/query/sections.js';
import { HEAD_SERIES } from './telemetry/tsdb/format.js';
import { caInfoOf } from './tls/ca-info.js';
import { tlsRoutes } from './tls/routes.js';
import { exportRoutes, telemetryRoutes } from './telemetry/routes.js';
import { openwatchRoutes } from './faces/openwatch/routes.js';
import { streamRoutes } from './faces/tyto/routes.js';
import { createStreamHub, type StreamHub } from './faces/tyto/stream.js';
import { createEventBus } from './events/bus.js';
import { INGEST_TOPIC, type IngestEvent } from './events/types.js';
import { createActivityFeed } from './activity/service.js';
import { activityRoutes } from './activity/routes.js';
import { createActivityStore } from './activity/store.js';
import { createDashboard } from './dashboard/service.js';
import { createDashboardStore } from './dashboard/store.js';
import { cockpitDashboard } from './faces/cockpit/dashboard.js';
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
  /** The agents registry: the list of agents and operators' decisions on them. */
  readonly agents: AgentRegistry;
  /** Enrollment and authentication of agents. */
  readonly enrollment: EnrollmentService;
  /** Commands to agents. */
  readonly commands: CommandService;
  /** What agents send besides their documents, and what the puller brings back. */
  readonly intake: AgentIntake;
  readonly telemetry: TelemetryService;
  readonly stream: StreamHub;
  readonly ca: CertificateAuthority;
  /** Publishes agents' status changes and enrollments (the stream's `agent` events). */
  readonly agentStatus: AgentStatusWatch;
  /** Polls pull agents; `poll(id)` polls one now. */
  readonly puller: Pick<Puller, 'poll'>;
  /** Icinga 2 tickets of hosts, with the server's ticket salt (`director.ticket_salt`). */
  readonly tickets: TicketService;
  readonly migration: MigrationReport;
  /** Configuration objects: hosts' configuration, templates, services, commands, host groups. */
  readonly objects: ObjectService;
  /** Deployments: checksummed snapshots of the configuration; the active one runs on agents. */
  readonly deployments: DeploymentService;
  /** The job queue: domains register handlers and queue jobs here. */
  readonly jobs: Jobs;
  /**
   * Alerts: the lifecycle (`sink`, the evaluator's `AlertSink`; people's actions; reads),
   * silences and Tyto's global thresholds.
   */
  readonly alerts: AlertParts;
  /** Alert rules and their evaluator (on ingest, on agents' status, and by its periodic tick). */
  readonly rules: RuleParts;
  /** Logs: ingest (`service.append`), search, counts, the live tail and retention. */
  readonly logs: LogParts;
  /** `log_count` alert rules' evaluator (on stored lines, and by its periodic cluster tick). */
  readonly logRules: LogRuleParts;
  /** Compliance: the packs, their assignment and delivery, stored reports; the fleet pages. */
  readonly compliance: ComplianceParts;
  /** The syslog listener, when `[syslog] listen` names addresses (never in `vigil worker`). */
  readonly syslog: SyslogListener | undefined;
  /** Closes the HTTP application, then the database. */
  close(): Promise<void>;
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
  const csrfKey = await instanceSecret(createInstanceSecretStore(db.kysely));
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
  /**
   * The checks each host's native agents run, carried by their push answers; by default those
   * the active deployment gives the host.
   */
  deployedChecks?: DeployedChecks;
  /** The built-in compliance packs' directory; by default `packages/server/compliance/`. */
  compliancePacksDir?: string;
  /**
   * Whether this process runs job workers and takes part in periodic cluster work; by default
   * `jobs.workers_in_process`. `vigil worker` sets it.
   */
  workers?: boolean;
  /**
   * How often the pull agents' schedule is looked at (ms; 1 s by default). Tests that poll pull
   * agents by hand set it past their run, so that no scheduled poll comes between theirs.
   */
  pullTickMs?: number;
}): Promise<Vigil> {
  const { config } = opts;
  const now = opts.now ?? Date.now;
  const db = opts.db ?? openConfiguredDb(config);
  let syslog: SyslogListener | undefined;
  try {
    const { migration, identity, sealer } = await prepareStore(db, config, now);
    const idempotency = createIdempotency({
      store: createIdempotencyStore(db.kysely),
      now,
      sealer,
    });
    const cursors = createCursorCodec(await instanceSecret(createInstanceSecretStore(db.kysely)));
    const queue = composeJobs({
      db,
      config,
      cursors,
      now,
      logger: opts.logger,
      workers: opts.workers ?? config.jobs.workers_in_process,
    });
    const audit = createAuditService({
      store: createAuditStore(db.kysely),
      cursors,
    });
    const health = createHealthService({ db, version: VERSION, startedAt: now(), now });
    const ca = await openCertificateAuthority(path.join(config.storage.data_dir, 'tls'));
    const registry = new MetricsRegistry();
    const { requestSeconds, commitSeconds, stopLoopWatch } = registerServerHistograms(registry);
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
    const logs = composeLogs({ db, bus, config, cursors, now });
    const broker = createCommandBroker();
    const agentStore = createAgentStore(db.kysely);
    const hosts = createHostService({ store: createHostStore(db.kysely) });
    const authCache = createAgentAuthCache();
    const facts = createFactsRecorder({
      store: agentStore,
      authCache,
      collectionInterval: () => agents.collectionInterval(),
      now,
    });
    bus.subscribe<IngestEvent>(INGEST_TOPIC, facts.record);
    // A change made to agents through the agents services drops the cached rows and the facts
    // recorder's views alike; the recorder's own writes drop only the former.
    const agentsChanged = {
      cached: authCache.cached,
      clear(): void {
        authCache.clear();
        facts.forget();
      },
    };
    const mutateAgents = createMutator({
      transact: (fn) =>
        db.kysely.transaction().execute((trx) =>
          fn({
            agents: createAgentStore(trx),
            audit: createAuditStore(trx),
            hosts: createHostService({ store: createHostStore(trx) }),
          } satisfies AgentStores),
        ),
      authCache: agentsChanged,
      now,
    });
    // Each change to an agent is followed by a check of its status, so that the stream tells of
    // an approval or an enrollment at once.
    const mutate: Mutate = async (ctx, entry, fn) => {
      await mutateAgents(ctx, entry, fn);
      if (entry.resourceType === 'agent' && entry.resourceId !== undefined)
        await agentStatus
          .check(
            entry.resourceId,
            entry.action === 'agent.enroll' || entry.action === 'agent.register',
          )
          .catch((err: unknown) => opts.logger.warn({ err }, 'agent status check failed'));
    };
    const signer = createCsrSigner(ca, config.agents.certificate_lifetime_days);
    const agentPolicy = {
      tokenTtlSeconds: config.agents.enrollment_token_ttl_seconds,
      certificateDays: config.agents.certificate_lifetime_days,
      defaultIntervalSeconds: config.agents.default_interval_seconds,
      autoApproveNetworks: config.agents.auto_approve_networks,
      autoApproveHostnames: config.agents.auto_approve_hostnames,
      commandTimeoutSeconds: config.agents.command_timeout_seconds,
      pendingPerAddress: config.agents.pending_per_address,
      pendingTtlHours: config.agents.pending_ttl_hours,
    };
    const agents = createAgentRegistry({
      store: agentStore,
      mutate,
      signer,
      lastContact: (id) => ingest.lastContact(id),
      commands: broker,
      policy: agentPolicy,
      now,
      sealer,
    });
    const agentStatus = createAgentStatusWatch({ agents, bus, now });
    bus.subscribe<IngestEvent>(INGEST_TOPIC, agentStatus.onDocument);
    const parts = composeConfiguration({
      db,
      config,
      hosts,
      sealer,
      cursors,
      now,
      logger: opts.logger,
    });
    const { objects, deployments, hostAdmin, connectivity, discovery, tickets } = parts;
    bus.subscribe<IngestEvent>(INGEST_TOPIC, hostAdmin.onReport);
    const intelligence = composeIntelligence({
      db,
      bus,
      hosts,
      settings: parts.settings,
      cursors,
      retentionDays: config.intelligence.retention_days,
      now,
      logger: opts.logger,
    });
    const alerts = composeAlerts({ db, bus, cursors, now });
    const rules = composeRules({
      db,
      bus,
      hosts,
      objects,
      telemetry: ingest,
      agents,
      sink: withoutComplianceAlerts(alerts.sink),
      thresholds: alerts.thresholds,
      changes: (listener) => {
        parts.onConfigurationChange(listener);
        alerts.thresholds.onChange(listener);
      },
      now,
      logger: opts.logger,
    });
    const compliance = composeCompliance({
      db,
      config,
      bus,
      hosts,
      objects,
      settings: parts.settings,
      sink: alerts.sink,
      cursors,
      changes: (listener) => parts.onConfigurationChange(listener),
      now,
      logger: opts.logger,
      packsDir: opts.compliancePacksDir,
    });
    const logRules = composeLogRules({
      rules,
      sink: alerts.sink,
      logs: logs.service,
      bus,
      now,
      logger: opts.logger,
    });
    const notifications = composeNotifications({
      db,
      sealer,
      hosts,
      alerts: alertSourceOf(alerts.lifecycle),
      timeoutMs: config.notifications.timeout_seconds * 1000,
      externalUrl: config.notifications.external_url,
      wake: () => queue.jobs.wake(),
      now,
      logger: opts.logger,
    });
    notifications.registerJobs({
      register: (kind, handler) => queue.jobs.register(kind, (job) => handler(job.payload)),
    });
    const overview = createFleetOverview({
      directory: {
        listing: () => hosts.listing(),
        byIds: (ids) => hosts.byIds(ids),
        agents: () => agents.list(),
        liveness: () => hosts.livenessAll(),
      },
      telemetry: ingest,
      compliance: compliance.summaries,
      series: HEAD_SERIES,
      now,
    });
    bus.subscribe<IngestEvent>(INGEST_TOPIC, overview.observe);
    const enrollment = createEnrollmentService({
      store: agentStore,
      mutate,
      authCache: agentsChanged,
      signer,
      registry: agents,
      policy: agentPolicy,
      now,
      tls: config.server.tls !== 'off',
      tickets: createTicketCheck({
        tickets,
        agentHosts: objects,
        mutate,
      }),
    });
    const deployedChecks: DeployedChecks = opts.deployedChecks ?? {
      forHost: (hostId) => deployments.checksFor(hostId),
    };
    const intake = createAgentIntake({
      store: agentStore,
      ingest,
      now,
      inventories: intelligence.recorder,
    });
    const commands = createCommandService({
      store: agentStore,
      broker,
      transact: (fn) =>
        db.kysely.transaction().execute((trx) => fn({ audit: createAuditStore(trx) })),
      policy: agentPolicy,
      now,
      pullCommander: () => puller.commander,
    });
    const pullClient = await ca.issueClient('vigil-server', 825);
    // Background work: rollups and agents' last contacts every 5 s, retention every minute; one
    // run of each at a time. Process jobs work on this process's memory (its rollup heads, the
    // contacts and statuses it saw) and run in every process; cluster jobs work on the database
    // for the whole fleet and run once per period, on the leader (jobs.workers_in_process or
    // `vigil worker`).
    const clusterJobs: Job[] = [
      { name: 'retention', everyMs: 60_000, run: () => ingest.runRetention() },
      { name: 'idempotency-expiry', everyMs: 300_000, run: () => idempotency.expire() },
      { name: 'pending-expiry', everyMs: 300_000, run: () => agents.expirePending() },
      { name: 'connectivity', everyMs: 5_000, run: () => connectivity.tick() },
      { name: 'discovery', everyMs: 30_000, run: () => discovery.tick() },
      { name: 'alert-silences', everyMs: 30_000, run: () => alerts.lifecycle.expireSilences() },
      {
        name: 'notification-reminders',
        everyMs: 60_000,
        run: () => notifications.dispatcher.tick(),
      },
      ...logs.jobs,
      ...intelligence.jobs,
      logRules.evaluator.job(),
    ];
    const jobs = startJobs(
      opts.logger,
      [
        { name: 'rollups', everyMs: 5_000, run: () => ingest.runRollups() },
        { name: 'contacts', everyMs: 5_000, run: () => ingest.writeContacts() },
        { name: 'agent-status', everyMs: 5_000, run: () => agentStatus.sweep() },
        // The evaluator's conditions live in this process's memory: each process ticks its own.
        rules.evaluator.job(),
        ...[...clusterJobs, ...queue.periodic].map((j) => ({ ...j, scope: 'cluster' as const })),
      ],
      queue.cluster,
    );
    const puller = startPuller({
      registry: agents,
      intake,
      identity: { ca, cert: pullClient.pem, key: pullClient.key },
      concurrency: config.agents.pull_concurrency,
      maxAnswerBytes: config.agents.max_document_bytes,
      certificateDays: config.agents.certificate_lifetime_days,
      now,
      log: opts.logger,
      tickMs: opts.pullTickMs,
    });

    registerServerMetrics(registry, {
      telemetry: ingest,
      hosts,
      stream,
      agents,
      exposeHosts: t.expose_host_metrics,
      evaluation: rules.evaluation,
      logs: () => logs.service.statistics(),
      syslog: () => syslog?.stats(),
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
      fallback: createConsole({ dir: config.server.console_dir || defaultConsoleDir() }),
      routes: (app) => {
        systemRoutes(app, { health });
        metricsRoutes(app, { registry });
        identityRoutes(app, { identity });
        const oauth = createOAuth({
          clients: createOAuthClientStore(db.kysely),
          identityStore: createIdentityStore(db.kysely),
          transact: (fn) =>
            db.kysely.transaction().execute((trx) =>
              fn({
                identity: createIdentityStore(trx),
                audit: createAuditStore(trx),
                clients: createOAuthClientStore(trx),
              }),
            ),
          identity,
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
        jobsRoutes(app, queue);
        agentRoutes(app, {
          registry: agents,
          enrollment,
          commands,
        });
        agentPushRoutes(app, {
          authenticator: enrollment,
          ingest,
          intake,
          takeCommands: (agentId) => broker.take(agentId),
          interval: (agent, document) => facts.interval(agent, document),
          deployedChecks,
          compliance: compliance.deliveries,
          maxDocumentBytes: config.agents.max_document_bytes,
        });
        const history = createHistoryReader({ telemetry: ingest, hosts, now });
        telemetryRoutes(app, { history });
        hostRoutes(app, {
          overview,
          sections: createSectionReader({
            resolveHost: (q) => history.resolveHost(q),
            latestDocument: (hostId) => ingest.latestDocument(hostId),
            inventoryOfHost: (hostId) => ingest.inventoryOfHost(hostId),
          }),
        });
        tlsRoutes(app, { ca: caInfoOf(ca) });
        exportRoutes(app, { telemetry: ingest, history, hosts });
        openwatchRoutes(app, {
          resolveHost: (target) => history.resolveHost(target),
          latestDocument: (hostId) => ingest.latestDocument(hostId),
          discovered: async (hostId) => {
            const [d, host] = await Promise.all([discovery.stored(hostId), hosts.get(hostId)]);
            if (!d?.facts || !host) return undefined;
            return { discovered_at: d.discovered_at, hostname: host.name, facts: d.facts };
          },
        });
        streamRoutes(app, { stream });
        configurationRoutes(app, parts, { identity, overview });
        ruleRoutes(app, rules);
        complianceAppRoutes(app, compliance);
        alertRoutes(app, alerts);
        notificationsRoutes(app, notifications);
        logsRoutes(app, logs, { authenticator: enrollment, config });
        hostIntelligenceRoutes(app, intelligence);
        cockpitDashboard(app, {
          dashboard: createDashboard({
            hosts: overview,
            alerts: createDashboardStore(db.kysely),
            agents,
            checks: ingest,
            now,
          }),
        });
        activityRoutes(app, {
          activity: createActivityFeed({
            alerts: createActivityStore(db.kysely),
            audit: createAuditStore(db.kysely),
            cursors,
          }),
        });
        openitcockpitFace(app, {
          enrollment,
          authenticator: enrollment,
          ingest,
          intake,
          options: {
            apiKey: config.agents.oitc_api_key,
            bodyLimitBytes: config.agents.max_document_bytes,
          },
        });
      },
    });
    // Waiting long polls and commands end first, so that shutdown does not wait for them.
    http.addHook('preClose', (done) => {
      broker.close();
      stream.close();
      done();
    });
    http.addHook('onClose', async () => {
      stopLoopWatch();
      await jobs.stop();
      await queue.stop();
      await discovery.idle();
      await puller.stop();
      await rules.evaluator.idle();
      await syslog?.close();
      await logRules.evaluator.idle();
      await ingest.close();
      await intelligence.recorder.idle();
      await logs.close();
      await db.close();
    });
    await http.ready();
    // `vigil worker` serves nothing: no HTTP, no syslog.
    if (opts.workers !== true)
      syslog = await startSyslog({
        config,
        ingest: logs.service,
        hosts,
        changes: (listener) => parts.onConfigurationChange(listener),
        now,
        logger: opts.logger,
      });
    // What the agents are now: the changes from here on are news.
    await agentStatus.sweep();
    queue.start();
    // The conditions already open: a restart neither opens them again nor forgets them.
    await rules.evaluator.start();
    return {
      http,
      db,
      identity,
      agents,
      enrollment,
      commands,
      intake,
      telemetry: ingest,
      stream,
      ca,
      agentStatus,
      puller,
      tickets,
      migration,
      objects,
      deployments,
      jobs: queue.jobs,
      alerts,
      rules,
      logs,
      logRules,
      compliance,
      syslog,
      close: () => http.close(),
    };
  } catch (err) {
    await syslog?.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw err;
  }
}
