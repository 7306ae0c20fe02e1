import type { NativePush, NativePushResult, PullTls } from '@vigil/protocol';
import { VigilError } from '../errors.js';
import type { AuthCacheInvalidation } from './mutate.js';
import type { AgentPatch, AgentRow } from './model.js';

/** What the intake needs of the agents table. */
export interface IntakeStore {
  update(id: string, patch: AgentPatch): Promise<void>;
  /** The agent's newest document, as JSON text. */
  latestDocument(id: string): Promise<{ collected_at: number; document: string } | undefined>;
}

/** Where the intake hands documents and inventories on to: telemetry. */
export interface IntakeTelemetry {
  /**
   * Validates, normalises and stores one document of an agent on a host, collected at
   * `collectedAt` (epoch ms); resolves once it is committed.
   * @throws VigilError bad_data; nothing is stored then.
   */
  ingest(
    target: { agentId: string; hostId: string },
    collectedAt: number,
    document: unknown,
  ): Promise<{ received_checks: number; duplicate: boolean; clock_skew_seconds: number | null }>;
  /** Stores an agent's package inventory in place of the one before. */
  ingestInventory(agentId: string, inventory: unknown): Promise<void>;
}

/**
 * Whether a check-data document carries no data at all (`{}`). The openITCOCKPIT agent answers
 * `GET /` so from every start or reload of its web server (after Auto-TLS, a configuration push,
 * each certificate renewal) until its checks first ran (`webserver/handler.go`, `getState`): a
 * sign of life, not a host whose values are all gone.
 */
export function hasNoData(doc: Record<string, unknown>): boolean {
  return Object.keys(doc).length === 0;
}

/**
 * Whether a package inventory (the agent's `GET /packages` answer) is one not yet scanned: the
 * openITCOCKPIT agent has `{"Enabled": true, "Pending": true}` with empty lists from every start
 * or reload until its first scan ends, 90 s later.
 */
export function isPendingInventory(inventory: unknown): boolean {
  if (typeof inventory !== 'object' || inventory === null) return false;
  const { Enabled, Pending, LastUpdate } = inventory as Record<string, unknown>;
  return (
    Enabled === true && (Pending === true || typeof LastUpdate !== 'number' || LastUpdate <= 0)
  );
}

/**
 * When a document was collected: its `agent.last_updated_timestamp` (seconds) when it has a
 * sane one, else `fallback`.
 */
function collectedAtOf(doc: Record<string, unknown>, fallback: number): number {
  const stamp = (doc.agent as Record<string, unknown> | undefined)?.last_updated_timestamp;
  return typeof stamp === 'number' && Number.isFinite(stamp) && stamp > 0
    ? Math.round(stamp * 1000)
    : fallback;
}

/** Where an agent's documents go: its host. */
function ingestTarget(agent: AgentRow): { agentId: string; hostId: string } {
  if (!agent.host_id)
    throw new VigilError('conflict', `agent ${agent.id} is not linked to a host`, {
      code: 'agent.no_host',
    });
  return { agentId: agent.id, hostId: agent.host_id };
}

/** Reads `agent.check_interval` of a document when it is a sane number of seconds. */
function reportedInterval(doc: Record<string, unknown>): number | undefined {
  const agent = doc.agent as Record<string, unknown> | undefined;
  const v = agent?.check_interval;
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 86400 ? v : undefined;
}

/** Facts an agent's document tells about it (for the agents list). */
function reportedFacts(doc: Record<string, unknown>): AgentPatch {
  const agent = doc.agent as Record<string, unknown> | undefined;
  if (!agent || typeof agent !== 'object') return {};
  const s = (v: unknown) => (typeof v === 'string' && v !== '' ? v.slice(0, 128) : undefined);
  const patch: AgentPatch = {};
  const os = s(agent.goos) ?? s(agent.system)?.toLowerCase();
  if (os) patch.os = os;
  const arch = s(agent.goarch);
  if (arch) patch.architecture = arch;
  const version = s(agent.agent_version);
  if (version) patch.version = version;
  const interval = reportedInterval(doc);
  if (interval) patch.interval_seconds = interval;
  return patch;
}

/**
 * What agents send: native pushes, openITCOCKPIT pushes and package inventories, and what the
 * puller brings back from pull agents. Documents go to telemetry; the facts they tell about the
 * agent (system, version, interval, clock skew) go to the agent's row.
 */
