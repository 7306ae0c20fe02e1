import type { IngestEvent } from '../events/types.js';
import type { ChangeKind } from '../system/settings.js';
import {
  SWITCH_OF,
  emptyState,
  type HostState,
  type IntelligenceStore,
  type NewIntelEvent,
} from './model.js';
import {
  accountsPrint,
  documentChanges,
  documentFacts,
  inventoryPackages,
  isReboot,
  packageChanges,
  packagesPrint,
  parseState,
  portsPrint,
  unitsPrint,
  type DocumentFacts,
} from './observe.js';

/**
 * What the recorder keeps in memory per host: the time of the newest document compared, the
 * kernel and boot time, and fingerprints of the ports, accounts, failed units and packages (a
 * few short strings; never a document). Null: never seen.
 */
interface Seen {
  at: number;
  kernel: string | null;
  boot: number | null;
  ports: string | null;
  accounts: string | null;
  units: string | null;
  packages: string | null;
}

/** Most hosts whose fingerprints are kept; beyond it they are dropped and read again. */
const MAX_HOSTS = 100_000;

/** The fingerprints of a stored state. */
const seenOf = (s: HostState): Seen => ({
  at: s.seen_at ?? 0,
  kernel: s.kernel,
  boot: s.boot_time,
  ports: s.ports && portsPrint(s.ports),
  accounts: s.accounts && accountsPrint(s.accounts),
  units: s.failed_units && unitsPrint(s.failed_units),
  packages: s.packages && packagesPrint(s.packages),
});

/** Whether a document's facts differ from what was seen (a reboot included). */
const differs = (s: Seen, f: DocumentFacts): boolean =>
  (f.kernel !== undefined && f.kernel !== s.kernel) ||
  (f.boot !== undefined && (s.boot === null || isReboot(s.boot, s.at, f.boot))) ||
  (f.prints.ports !== undefined && f.prints.ports !== s.ports) ||
  (f.prints.accounts !== undefined && f.prints.accounts !== s.accounts) ||
  (f.prints.units !== undefined && f.prints.units !== s.units);

/**
 * Host intelligence's recorder: it compares what each document (a subscriber of the ingest
 * event) and each package inventory (`inventory`, the agents intake's hook) tell of a host with
 * the host's last state, and records what changed as events (`intel_events`), replacing the
 * state (`intel_states`) in the same transaction. The first document (and the first inventory)
 * of a host only sets its state; a part a document does not carry (an older agent, a failed
 * collector) keeps its state; a document older than the newest compared is not compared.
 *
 * Cheap per push: it keeps per host the kernel, the boot time and fingerprints of the rest
 * (`Seen`), read from the stored state at the host's first document after a start, and touches
 * the database only when something differs. A boot time that moved without a reboot (an
 * uptime that does not advance with the clock) is followed in memory only. The work of one host
 * runs one piece at a time, in order of arrival. Several server processes each keep their own
 * fingerprints; the events are always computed against the stored state.
 */
