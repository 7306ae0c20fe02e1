import type { Logger } from 'pino';
import type { DiskSeries } from './alerts/evaluate/deps.js';
import { createEvaluator } from './alerts/evaluate/evaluator.js';
import type { AlertSink, GlobalThresholds } from './alerts/model.js';
import { alertRuleRoutes } from './alerts/rule-routes.js';
import {
  mergeOverrides,
  overridesOf,
  type AlertOverrides,
  type HostFacts,
} from './alerts/rules.js';
import { createRuleService } from './alerts/rules-service.js';
import { createRuleStore } from './alerts/rules-store.js';
import type { AgentRegistry } from './agents/registry.js';
import { createAuditStore } from './audit/store.js';
import type { Db } from './db/connection.js';
import type { EventBus } from './events/bus.js';
import {
  AGENT_STATUS_TOPIC,
  INGEST_TOPIC,
  type AgentStatusEvent,
  type IngestEvent,
} from './events/types.js';
import type { HostService } from './hosts/service.js';
import type { App } from './http/server.js';
import type { ObjectService } from './objects/service.js';
import { normalize, parseSeriesKey } from './telemetry/ingest/normalize.js';
import { storedDocument } from './telemetry/query/sections.js';
import type { TelemetryService } from './telemetry/service.js';

/**
 * How long a host's facts, overrides and rule plan are kept. Changes made in this process drop
 * them at once (`changes`); this bounds how late one made by another process is seen.
 */
const HOST_TTL_MS = 300_000;

/**
 * Composes alert rules for app.ts: the rules service on its store and unit of work, and the
 * evaluator, subscribed to ingest and to agents' status changes. The evaluator reports to the
 * alert lifecycle's `sink` and reads Tyto's global thresholds from `thresholds`; a host's
 * facts and overrides (its configuration's resolved `vars.alerts`) are read through the hosts
 * and objects services and cached until the configuration, the thresholds or the rules change
 * here (at most `HOST_TTL_MS`).
 */
