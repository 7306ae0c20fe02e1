import type { Logger } from 'pino';
import type { AlertSink } from './alerts/model.js';
import type { CursorCodec } from './audit/service.js';
import type { ComplianceDeliveries } from './agents/push-routes.js';
import { createComplianceAssignment } from './compliance/assignment.js';
import { COMPLIANCE_RULE_ID, createComplianceIngest } from './compliance/ingest.js';
import { defaultPacksDir, loadPacks, type PackCatalog } from './compliance/packs.js';
import { complianceRoutes } from './compliance/routes.js';
import { createComplianceService } from './compliance/service.js';
import { createComplianceStore } from './compliance/store.js';
import { createHostSummaries } from './compliance/summaries.js';
import type { Config } from './config/config.js';
import type { Db } from './db/connection.js';
import type { EventBus } from './events/bus.js';
import { INGEST_TOPIC, type IngestEvent } from './events/types.js';
import { licenseRoutes } from './faces/openwatch/license.js';
import { fleetRoutes } from './fleet/routes.js';
import { createFleetService } from './fleet/service.js';
import type { HostService } from './hosts/service.js';
import type { App } from './http/server.js';
import type { ObjectService } from './objects/service.js';
import type { SettingsService } from './system/settings.js';

/**
 * The packs the server loads: the built-in ones (`packages/server/compliance/`, or `builtInDir`)
 * and the operator's (`compliance.packs_dir`, when set).
 * @throws PackError for a bad pack file, a missing operator directory or a duplicate pack id.
 */
export function loadConfiguredPacks(config: Config, builtInDir = defaultPacksDir()): PackCatalog {
  const dirs = [{ dir: builtInDir, required: false }];
  if (config.compliance.packs_dir !== '')
    dirs.push({ dir: config.compliance.packs_dir, required: true });
  return loadPacks(dirs);
}

/**
 * Composes compliance and the fleet pages for app.ts: the packs (loaded and checked at start),
 * their assignment to hosts (the resolved `compliance_packs` var of a host's configuration,
 * cached until the configuration changes here), the delivery the native push answer carries, the
 * ingest subscriber that stores reports and raises alerts through `sink`, the reads of the
 * compliance and fleet routes, and the hosts overview's compliance summaries.
 */
export function composeCompliance(deps: {
  db: Db;
  config: Config;
  bus: EventBus;
  hosts: HostService;
  objects: ObjectService;
  settings: SettingsService;
  sink: AlertSink;
  cursors: CursorCodec;
  /** Subscribes to changes of the configuration made in this process. */
  changes: (listener: () => void) => void;
  now: () => number;
  logger: Logger;
  /** The built-in packs' directory (tests give their own). */
  packsDir?: string;
}) {
  const { db, hosts, objects, settings, now } = deps;
  const catalog = loadConfiguredPacks(deps.config, deps.packsDir);
  const store = createComplianceStore(db.kysely);
  const assignment = createComplianceAssignment({
    catalog,
    packVar: async (hostId) => {
      const object = await objects.hostById(hostId).catch(() => undefined);
      if (!object) return undefined;
      try {
        return (await objects.resolved(object)).vars.compliance_packs;
      } catch {
        // A configuration that does not resolve (an import loop) gives its own vars only.
        return object.vars.compliance_packs;
      }
    },
    config: () => settings.get('compliance'),
    now,
  });
  deps.changes(() => assignment.invalidate());
  const ingest = createComplianceIngest({
    catalog,
    store,
    transact: (fn) => db.kysely.transaction().execute((trx) => fn(createComplianceStore(trx))),
    sink: deps.sink,
    config: () => assignment.settings(),
    log: (err, what) => deps.logger.warn({ err }, what),
  });
  deps.bus.subscribe<IngestEvent>(INGEST_TOPIC, (e) => ingest.onIngest(e));
  const service = createComplianceService({
    catalog,
    assignment,
    store,
    hostExists: async (id) => (await hosts.get(id)) !== undefined,
    settings,
  });
  const fleet = createFleetService({
    hosts,
    compliance: store,
    catalog,
    connectivityIntervalSeconds: async () => (await settings.get('connectivity')).interval_seconds,
    cursors: deps.cursors,
    now,
  });
  /** What the native push answer carries for an agent's host. */
  const deliveries: ComplianceDeliveries = {
    forHost: (hostId, held) => assignment.delivery(hostId, held),
  };
  /** The hosts overview's compliance summaries. */
  const summaries = createHostSummaries({ catalog, store });
  return { catalog, assignment, ingest, service, fleet, deliveries, summaries };
}

/** Compliance's parts, as composeCompliance builds them. */
export type ComplianceParts = ReturnType<typeof composeCompliance>;

/**
 * The alert sink as rule evaluators see it: without compliance's open alerts, which no alert rule
 * owns (an evaluator would otherwise take them for its own and clear them).
 */
export function withoutComplianceAlerts(sink: AlertSink): AlertSink {
  return {
    fire: (signal) => sink.fire(signal),
    clear: (key, at) => sink.clear(key, at),
    open: async () => (await sink.open()).filter((a) => a.ruleId !== COMPLIANCE_RULE_ID),
  };
}

/** Registers compliance's, the fleet pages' and the license's routes. */
export function complianceAppRoutes(app: App, parts: ComplianceParts): void {
  complianceRoutes(app, { compliance: parts.service });
  fleetRoutes(app, { fleet: parts.fleet });
  licenseRoutes(app);
}