export function createIntelligenceRecorder(deps: {
  store: IntelligenceStore;
  /** The `changes` switches of the intelligence settings; read only when there are events. */
  switches: () => Promise<Record<ChangeKind, boolean>>;
  now: () => number;
  /** Told of a failure to record an inventory's changes (a document's go to the bus). */
  log: (err: unknown, hostId: string) => void;
}) {
  const { store, now } = deps;
  const seen = new Map<string, Seen>();
  /** The tail of each host's work in flight; absent when the host has none. */
  const queues = new Map<string, Promise<void>>();

  /** Runs `work` after the host's work in flight; a failure makes the host be read again. */
  function enqueue(hostId: string, work: () => Promise<void>): Promise<void> {
    // The entry goes as the work ends, before its caller resumes: the host's next push then
    // takes the cheap path again.
    const finished = () => {
      if (queues.get(hostId) === tail) queues.delete(hostId);
    };
    const run = (queues.get(hostId) ?? Promise.resolve())
      .then(work)
      .then(finished, (err: unknown) => {
        seen.delete(hostId);
        finished();
        throw err;
      });
    const tail: Promise<void> = run.catch(() => undefined);
    queues.set(hostId, tail);
    return run;
  }

  async function load(hostId: string): Promise<HostState> {
    const row = await store.state(hostId);
    return row ? parseState(row.state) : emptyState();
  }

  /** The host's fingerprints, read from its stored state when they are not in memory. */
  async function fingerprints(hostId: string): Promise<{ s: Seen; state?: HostState }> {
    const known = seen.get(hostId);
    if (known) return { s: known };
    const state = await load(hostId);
    const s = seenOf(state);
    if (seen.size >= MAX_HOSTS) seen.clear();
    seen.set(hostId, s);
    return { s, state };
  }

  /** Stores the state with the events whose kinds are switched on. */
  async function save(hostId: string, state: HostState, events: NewIntelEvent[], at: number) {
    let kept = events;
    if (events.length > 0) {
      const on = await deps.switches();
      kept = events.filter((e) => on[SWITCH_OF[e.kind]]);
    }
    await store.save(hostId, JSON.stringify(state), kept, at);
  }

  async function applyDocument(hostId: string, f: DocumentFacts): Promise<void> {
    const { s, state: loaded } = await fingerprints(hostId);
    if (f.at < s.at) return;
    if (!differs(s, f)) {
      s.at = f.at;
      if (f.boot !== undefined) s.boot = f.boot;
      return;
    }
    const reboot =
      f.boot !== undefined && s.boot !== null && isReboot(s.boot, s.at, f.boot)
        ? { previous: s.boot }
        : undefined;
    const { state, events } = documentChanges(loaded ?? (await load(hostId)), f, reboot);
    await save(hostId, state, events, now());
    s.at = f.at;
    s.kernel = state.kernel;
    s.boot = state.boot_time;
    s.ports = f.prints.ports ?? s.ports;
    s.accounts = f.prints.accounts ?? s.accounts;
    s.units = f.prints.units ?? s.units;
  }

  async function applyInventory(
    hostId: string,
    packages: Record<string, string>,
    print: string,
  ): Promise<void> {
    const { s, state: loaded } = await fingerprints(hostId);
    if (s.packages === print) return;
    const at = now();
    const { state, events } = packageChanges(loaded ?? (await load(hostId)), packages, at);
    await save(hostId, state, events, at);
    s.packages = print;
  }

  return {
    /**
     * Compares an ingested document with its host's state (the ingest event's subscriber).
     * Returns undefined when nothing changed (no database, no wait: the common push), else a
     * promise of the recording, which rejects when it failed (the bus logs it).
     */
    observe(e: IngestEvent): Promise<void> | undefined {
      const f = documentFacts(e.doc, e.collectedAt);
      const s = queues.has(e.hostId) ? undefined : seen.get(e.hostId);
      if (s && (f.at < s.at || !differs(s, f))) {
        if (f.at >= s.at) {
          s.at = f.at;
          if (f.boot !== undefined) s.boot = f.boot;
        }
        return undefined;
      }
      return enqueue(e.hostId, () => applyDocument(e.hostId, f));
    },

    /**
     * Compares a stored package inventory of a host with its state. An inventory not scanned
     * yet (pending, or without `Stats`) keeps the state. Never rejects: a failure is logged.
     */
    async inventory(target: { agentId: string; hostId: string }, inventory: unknown) {
      const packages = inventoryPackages(inventory);
      if (!packages) return;
      const print = packagesPrint(packages);
      if (!queues.has(target.hostId) && seen.get(target.hostId)?.packages === print) return;
      await enqueue(target.hostId, () => applyInventory(target.hostId, packages, print)).catch(
        (err: unknown) => deps.log(err, target.hostId),
      );
    },

    /** Resolves once the work in flight (of every host) is done. */
    async idle(): Promise<void> {
      while (queues.size > 0) await Promise.all([...queues.values()]);
    },
  };
}

/** Host intelligence's recorder. */
export type IntelligenceRecorder = ReturnType<typeof createIntelligenceRecorder>;