export function composeRules(deps: {
  db: Db;
  bus: EventBus;
  hosts: HostService;
  objects: ObjectService;
  telemetry: TelemetryService;
  agents: AgentRegistry;
  sink: AlertSink;
  thresholds: { get(): Promise<GlobalThresholds> };
  /** Subscribes to changes of the configuration and the thresholds made in this process. */
  changes: (listener: () => void) => void;
  now: () => number;
  logger: Logger;
}) {
  const { db, hosts, objects, telemetry, now } = deps;
  const cache = new Map<string, { at: number; ctx: Promise<HostContext | undefined> }>();
  interface HostContext {
    facts: HostFacts;
    overrides: AlertOverrides;
  }
  const load = async (hostId: string): Promise<HostContext | undefined> => {
    const row = await hosts.get(hostId);
    if (!row) return undefined;
    const templates = new Set<string>();
    let overrides: AlertOverrides = {};
    const object = await objects.hostById(hostId).catch(() => undefined);
    if (object) {
      for (const t of object.imports) templates.add(t);
      try {
        const r = await objects.resolved(object);
        for (const o of Object.values(r.origins.vars)) if (o !== null) templates.add(o);
        // Each imported template's (resolved) overrides in import order, then the host's own.
        for (const name of object.imports) {
          const t = await objects.get({ kind: 'host', name });
          overrides = mergeOverrides(overrides, overridesOf((await objects.resolved(t)).vars));
        }
      } catch {
        // A configuration that does not resolve (an import loop) gives its own vars only.
        overrides = {};
      }
      overrides = mergeOverrides(overrides, overridesOf(object.vars));
    }
    return {
      facts: {
        id: row.id,
        name: row.name,
        tags: row.tags,
        environment: row.environment,
        templates: [...templates],
      },
      overrides,
    };
  };
  const context = (hostId: string) => {
    const c = cache.get(hostId);
    if (c && now() - c.at < HOST_TTL_MS) return c.ctx;
    const ctx = load(hostId);
    if (cache.size > 50_000) cache.clear();
    cache.set(hostId, { at: now(), ctx });
    return ctx;
  };
  const allHosts = async (): Promise<HostFacts[]> =>
    (await hosts.all()).map((h) => ({
      id: h.id,
      name: h.name,
      tags: h.tags,
      environment: h.environment,
      templates: [],
    }));
  const overrides = async (hostId: string) => (await context(hostId))?.overrides ?? {};

  const rules = createRuleService({
    store: createRuleStore(db.kysely),
    transact: (fn) =>
      db.kysely
        .transaction()
        .execute((trx) => fn({ rules: createRuleStore(trx), audit: createAuditStore(trx) })),
    preview: {
      hosts: async () => {
        const all = await allHosts();
        return Promise.all(all.map(async (h) => (await context(h.id))?.facts ?? h));
      },
      latestSamples: async (hostId) => {
        const row = await telemetry.latestDocument(hostId);
        return row ? normalize(storedDocument(row.document)) : undefined;
      },
      thresholds: deps.thresholds,
      overrides,
      parseKey: parseSeriesKey,
    },
    now,
  });

  const disks = async (hostId: string, from: number, to: number): Promise<DiskSeries[]> => {
    const series = await telemetry.series(hostId, ['disk_used_bytes', 'disk_total_bytes']);
    const used = new Map<string, number>();
    const total = new Map<string, number>();
    for (const s of series) {
      const { metric, labels } = parseSeriesKey(s.key);
      if (labels.mount === undefined) continue;
      if (metric === 'disk_used_bytes') used.set(labels.mount, s.id);
      else if (metric === 'disk_total_bytes') total.set(labels.mount, s.id);
    }
    const ids = [...used.values(), ...total.values()];
    if (ids.length === 0) return [];
    const points = await telemetry.recentHistory(hostId, from, to, ids);
    const out: DiskSeries[] = [];
    for (const [mount, usedId] of used) {
      const totalId = total.get(mount);
      if (totalId === undefined) continue;
      let totalBytes = 0;
      const pts: DiskSeries['used'] = [];
      for (const p of points) {
        const u = p.values.get(usedId);
        if (u) pts.push({ t: p.timestamp / 1000, v: u.avg });
        const t = p.values.get(totalId);
        if (t) totalBytes = t.avg;
      }
      if (totalBytes > 0) out.push({ mount, totalBytes, used: pts });
    }
    return out;
  };

  const evaluator = createEvaluator({
    rules,
    sink: deps.sink,
    thresholds: deps.thresholds,
    hosts: {
      facts: async (hostId) => (await context(hostId))?.facts,
      all: allHosts,
    },
    overrides,
    parseKey: parseSeriesKey,
    liveness: async () => hosts.livenessAll(),
    certificates: async () =>
      (await deps.agents.list()).flatMap((a) =>
        a.approval === 'approved' && a.host_id !== null && a.certificate
          ? [{ agentId: a.id, hostId: a.host_id, notAfter: Date.parse(a.certificate.not_after) }]
          : [],
      ),
    disks,
    hostTtlMs: HOST_TTL_MS,
    now,
    log: (err, what) => deps.logger.warn({ err }, what),
  });
  deps.changes(() => {
    cache.clear();
    evaluator.invalidate();
  });
  // The time judging pushes takes on the event loop (its synchronous part: the rules' matching
  // and thresholds; sink writes run after it), for /metrics.
  const evaluation = { pushes: 0, seconds: 0 };
  deps.bus.subscribe<IngestEvent>(INGEST_TOPIC, (e) => {
    const t0 = performance.now();
    try {
      return evaluator.onIngest(e);
    } finally {
      evaluation.pushes += 1;
      evaluation.seconds += (performance.now() - t0) / 1000;
    }
  });
  deps.bus.subscribe<AgentStatusEvent>(AGENT_STATUS_TOPIC, (e) => evaluator.onAgentStatus(e));
  /** Hosts as rules see them (facts with templates, overrides), for other rule evaluators. */
  const ruleHosts = {
    ids: async () => (await hosts.all()).map((h) => h.id),
    facts: async (hostId: string) => (await context(hostId))?.facts,
    overrides,
  };
  return {
    rules,
    evaluator,
    ruleHosts,
    evaluation: evaluation as Readonly<typeof evaluation>,
  };
}

/** The alert rules' parts, as composeRules builds them. */
export type RuleParts = ReturnType<typeof composeRules>;

/** Registers the alert rules' routes (`/api/v1/alerts/rules`). */
export function ruleRoutes(app: App, parts: RuleParts): void {
  alertRuleRoutes(app, { rules: parts.rules });
}
