import { fieldsOf, type CheckDocument } from '@vigil/protocol/decode';
import { isRecord } from '@vigil/protocol/guards';
import type { IngestEvent } from '../events/types.js';
import type { AgentPatch, AgentRow } from './model.js';
import type { AuthCacheInvalidation } from './mutate.js';

/** What the facts recorder needs of the agents table. */
export interface FactsStore {
  /** Returns undefined when absent. */
  get(id: string): Promise<AgentRow | undefined>;
  update(id: string, patch: AgentPatch): Promise<void>;
}

/** What an agent's documents tell about it, as its row holds it (the agents list shows it). */
type Facts = Pick<
  AgentRow,
  'os' | 'architecture' | 'version' | 'interval_seconds' | 'clock_skew_seconds'
>;

/** What the recorder last wrote (or read) of an agent's row. */
interface View {
  kind: AgentRow['kind'];
  facts: Facts;
}

/** Most agents whose view is kept; beyond it the views are dropped and read again. */
const MAX_VIEWS = 100_000;

/** An interval an agent reports, when it is a sane whole number of seconds. */
const saneInterval = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 86400 ? v : undefined;

/** Reads `agent.check_interval` of a document when it is a sane number of seconds. */
function reportedInterval(doc: CheckDocument): number | undefined {
  return saneInterval(fieldsOf(doc.agent).check_interval);
}

/** A non-empty text field, cut to what the column keeps. */
const text = (v: string | undefined): string | undefined =>
  v !== undefined && v !== '' ? v.slice(0, 128) : undefined;

/** Facts a document tells about its agent (for the agents list). */
function reportedFacts(doc: CheckDocument): Partial<Facts> {
  const agent = fieldsOf(doc.agent);
  const facts: Partial<Facts> = {};
  const os = text(agent.goos) ?? text(agent.system)?.toLowerCase();
  if (os) facts.os = os;
  const arch = text(agent.goarch);
  if (arch) facts.architecture = arch;
  const version = text(agent.agent_version);
  if (version) facts.version = version;
  const interval = reportedInterval(doc);
  if (interval) facts.interval_seconds = interval;
  return facts;
}

/** The facts of a stored row (bigint columns may come back as text). */
const factsOfRow = (row: AgentRow): Facts => ({
  os: row.os,
  architecture: row.architecture,
  version: row.version,
  interval_seconds: Number(row.interval_seconds),
  clock_skew_seconds: row.clock_skew_seconds === null ? null : Number(row.clock_skew_seconds),
});

/**
 * Records the facts an agent's documents tell about it (system, architecture, version, interval,
 * clock skew) on its row, as a subscriber of the ingest event (`IngestEvent`, subscribed in
 * app.ts). A pull agent's own `check_interval` is not adopted: it is polled at the interval its
 * operator set. The clock skew is set while the agent's clock is too far ahead, and cleared
 * after.
 *
 * A row is written only when a fact changed: the recorder keeps what it last wrote of each
 * agent, read from the row at the agent's first document. A write drops the authentication
 * cache (`authCache`), whose rows would be stale; every other change to agents must call
 * `forget`, so that the next document compares with the row again.
 */
export function createFactsRecorder(deps: {
  store: FactsStore;
  authCache: AuthCacheInvalidation;
  /** The fleet-wide collection interval, or null when agents keep their own. */
  collectionInterval: () => Promise<number | null>;
  now: () => number;
}) {
  const { store, authCache, now } = deps;
  const views = new Map<string, View>();
  /** Counts `forget` calls: a view read before the latest one is not kept. */
  let generation = 0;

  /** The facts of the event that differ from the view's, or undefined when none does. */
  function changes(view: View, e: IngestEvent): Partial<Facts> | undefined {
    const patch: Partial<Facts> = {
      ...reportedFacts(e.doc),
      clock_skew_seconds: e.clockSkewSeconds,
    };
    if (view.kind === 'pull') delete patch.interval_seconds;
    for (const key of Object.keys(patch) as (keyof Facts)[])
      if (patch[key] !== view.facts[key]) return patch;
    return undefined;
  }

  async function write(agentId: string, view: View, patch: Partial<Facts>): Promise<void> {
    await store.update(agentId, { ...patch, updated_at: now() });
    Object.assign(view.facts, patch);
    authCache.clear();
  }

  /** Reads the agent's row into its view, then records the event's facts against it. */
  async function seed(e: IngestEvent): Promise<void> {
    const before = generation;
    const row = await store.get(e.agentId);
    if (!row) return;
    const view: View = { kind: row.kind, facts: factsOfRow(row) };
    if (before === generation) {
      if (views.size >= MAX_VIEWS) views.clear();
      views.set(e.agentId, view);
    }
    const patch = changes(view, e);
    if (patch) await write(e.agentId, view, patch);
  }

  return {
    /**
     * Records the facts of an ingested document. Returns undefined when nothing changed (no
     * write, no wait: the common push), else a promise of the write. The push is answered after
     * it (the bus's `deliver`); a failure rejects it and is only logged.
     */
    record(e: IngestEvent): Promise<void> | undefined {
      const view = views.get(e.agentId);
      if (!view) return seed(e);
      const patch = changes(view, e);
      return patch ? write(e.agentId, view, patch) : undefined;
    },

    /**
     * The collection interval a native agent is told in the answer to its push: the fleet-wide
     * one when set, else the one its pushed document (`document`, as received) reports, else
     * its own as its documents last reported it (`agent` is the row it authenticated with, for
     * an agent whose facts were not recorded here). The document comes first: the agent adopts
     * the answer, so it must hear back its own interval even when its facts could not be
     * written.
     */
    async interval(agent: AgentRow, document: unknown): Promise<number> {
      const own =
        isRecord(document) && isRecord(document.agent)
          ? saneInterval(document.agent.check_interval)
          : undefined;
      return (
        (await deps.collectionInterval()) ??
        own ??
        views.get(agent.id)?.facts.interval_seconds ??
        agent.interval_seconds
      );
    },

    /** Forgets every view: agents were changed elsewhere, their rows are read again. */
    forget(): void {
      generation += 1;
      views.clear();
    },
  };
}

/** The facts recorder. */
export type FactsRecorder = ReturnType<typeof createFactsRecorder>;