export const createAgentIntake = (deps: {
  store: IntakeStore;
  ingest: IntakeTelemetry;
  /** Hands out the commands queued for a native agent (the answer to its push carries them). */
  commands: { take(agentId: string): NativePushResult['commands'] };
  /** The fleet-wide collection interval, or null when agents keep their own. */
  collectionInterval: () => Promise<number | null>;
  authCache: AuthCacheInvalidation;
  now: () => number;
}) => {
  const { store, now, authCache } = deps;
  return {
    /** Takes in a native push; the answer carries commands waiting for the agent. */
    async pushNative(agent: AgentRow, body: NativePush): Promise<NativePushResult> {
      const outcome = await deps.ingest.ingest(
        ingestTarget(agent),
        body.collected_at,
        body.checkdata,
      );
      // The clock skew is set while the agent's clock is too far ahead, and cleared after.
      const patch = {
        ...reportedFacts(body.checkdata),
        clock_skew_seconds: outcome.clock_skew_seconds,
      };
      const changed = Object.entries(patch).some(
        ([k, v]) => (agent as Record<string, unknown>)[k] !== v,
      );
      if (changed) {
        await store.update(agent.id, { ...patch, updated_at: now() });
        authCache.clear();
      }
      return {
        received_checks: outcome.received_checks,
        duplicate: outcome.duplicate,
        interval_seconds:
          (await deps.collectionInterval()) ?? patch.interval_seconds ?? agent.interval_seconds,
        commands: deps.commands.take(agent.id),
      };
    },

    /** Takes in an openITCOCKPIT push of an agent the enrollment service authenticated (`byPassword`). */
    async submitOitc(agent: AgentRow, checkdata: Record<string, unknown>) {
      if (hasNoData(checkdata)) {
        const t = now();
        await store.update(agent.id, { last_seen: t, updated_at: t });
        return { received_checks: 0 };
      }
      const outcome = await deps.ingest.ingest(
        ingestTarget(agent),
        collectedAtOf(checkdata, now()),
        checkdata,
      );
      const patch = {
        ...reportedFacts(checkdata),
        clock_skew_seconds: outcome.clock_skew_seconds,
      };
      if (Object.entries(patch).some(([k, v]) => (agent as Record<string, unknown>)[k] !== v)) {
        await store.update(agent.id, { ...patch, updated_at: now() });
        authCache.clear();
      }
      return outcome;
    },

    /**
     * Stores a package inventory an agent sent; a pending one (`isPendingInventory`) leaves the
     * stored inventory as it is.
     */
    async submitInventory(agent: AgentRow, inventory: unknown): Promise<void> {
      if (!isPendingInventory(inventory)) await deps.ingest.ingestInventory(agent.id, inventory);
      await store.update(agent.id, { last_seen: now() });
    },

    /**
     * Removes self-registrations that waited for approval longer than `agents.pending_ttl_hours`,

    /**
     * Stores the package inventory pulled from an agent (`GET /packages`), unless it is pending
     * (`isPendingInventory`): the stored one is kept then. Returns whether it was stored.
     */
    async recordPullInventory(agent: AgentRow, inventory: unknown): Promise<boolean> {
      if (isPendingInventory(inventory)) return false;
      await deps.ingest.ingestInventory(agent.id, inventory);
      return true;
    },

    /**
     * Records how talking to a pull agent went; a document is ingested, one without data
     * (`hasNoData`) only counts as a contact.
     */
    async recordPull(
      agent: AgentRow,
      outcome: { tls?: PullTls; document?: Record<string, unknown>; error?: string },
    ): Promise<void> {
      const t = now();
      const patch: AgentPatch = { updated_at: t, last_error: outcome.error ?? null };
      if (outcome.tls !== undefined) patch.pull_tls = outcome.tls;
      // A document without data is a contact, not a push: the host keeps its values.
      if (outcome.document && hasNoData(outcome.document)) patch.last_seen = t;
      else if (outcome.document) {
        try {
          const ingested = await deps.ingest.ingest(
            ingestTarget(agent),
            collectedAtOf(outcome.document, t),
            outcome.document,
          );
          // A pull agent is polled at the interval its operator set, not at its own.
          const { interval_seconds: _own, ...facts } = reportedFacts(outcome.document);
          Object.assign(patch, facts, {
            last_seen: t,
            clock_skew_seconds: ingested.clock_skew_seconds,
          });
        } catch (err) {
          patch.last_error = (err as Error).message;
        }
      }
      await store.update(agent.id, patch);
    },

    /**
     * Records a certificate a pull agent took (Auto-TLS, or its renewal over mutual TLS), with

    /** The agent's latest document (JSON text), if any. */
    latestDocument: (id: string) => store.latestDocument(id),
  };
};

/** The agents intake. */
export type AgentIntake = ReturnType<typeof createAgentIntake>;
