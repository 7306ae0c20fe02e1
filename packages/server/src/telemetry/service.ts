import type { EventBus } from '../events/bus.js';
import { createIngester, type IngestPolicy } from './ingest/ingest.js';
import type { CheckState } from './ingest/checks.js';
import type { DocumentRow } from './rows.js';
import { createTsdb, type TsdbPolicy, type TsdbStore } from './tsdb/tsdb.js';

/** A check failing on hosts: how many, by state. */
export interface FailingCheck {
  name: string;
  hosts: number;
  warning: number;
  critical: number;
  unknown: number;
}

/**
 * What telemetry keeps besides the tsdb: agents' latest documents and last contact, check
 * states and their history, and package inventories. Every method may be called concurrently
 * with ingest. (Hosts themselves are the hosts domain's: telemetry asks it.)
 */
export interface TelemetryStore {
  /** Sets agents' last contact, never moving one back. */
  touchAgents(seen: { agentId: string; at: number }[]): Promise<void>;
  /** The current states of a host's checks. */
  checkStates(hostId: string): Promise<{ name: string; state: CheckState }[]>;
  /** The state changes of one check with `from <= ts < to`, newest first, at most `limit`. */
  checkHistory(
    hostId: string,
    name: string,
    from: number,
    to: number,
    limit: number,
  ): Promise<{ ts: number; state: number; stateType: string; attempt: number; output: string }[]>;
  saveInventory(agentId: string, receivedAt: number, inventory: string): Promise<void>;
  /** The newest package inventory of any agent of a host (JSON text), or undefined. */
  inventoryOfHost(
    hostId: string,
  ): Promise<{ agent_id: string; received_at: number; inventory: string } | undefined>;
  /** Every host's number of checks in each state (0–3 and others), one query. */
  checkStateCounts(): Promise<{ hostId: string; state: number; count: number }[]>;
  /**
   * The checks in a HARD problem state on the most hosts, most first (then by name): per check
   * name, the hosts failing it and how many are WARNING, CRITICAL and UNKNOWN (the rest).
   */
  failingChecks(limit: number): Promise<FailingCheck[]>;
  /** The newest full document of any agent of a host. */
  latestDocumentOfHost(hostId: string): Promise<DocumentRow | undefined>;
  /**
   * For each of `hostIds` (a page, not every host), the agent that reported for it last as
   * stored: the one of its newest document, else its agent heard from last, else its only
   * agent; absent for a host without such an agent.
   */
  reportingAgents(hostIds: string[]): Promise<Map<string, string>>;
}

/** Settings of the telemetry domain. */
export type TelemetryPolicy = TsdbPolicy & IngestPolicy;

/**
 * Telemetry: ingest (validate, normalise, append) into the tsdb (group commit, rollups,
 * retention) and the reads of both, wired together. This is what the rest of the server holds:
 * agents ingest through it, the API and the faces read through it.
 */
export const createTelemetryService = (deps: {
  /** Documents, check states, inventories and contacts. */
  store: TelemetryStore;
  /** Series, samples, rollups and head chunks. */
  tsdb: TsdbStore;
  now: () => number;
  policy: TelemetryPolicy;
  log?: { warn(o: object, m: string): void };
  /**
   * Where each new document is delivered (events/types.ts `INGEST_TOPIC`); ingest waits for its
   * subscribers before it answers.
   */
  bus?: EventBus;
  /** Told how long each group commit took and how many pushes it held. */
  onCommit?: (seconds: number, pushes: number) => void;
}) => {
  const { store, policy } = deps;
  const tsdb = createTsdb({
    store: deps.tsdb,
    now: deps.now,
    policy,
    onCommit: deps.onCommit,
  });
  const { appender, querier } = tsdb;
  const ingester = createIngester({
    appender,
    store,
    now: deps.now,
    policy,
    log: deps.log,
    bus: deps.bus,
  });

  const service = {
    ingest: ingester.ingest,
    ingestInventory: ingester.ingestInventory,
    runRollups: tsdb.runRollups,
    runRetention: tsdb.runRetention,
    history: querier.history,
    recentHistory: querier.recentHistory,
    headHistory: querier.headHistory,
    current: querier.current,
    /** The series of a host. */
    series: querier.series,
    /** The whole fleet's newest values and recent 1-minute averages, from memory. */
    fleetRecent: tsdb.fleet.recent,

    /**
     * For each of `hostIds`, the agent that reported for it last: as this process saw its pushes,
     * else from the store (one query for all the hosts this process has not seen push). Absent
     * for a host that has no agent.
     */
    async reportingAgents(hostIds: string[]): Promise<Map<string, string>> {
      const out = new Map<string, string>();
      const unseen: string[] = [];
      for (const id of hostIds) {
        const mem = tsdb.latestOf(id);
        if (mem) out.set(id, mem.agentId);
        else unseen.push(id);
      }
      if (unseen.length > 0)
        for (const [id, agent] of await store.reportingAgents(unseen)) out.set(id, agent);
      return out;
    },

    /** The current states of a host's checks, by name. */
    async checks(hostId: string) {
      return (await store.checkStates(hostId)).sort((a, b) => a.name.localeCompare(b.name));
    },

    /** The state changes of one check. */
    checkHistory: (hostId: string, name: string, from: number, to: number, limit: number) =>
      store.checkHistory(hostId, name, from, to, limit),

    /** Consecutive problems before a check is HARD. */
    maxCheckAttempts: policy.maxCheckAttempts,

    /** The newest full document of a host. */
    latestDocument: (hostId: string) => store.latestDocumentOfHost(hostId),

    /** The newest package inventory of a host's agents (JSON text), or undefined. */
    inventoryOfHost: (hostId: string) => store.inventoryOfHost(hostId),

    /** The checks in a HARD problem state on the most hosts (see `TelemetryStore.failingChecks`). */
    topFailingChecks: (limit: number) => store.failingChecks(limit),

    /** Every host's counts of checks by state: OK, WARNING, CRITICAL, and UNKNOWN for the rest. */
    async checkCounts(): Promise<
      Map<string, { ok: number; warning: number; critical: number; unknown: number }>
    > {
      const out = new Map<
        string,
        { ok: number; warning: number; critical: number; unknown: number }
      >();
      for (const r of await store.checkStateCounts()) {
        let c = out.get(r.hostId);
        if (!c) out.set(r.hostId, (c = { ok: 0, warning: 0, critical: 0, unknown: 0 }));
        if (r.state === 0) c.ok += r.count;
        else if (r.state === 1) c.warning += r.count;
        else if (r.state === 2) c.critical += r.count;
        else c.unknown += r.count;
      }
      return out;
    },

    /** Counters since start, for `/metrics`. */
    statistics: () => ({ ...ingester.statistics(), ...appender.statistics() }),

    /** An agent's last contact as of this process's commits (undefined when it has none). */
    lastContact: appender.lastContact,

    /** Writes the last contacts not yet written (every few seconds, and at close). */
    writeContacts: () => appender.writeContacts((seen) => store.touchAgents(seen)),

    /** Commits what is queued and writes the last contacts; ingest refuses from then on. */
    async close(): Promise<void> {
      ingester.close();
      await appender.close();
      await service.writeContacts();
    },
  };
  return service;
};

/** The telemetry service. */
export type TelemetryService = ReturnType<typeof createTelemetryService>;
