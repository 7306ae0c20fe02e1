import { isRecord } from '@vigil/protocol/guards';
import { PLUGIN_STATES, PackageInventory, parsePluginOutput } from '@vigil/protocol';
import type { CustomCheckResult, PerfDatum } from '@vigil/protocol';
import { checkDataOf, documentJson, type CheckDocument } from '@vigil/protocol/decode';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { VigilError } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import { INGEST_TOPIC, type IngestEvent } from '../events/types.js';
import { nextCheckState, type CheckState } from './checks.js';
import { headPositions } from './heads.js';
import { SampleBuffer, collectInto } from './normalize.js';
import {
  Aggregate,
  BucketAccumulator,
  ROLLUPS,
  SOURCE,
  HEAD_CHUNK_BUCKETS,
  HEAD_SLOT,
  bucketOf,
  headChunkOf,
  headSlot,
  packValues,
  unpackValues,
  type Resolution,
  type RollupResolution,
} from './tsdb.js';

/** Lets the event loop serve I/O before going on (SQLite calls complete synchronously). */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Stored rows the rollup job reads at a time: rollup rows of some 150 series are about 5 KB,
 * so a page is a millisecond or two.
 */
const ROLLUP_PAGE = 200;

/** One push as stored: a host's values at a time, laid out by `layoutId`. */
export interface PushRow {
  hostId: string;
  ts: number;
  layoutId: number;
  vals: Uint8Array;
}
/** The latest document of an agent. */
export interface DocumentRow {
  agent_id: string;
  collected_at: number;
  received_at: number;
  document: string;
}
export interface StoredSample {
  hostId: string;
  ts: number;
  layoutId: number;
  vals: Uint8Array;
}
export interface StoredRollup {
  hostId: string;
  bucket: number;
  layoutId: number;
  data: Uint8Array;
}
/** A rollup row to write, with its head slot when its layout has any head series. */
export type RollupWrite = StoredRollup & { head?: Float64Array };

/** Where telemetry is kept. Every method may be called concurrently with ingest. */
export interface TelemetryStore {
  /** The ids of a host's series by key, creating the missing ones; in the order of `keys`. */
  seriesIds(hostId: string, keys: string[], now: number): Promise<number[]>;
  /** The id of the layout `seriesIds` of a host, creating it when new. */
  layoutId(hostId: string, seriesIds: number[], now: number): Promise<number>;
  /** The series ids of a layout; undefined when unknown. */
  layout(id: number): Promise<number[] | undefined>;
  seriesOfHost(hostId: string): Promise<{ id: number; key: string }[]>;
  /**
   * Writes a batch of pushes in one transaction, with the rollup buckets they dirty and the
   * agents' latest documents (a newer one replaces an older one); returns, per push, whether it
   * was new (false: already stored).
   */
  commit(
    pushes: PushRow[],
    dirty: DirtyBucket[],
    documents: DocumentRow[],
    checks: CheckWrite[],
  ): Promise<boolean[]>;
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
  /**
   * A page of every host's raw samples with `from <= ts < to`, in (ts, host) order, after the
   * position `after`; at most `limit`.
   */
  samplesPage(
    from: number,
    to: number,
    after: { ts: number; hostId: string } | undefined,
    limit: number,
  ): Promise<StoredSample[]>;
  /** The same for rollup rows (by bucket, host). */
  rollupsPage(
    resolution: RollupResolution,
    from: number,
    to: number,
    after: { ts: number; hostId: string } | undefined,
    limit: number,
  ): Promise<StoredRollup[]>;
  /** One host's raw samples with `from <= ts < to`, by time (all hosts: `samplesPage`). */
  samples(hostId: string, from: number, to: number): Promise<StoredSample[]>;
  /** One host's rollup rows with `from <= bucket < to`, by time (all hosts: `rollupsPage`). */
  rollups(
    resolution: RollupResolution,
    hostId: string,
    from: number,
    to: number,
  ): Promise<StoredRollup[]>;
  /**
   * Writes rollup rows (replacing) and their head slots, removes the dirty marks they settle
   * and, when given, moves the resolution's watermark, in one transaction.
   */
  writeRollups(
    resolution: RollupResolution,
    rows: RollupWrite[],
    watermark: number | undefined,
    cleared: { hostId: string; bucket: number }[],
  ): Promise<void>;
  /** A host's head slots with `from <= bucket < to`, by time (heads.ts). */
  heads(
    resolution: RollupResolution,
    hostId: string,
    from: number,
    to: number,
  ): Promise<{ bucket: number; slot: Float64Array }[]>;
  /** Writes whole head chunks (replacing), each a host's chunk at a resolution. */
  writeHeadChunks(
    resolution: RollupResolution,
    chunks: { hostId: string; chunk: number; data: Uint8Array }[],
  ): Promise<void>;
  /** The end of the last head chunk built, i.e. the start of the first not yet built. */
  headsWatermark(resolution: RollupResolution): Promise<number | undefined>;
  setHeadsWatermark(resolution: RollupResolution, at: number): Promise<void>;
  /** The start of the first bucket not yet rolled up; undefined before the first run. */
  watermark(resolution: RollupResolution): Promise<number | undefined>;
  firstSampleTime(): Promise<number | undefined>;
  dirty(resolution: RollupResolution, limit: number): Promise<{ hostId: string; bucket: number }[]>;
  markDirty(rows: DirtyBucket[]): Promise<void>;
  /** Deletes at most `limit` rows older than `before`; returns how many. */
  deleteBefore(resolution: Resolution, before: number, limit: number): Promise<number>;
  /** A host and the reporting interval of its agents (the shortest); undefined when absent. */
  host(
    hostId: string,
  ): Promise<{ id: string; name: string; intervalSeconds: number | null } | undefined>;
  /** The host an agent reports for; undefined for an unknown agent, null when it has none. */
  hostOfAgent(agentId: string): Promise<string | null | undefined>;
  /** Every host id (at most `limit`). */
  hostIds(limit: number): Promise<string[]>;
  /** Host ids after `after` in id order, at most `limit` (for paging through every host). */
  hostPage(after: string, limit: number): Promise<string[]>;
  /** The same with each host's name. */
  namedHostPage(after: string, limit: number): Promise<{ id: string; name: string }[]>;
  /** The newest stored push of a host. */
  latestSample(hostId: string): Promise<StoredSample | undefined>;
  /** The newest full document of any agent of a host. */
  latestDocumentOfHost(hostId: string): Promise<DocumentRow | undefined>;
  /**
   * For each of `hostIds` (a page, not every host), the agent that reported for it last as
   * stored: the one of its newest document, else its agent heard from last, else its only
   * agent; absent for a host without such an agent.
   */
  reportingAgents(hostIds: string[]): Promise<Map<string, string>>;
  /** Series keys by id. */
  seriesKeys(ids: number[]): Promise<Map<number, string>>;
}

/** A rollup bucket of a host marked for another pass. */
export interface DirtyBucket {
  resolution: string;
  host_id: string;
  bucket: number;
}

/** A check's new state, to be written with its push (and a history entry when it changed). */
export interface CheckWrite {
  hostId: string;
  name: string;
  state: CheckState;
  changed: boolean;
}

/** What ingesting one document did. */
export interface IngestOutcome {
  /** Check entries taken in: one per section of the document, one per custom check. */
  received_checks: number;
  /** True when the same document had been ingested before (nothing was stored again). */
  duplicate: boolean;
  /** Numeric samples the document carried. */
  samples: number;
  /**
   * How far, in seconds, the agent's clock was ahead of the server's when it was more than the
   * allowed skew (its document was then taken as collected now); null when its clock is fine.
   */
  clock_skew_seconds: number | null;
  /** Fields of the document that had the wrong type and were dropped. */
  dropped_fields: number;
}

/**
 * The latest time a document may carry (9999-12-31T23:59:59.999Z): beyond it a date has no ISO
 * 8601 form of four-digit years, and beyond 8.64e15 none at all.
 */
export const MAX_COLLECTED_AT = 253_402_300_799_999;

/** Settings of the telemetry domain. */
export interface TelemetryPolicy {
  /** Retention per resolution, in milliseconds. */
  retention: Record<Resolution, number>;
  /** Longest a push waits for its batch to be committed. */
  commitDelayMs: number;
  /** Most pushes in one transaction. */
  maxBatch: number;
  /** Least time between two writes of an agent's latest full document. */
  documentFlushMs: number;
  /** How long after a bucket's end the rollup job waits for late pushes. */
  rollupGraceMs: number;
  /** Consecutive non-OK results before a check's problem is HARD (Nagios' max_check_attempts). */
  maxCheckAttempts: number;
  /**
   * How far an agent's clock may be ahead of the server's: a document from further ahead is
   * taken as collected now, and the skew is reported (`agents.max_clock_skew_seconds`; five
   * minutes when not given).
   */
  maxClockSkewMs?: number;
}

/** Whether `keys` is `samples`' keys (its first `samples.length`). */
const sameKeys = (keys: string[], samples: SampleBuffer): boolean => {
  if (keys.length !== samples.length) return false;
  for (let i = 0; i < keys.length; i++) if (keys[i] !== samples.keys[i]) return false;
  return true;
};

/** Compiles a schema into a checker that names the first bad path. */
function checker(schema: TSchema): (value: unknown) => string | undefined {
  const compiled = TypeCompiler.Compile(schema);
  return (value) => {
    if (compiled.Check(value)) return undefined;
    const first = compiled.Errors(value).First();
    return first
      ? describeError(first.schema, first.path, first.value, first.message)
      : 'invalid document';
  };
}

/**
 * Names a schema error by its deepest path: a value that matches none of a union's members
 * (a section or its collector-error form) is described by the member it comes closest to, so
 * that a bad process entry is `/processes/3/pid`, not just `/processes`.
 */
function describeError(schema: TSchema, path: string, value: unknown, message: string): string {
  let best: { path: string; text: string } | undefined;
  for (const member of (schema.anyOf as TSchema[] | undefined) ?? []) {
    const e = Value.Errors(member, value).First();
    if (!e) continue;
    const deeper = `${path}${e.path}`;
    if (!best || deeper.length > best.path.length)
      best = { path: deeper, text: describeError(e.schema, deeper, e.value, e.message) };
  }
  return best && best.path !== path ? best.text : `${path || '/'}: ${message}`;
}

/** Counts the check entries of a document: each section, and each custom check on its own. */
export function countChecks(doc: CheckDocument): number {
  let n = 0;
  for (const key in doc) {
    if (key === 'customchecks' && doc.customchecks) n += Object.keys(doc.customchecks).length;
    else n += 1;
  }
  return n;
}

interface Pending {
  row: PushRow;
  agentId: string;
  /** The document to store as the agent's latest, when one is due. */
  document?: DocumentRow;
  /** Check states this push moves. */
  checks: CheckWrite[];
  resolve(isNew: boolean): void;
  reject(err: unknown): void;
}

/** A point of a history answer: per series, the aggregates of its bucket. */
export interface HistoryPoint {
  timestamp: number;
  values: Map<number, { avg: number; min: number; max: number; count: number }>;
}

/**
 * Telemetry: the one way check data enters the server (validate, normalise into samples, group
 * commit), the rollup job, retention, and history reads.
 */
export const createTelemetryService = (deps: {
  store: TelemetryStore;
  now: () => number;
  policy: TelemetryPolicy;
  log?: { warn(o: object, m: string): void };
  /** Where each new document is announced (topic `metrics`). */
  bus?: EventBus;
  /** Told how long each group commit took and how many pushes it held. */
  onCommit?: (seconds: number, pushes: number) => void;
}) => {
  const { store, now, policy } = deps;
  const checkInventory = checker(PackageInventory);
  /** Per host: the key list of its last push and the layout it maps to. */
  const layoutByHost = new Map<string, { keys: string[]; layoutId: number }>();
  /** The samples of the push being normalised. */
  const samples = new SampleBuffer();
  const layouts = new Map<number, number[]>();
  const watermarks = new Map<RollupResolution, number>();
  /** When each agent's latest document is next due to be written (documents are not kept). */
  const documentWritten = new Map<string, number>();
  /** Rollup aggregates of the open buckets, per resolution, bucket and host. */
  const open = new Map<RollupResolution, Map<number, Map<string, BucketAccumulator>>>(
    (Object.keys(ROLLUPS) as RollupResolution[]).map((r) => [r, new Map()]),
  );
  /** Pushes for buckets that began before this time may be missing from `open`. */
  const startedAt = now();
  /** Current check states per host, loaded on a host's first push. */
  const checkCache = new Map<string, Map<string, CheckState>>();

  /**
   * The check states a document moves (only new executions of a plugin count). Without a promise
   * once the host's states are cached, as they are after its first push.
   */
  function checkWrites(hostId: string, doc: CheckDocument): CheckWrite[] | Promise<CheckWrite[]> {
    const checks = doc.customchecks;
    if (!checks) return [];
    const states = checkCache.get(hostId);
    if (states) return movedChecks(hostId, checks, states);
    return store.checkStates(hostId).then((rows) => {
      const loaded = new Map(rows.map((c) => [c.name, c.state]));
      checkCache.set(hostId, loaded);
      return movedChecks(hostId, checks, loaded);
    });
  }

  function movedChecks(
    hostId: string,
    checks: Record<string, CustomCheckResult>,
    states: Map<string, CheckState>,
  ): CheckWrite[] {
    const out: CheckWrite[] = [];
    for (const name in checks) {
      const c = checks[name]!;
      const at = c.execution_unix_timestamp_sec * 1000;
      if (!Number.isFinite(at) || at <= 0) continue;
      // Most pushes repeat the last result of a check; nextCheckState would ignore it too.
      const prev = states.get(name);
      if (prev && at <= prev.lastCheck) continue;
      const output = c.output ?? (c.stdout.split('\n')[0] ?? '').split('|')[0]!.trim();
      const next = nextCheckState(
        prev,
        {
          rc: c.rc,
          at,
          output: output.slice(0, 4096),
          perfdata: JSON.stringify(c.perfdata ?? []),
        },
        policy.maxCheckAttempts,
      );
      if (!next) continue;
      states.set(name, next.state);
      out.push({ hostId, name, ...next });
    }
    return out;
  }

  /**
   * Agents' last contact, as of their newest committed push. It is written to the agents table
   * every few seconds (`writeContacts`), not with each push: one row per agent per push would
   * be as many page writes as the samples themselves, for a figure nobody needs to the
   * millisecond after a crash. Readers in this process see it at once (`lastContact`).
   */
  const lastContact = new Map<string, number>();
  /** Agents whose last contact is not written yet. */
  let contactDue = new Set<string>();

  /** Each host's newest push, for "current metrics" without a query. */
  const latest = new Map<string, PushRow & { agentId: string }>();
  /** Series keys by id: they never change, so they are cached as they are needed. */
  const seriesKeyCache = new Map<number, string>();
  let queue: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;
  let closed = false;
  const stats = { pushes: 0, samples: 0, batches: 0, duplicates: 0, droppedFields: 0 };
  /** Agents whose dropped fields were logged: once per agent (per process) is enough. */
  const droppedLogged = new Set<string>();

  /** Counts and (once per agent) logs the fields of a document that were dropped. */
  function noteDropped(agentId: string, dropped: string[]): void {
    stats.droppedFields += dropped.length;
    if (droppedLogged.has(agentId)) return;
    if (droppedLogged.size >= 10_000) droppedLogged.clear();
    droppedLogged.add(agentId);
    deps.log?.warn(
      { agent_id: agentId, dropped: dropped.slice(0, 20), count: dropped.length },
      'check data: fields of the wrong type were dropped (logged once per agent)',
    );
  }

  /**
   * Each host's custom checks' last parsed output, by check: agents repeat a check's result in
   * every document until the plugin runs again, so it is parsed once per run.
   */
  const parsedOutputs = new Map<
    string,
    Map<string, { stdout: string; output: string; longOutput: string; perfdata: PerfDatum[] }>
  >();

  /**
   * Parses the plugin output of custom checks that carry only `stdout` and `rc` (the
   * openITCOCKPIT agent sends no parsed view) into `output`, `long_output`, `perfdata` and
   * `state`, as Vigil's agent sends them. Checks that have `perfdata` are left as they are.
   */
  function parseCheckOutputs(hostId: string, checks: Record<string, CustomCheckResult>): void {
    let byName = parsedOutputs.get(hostId);
    for (const name in checks) {
      const c = checks[name]!;
      if (c.perfdata) continue;
      if (!byName) {
        if (parsedOutputs.size >= 10_000) parsedOutputs.clear();
        parsedOutputs.set(hostId, (byName = new Map()));
      }
      let parsed = byName.get(name);
      if (parsed?.stdout !== c.stdout) {
        if (byName.size >= 1_000) byName.clear();
        parsed = { stdout: c.stdout, ...parsePluginOutput(c.stdout) };
        byName.set(name, parsed);
      }
      c.output ??= parsed.output;
      c.long_output ??= parsed.longOutput;
      c.state ??= PLUGIN_STATES[c.rc] ?? 'UNKNOWN';
      c.perfdata = parsed.perfdata;
    }
  }

  async function layoutOf(id: number): Promise<number[]> {
    let l = layouts.get(id);
    if (!l) {
      l = (await store.layout(id)) ?? [];
      layouts.set(id, l);
    }
    return l;
  }

  /** The layout of a host's samples when it is the one of its last push. */
  function knownLayout(hostId: string, pushed: SampleBuffer): number | undefined {
    const cached = layoutByHost.get(hostId);
    return cached && sameKeys(cached.keys, pushed) ? cached.layoutId : undefined;
  }

  async function layoutFor(hostId: string, keys: string[]): Promise<number> {
    const t = now();
    const ids = await store.seriesIds(hostId, keys, t);
    const layoutId = await registerLayout(hostId, ids, t);
    layoutByHost.set(hostId, { keys, layoutId });
    return layoutId;
  }

  /** The id of a host's layout (stored when new), cached with its series ids. */
  async function registerLayout(hostId: string, ids: number[], at = now()): Promise<number> {
    const layoutId = await store.layoutId(hostId, ids, at);
    layouts.set(layoutId, ids);
    return layoutId;
  }

  async function watermarkOf(r: RollupResolution): Promise<number | undefined> {
    if (!watermarks.has(r)) {
      const w = await store.watermark(r);
      // The rollup job may have moved it meanwhile: what it set is newer than what was read.
      if (w !== undefined && !watermarks.has(r)) watermarks.set(r, w);
    }
    return watermarks.get(r);
  }

  /**
   * Whether the stored watermarks have been read (`flush`): until the first rollup pass of this
   * process, only the store knows which buckets are done.
   */
  let watermarksRead = false;

  /** Commits everything queued, in one transaction, and settles each push's promise. */
  async function flush(): Promise<void> {
    timer = undefined;
    const batch = queue.slice(0, policy.maxBatch);
    queue = queue.slice(batch.length);
    if (batch.length === 0) return;
    if (!watermarksRead)
      try {
        // After a restart, a late push into a bucket the previous process rolled up must mark
        // it dirty and stay out of the open buckets, as it would have there.
        for (const r of Object.keys(ROLLUPS) as RollupResolution[]) await watermarkOf(r);
        watermarksRead = true;
      } catch (err) {
        for (const p of batch) p.reject(err);
        return;
      }
    // Pushes into buckets the rollup job has already done mark those buckets for another pass.
    const dirty: DirtyBucket[] = [];
    const w = watermarks.get('1m');
    if (w !== undefined)
      for (const p of batch)
        if (p.row.ts < w)
          dirty.push({
            resolution: '1m',
            host_id: p.row.hostId,
            bucket: bucketOf(p.row.ts, ROLLUPS['1m']),
          });
    const at = now();
    const began = performance.now();
    try {
      const fresh = await store.commit(
        batch.map((p) => p.row),
        dirty,
        batch.flatMap((p) => (p.document ? [p.document] : [])),
        batch.flatMap((p) => p.checks),
      );
      stats.batches += 1;
      for (const p of batch) {
        lastContact.set(p.agentId, at);
        contactDue.add(p.agentId);
      }
      deps.onCommit?.((performance.now() - began) / 1000, batch.length);
      // Into the open buckets, before anyone learns of the commit: the rollup job waits for a
      // running flush, so a push is either here or marked dirty, never neither.
      batch.forEach((p, i) => {
        if (!fresh[i]) return;
        accumulate(p.row);
        const prev = latest.get(p.row.hostId);
        if (!prev)
          latest.set(p.row.hostId, { ...p.row, vals: p.row.vals.slice(), agentId: p.agentId });
        else if (prev.ts <= p.row.ts) {
          // Updated in place: a new record per push would live seconds, long enough to reach
          // the old generation, and a fleet's worth of those is garbage only a full GC frees.
          prev.ts = p.row.ts;
          prev.layoutId = p.row.layoutId;
          prev.agentId = p.agentId;
          if (prev.vals.length === p.row.vals.length) prev.vals.set(p.row.vals);
          else prev.vals = p.row.vals.slice();
        }
      });
      batch.forEach((p, i) => p.resolve(fresh[i]!));
    } catch (err) {
      // The cached check states may be ahead of the database now: read them again next time.
      for (const p of batch) checkCache.delete(p.row.hostId);
      for (const p of batch) p.reject(err);
    }
  }

  function accumulate(row: PushRow): void {
    const layout = layouts.get(row.layoutId);
    if (!layout) return;
    const values = unpackValues(row.vals);
    for (const [r, byBucket] of open) {
      const w = watermarks.get(r);
      const bucket = bucketOf(row.ts, ROLLUPS[r]);
      if (w !== undefined && bucket < w) continue; // done already: the dirty path re-rolls it
      let hosts = byBucket.get(bucket);
      if (!hosts) byBucket.set(bucket, (hosts = new Map()));
      let acc = hosts.get(row.hostId);
      if (!acc) hosts.set(row.hostId, (acc = new BucketAccumulator(row.layoutId, layout)));
      acc.add(row.layoutId, layout, values);
    }
  }

  function schedule(): void {
    if (flushing) return;
    if (queue.length >= policy.maxBatch) {
      if (timer) clearTimeout(timer);
      timer = undefined;
      run();
    } else if (!timer) timer = setTimeout(run, policy.commitDelayMs);
  }
  function run(): void {
    if (flushing) return;
    flushing = flush().finally(() => {
      flushing = undefined;
      if (queue.length > 0) schedule();
    });
  }

  /** Where the head series sit in each layout (heads.ts), by layout id. */
  const headPositionsByLayout = new Map<number, Int32Array>();
  async function headPositionsOf(layoutId: number): Promise<Int32Array> {
    let p = headPositionsByLayout.get(layoutId);
    if (!p) {
      const layout = await layoutOf(layoutId);
      p = headPositions(layout, await store.seriesKeys(layout));
      headPositionsByLayout.set(layoutId, p);
    }
    return p;
  }

  /**
   * Gives each rollup row of an already built head chunk its head slot (when its layout has head
   * series), so that re-rolled buckets reach the chunk too.
   */
  async function withHeads(r: RollupResolution, rows: RollupWrite[]): Promise<RollupWrite[]> {
    const built = (await headsWatermarkOf(r)) ?? -Infinity;
    for (const row of rows) {
      if (row.bucket >= built) continue;
      const p = await headPositionsOf(row.layoutId);
      if (p.some((x) => x >= 0)) row.head = headSlot(p, unpackValues(row.data));
    }
    return rows;
  }

  const headsWatermarks = new Map<RollupResolution, number>();
  async function headsWatermarkOf(r: RollupResolution): Promise<number | undefined> {
    if (!headsWatermarks.has(r)) {
      const w = await store.headsWatermark(r);
      if (w !== undefined) headsWatermarks.set(r, w);
    }
    return headsWatermarks.get(r);
  }

  /**
   * Builds the head chunks whose buckets are all rolled up (at most `max` chunks per call), from
   * the stored rollup rows: each chunk of each host is written once, when it is complete. Until
   * then, history reads those buckets from the rollup rows themselves.
   */
  async function buildHeadChunks(r: RollupResolution, max: number): Promise<number> {
    const size = ROLLUPS[r];
    const span = size * HEAD_CHUNK_BUCKETS;
    const rolled = watermarks.get(r);
    if (rolled === undefined) return 0;
    let next = await headsWatermarkOf(r);
    if (next === undefined) {
      const first = await store.firstSampleTime();
      if (first === undefined) return 0;
      next = headChunkOf(Math.min(first, rolled - size), size);
      // Kept at once: where the chunks start must not move with later data (a backfill).
      await store.setHeadsWatermark(r, next);
      headsWatermarks.set(r, next);
    }
    let built = 0;
    for (; built < max && next + span <= rolled; built++) {
      const chunks = new Map<string, Float64Array>();
      let after: { ts: number; hostId: string } | undefined;
      for (;;) {
        const page = await store.rollupsPage(r, next, next + span, after, ROLLUP_PAGE);
        for (const row of page) {
          const p = await headPositionsOf(row.layoutId);
          if (!p.some((x) => x >= 0)) continue;
          let c = chunks.get(row.hostId);
          if (!c) chunks.set(row.hostId, (c = new Float64Array(HEAD_SLOT * HEAD_CHUNK_BUCKETS)));
          c.set(headSlot(p, unpackValues(row.data)), ((row.bucket - next) / size) * HEAD_SLOT);
        }
        const last = page[page.length - 1];
        if (!last || page.length < ROLLUP_PAGE) break;
        after = { ts: last.bucket, hostId: last.hostId };
        await nextTurn();
      }
      // Small slices, each its own transaction, with turns of the event loop in between.
      const rows = [...chunks].map(([hostId, data]) => ({
        hostId,
        chunk: next!,
        data: new Uint8Array(data.buffer),
      }));
      for (let i = 0; i < rows.length; i += 50) {
        await store.writeHeadChunks(r, rows.slice(i, i + 50));
        await nextTurn();
      }
      next += span;
      await store.setHeadsWatermark(r, next);
      headsWatermarks.set(r, next);
      await nextTurn();
    }
    return built;
  }

  /** Rolls up one bucket of one resolution (all hosts, or the listed ones). */
  async function rollBucket(
    r: RollupResolution,
    bucket: number,
    hostIds?: Set<string>,
  ): Promise<RollupWrite[]> {
    const size = ROLLUPS[r];
    const source = SOURCE[r];
    const byHost = new Map<string, Aggregate>();
    const agg = (h: string) => {
      let a = byHost.get(h);
      if (!a) byHost.set(h, (a = new Aggregate()));
      return a;
    };
    const only = hostIds && hostIds.size === 1 ? [...hostIds][0] : undefined;
    if (only !== undefined) {
      // One host (a dirty bucket): one small query.
      if (source === 'raw')
        for (const s of await store.samples(only, bucket, bucket + size))
          agg(s.hostId).addValues(await layoutOf(s.layoutId), unpackValues(s.vals));
      else
        for (const s of await store.rollups(source, only, bucket, bucket + size))
          agg(s.hostId).addRollup(await layoutOf(s.layoutId), unpackValues(s.data));
    } else {
      // Every host: in pages, with a turn of the event loop between them, so that rolling up a
      // large bucket from stored data (after a restart) never stalls ingest.
      let after: { ts: number; hostId: string } | undefined;
      for (;;) {
        if (source === 'raw') {
          const page = await store.samplesPage(bucket, bucket + size, after, ROLLUP_PAGE);
          for (const s of page)
            if (!hostIds || hostIds.has(s.hostId))
              agg(s.hostId).addValues(await layoutOf(s.layoutId), unpackValues(s.vals));
          const last = page[page.length - 1];
          if (!last || page.length < ROLLUP_PAGE) break;
          after = { ts: last.ts, hostId: last.hostId };
        } else {
          const page = await store.rollupsPage(source, bucket, bucket + size, after, ROLLUP_PAGE);
          for (const s of page)
            if (!hostIds || hostIds.has(s.hostId))
              agg(s.hostId).addRollup(await layoutOf(s.layoutId), unpackValues(s.data));
          const last = page[page.length - 1];
          if (!last || page.length < ROLLUP_PAGE) break;
          after = { ts: last.bucket, hostId: last.hostId };
        }
        await nextTurn();
      }
    }
    const rows: RollupWrite[] = [];
    let n = 0;
    for (const [hostId, a] of byHost) {
      // A turn of the event loop every page of hosts: packing 2,000 hosts' rows in one piece
      // held every request up for some 190 ms on a 2-core machine.
      if (++n % ROLLUP_PAGE === 0) await nextTurn();
      const layout = a.layout();
      if (layout.length === 0) continue;
      const layoutId = await registerLayout(hostId, layout);
      rows.push({ hostId, bucket, layoutId, data: a.pack(layout) });
    }
    return rows;
  }

  /**
   * The head slots of a host's buckets of `size` ms in `from <= bucket < to` (bucket starts),
   * aggregated from its stored samples, as the rollup job would; buckets without a head series
   * value are left out.
   */
  async function carriedHeads(
    hostId: string,
    size: number,
    from: number,
    to: number,
  ): Promise<{ bucket: number; slot: Float64Array }[]> {
    const out: { bucket: number; slot: Float64Array }[] = [];
    let slot: Float64Array | undefined;
    let seen = false;
    for (const s of await store.samples(hostId, from, to)) {
      const bucket = bucketOf(s.ts, size);
      if (out.length === 0 || out[out.length - 1]!.bucket !== bucket) {
        if (out.length > 0 && !seen) out.pop();
        slot = new Float64Array(HEAD_SLOT);
        seen = false;
        out.push({ bucket, slot });
      }
      const p = await headPositionsOf(s.layoutId);
      const vals = unpackValues(s.vals);
      for (let k = 0; k < p.length; k++) {
        const v = p[k]! >= 0 ? vals[p[k]!] : undefined;
        // As `Aggregate.addValues`: a missing value or NaN is no value.
        if (v === undefined || Number.isNaN(v)) continue;
        const o = k * 4;
        if (slot![o + 3] === 0) {
          slot![o] = v;
          slot![o + 1] = v;
          slot![o + 2] = v;
          slot![o + 3] = 1;
        } else {
          slot![o] += v;
          if (v < slot![o + 1]!) slot![o + 1] = v;
          if (v > slot![o + 2]!) slot![o + 2] = v;
          slot![o + 3] += 1;
        }
        seen = true;
      }
    }
    if (out.length > 0 && !seen) out.pop();
    return out;
  }

  /**
   * Writes rollup rows in slices, each its own short transaction with a turn of the event loop
   * in between, so that a bucket of thousands of hosts never holds up ingest; the watermark moves
   * with the last slice (a crash before it redoes the bucket).
   */
  async function writeInSlices(r: RollupResolution, rows: RollupWrite[], watermark: number) {
    // A host's row holds four figures per series, some 5 KB for 150 series: 50 rows are a
    // transaction of a quarter of a megabyte, a few milliseconds.
    const SLICE = 50;
    for (let i = 0; i < rows.length || i === 0; i += SLICE) {
      const last = i + SLICE >= rows.length;
      await store.writeRollups(r, rows.slice(i, i + SLICE), last ? watermark : undefined, []);
      if (!last) await nextTurn();
      else break;
    }
  }

  /** Where a resolution's rollups start when it has never run: the first sample's bucket. */
  async function startOf(r: RollupResolution): Promise<number | undefined> {
    const w = await watermarkOf(r);
    if (w !== undefined) return w;
    const first = await store.firstSampleTime();
    return first === undefined ? undefined : bucketOf(first, ROLLUPS[r]);
  }

  const service = {
    /**
     * Validates, normalises and stores one document of an agent on a host, collected at
     * `collectedAt` (epoch ms). Resolves once it is committed.
     * @throws VigilError bad_data naming the first bad path; nothing is stored then.
     */
    async ingest(
      agent: { agentId: string; hostId: string },
      collectedAt: number,
      document: unknown,
    ): Promise<IngestOutcome> {
      if (closed) throw new VigilError('unavailable', 'the server is stopping');
      if (!isRecord(document))
        throw new VigilError('bad_data', 'checkdata: not a check-data document (an object)', {
          code: 'checkdata.invalid',
        });
      if (!(Number.isFinite(collectedAt) && collectedAt >= 0 && collectedAt <= MAX_COLLECTED_AT))
        throw new VigilError(
          'bad_data',
          `checkdata: collection time ${collectedAt} ms is out of range (0 to ${MAX_COLLECTED_AT})`,
          { code: 'checkdata.time_out_of_range' },
        );
      // Fields of the wrong type are dropped and counted; the rest of the document is kept.
      const decoded = checkDataOf(document)!;
      const doc = decoded.document;
      const dropped = decoded.dropped.length;
      if (dropped > 0) noteDropped(agent.agentId, decoded.dropped);
      if (doc.customchecks) parseCheckOutputs(agent.hostId, doc.customchecks);
      // An agent whose clock is too far ahead: its document is taken as collected now (samples
      // from the future would sit ahead of every other host's and hold their rollups open).
      const t = now();
      let ts = Math.round(collectedAt);
      let skew: number | null = null;
      if (ts > t + (policy.maxClockSkewMs ?? 300_000)) {
        skew = Math.round((ts - t) / 1000);
        ts = t;
      }
      // The buffer serves every push: what is needed of it is taken before the first await.
      collectInto(doc, samples);
      // The host's last key list has no repeats: a list equal to it has none either.
      let layoutId = knownLayout(agent.hostId, samples);
      const n = layoutId === undefined ? samples.dropRepeats() : samples.length;
      const vals = packValues(samples.values.subarray(0, n));
      layoutId ??=
        knownLayout(agent.hostId, samples) ??
        (await layoutFor(agent.hostId, samples.keys.slice(0, n)));
      const row: PushRow = { hostId: agent.hostId, ts, layoutId, vals };
      // The latest full document is written with the push at most every documentFlushMs per
      // agent: it is large, and what the API reads from it changes slowly.
      const due = documentWritten.get(agent.agentId);
      let latest: DocumentRow | undefined;
      if (due === undefined || t >= due) {
        // The next write is due after 75–125 % of the period: agents that started together
        // (after a server restart, say) drift apart instead of all writing in the same second.
        documentWritten.set(agent.agentId, t + policy.documentFlushMs * (0.75 + Math.random() / 2));
        latest = {
          agent_id: agent.agentId,
          collected_at: row.ts,
          received_at: t,
          document: documentJson(doc),
        };
      }
      const moved = checkWrites(agent.hostId, doc);
      const checks = moved instanceof Promise ? await moved : moved;
      const isNew = await new Promise<boolean>((resolve, reject) => {
        queue.push({ row, agentId: agent.agentId, document: latest, checks, resolve, reject });
        schedule();
      });
      stats.pushes += 1;
      if (isNew) {
        stats.samples += n;
        deps.bus?.publish<IngestEvent>(INGEST_TOPIC, {
          agentId: agent.agentId,
          hostId: agent.hostId,
          collectedAt: row.ts,
          doc,
        });
      } else stats.duplicates += 1;
      return {
        received_checks: countChecks(doc),
        duplicate: !isNew,
        samples: n,
        clock_skew_seconds: skew,
        dropped_fields: dropped,
      };
    },

    /**
     * Validates and stores a package inventory (the shape of the agent's `GET /packages`).
     * @throws VigilError bad_data naming the first bad path.
     */
    async ingestInventory(agentId: string, inventory: unknown): Promise<void> {
      const problem = checkInventory(inventory);
      if (problem)
        throw new VigilError('bad_data', `package inventory${problem}`, {
          code: 'inventory.invalid',
        });
      await store.saveInventory(agentId, now(), JSON.stringify(inventory));
    },

    /**
     * Rolls up every bucket that has closed (plus the grace time) since the last run, finer
     * resolutions first, then re-does buckets that late pushes dirtied. At most `maxBuckets`
     * buckets per resolution per call, so that a long backlog is worked off in steps.
     */
    async runRollups(maxBuckets = 60): Promise<number> {
      let done = 0;
      for (const r of Object.keys(ROLLUPS) as RollupResolution[]) {
        const size = ROLLUPS[r];
        let next = await startOf(r);
        const limit = bucketOf(now() - policy.rollupGraceMs, size);
        // A coarser rollup waits for the finer one it reads from.
        const src = SOURCE[r];
        const srcLimit = src === 'raw' ? limit : ((await watermarkOf(src)) ?? 0);
        for (let i = 0; next !== undefined && i < maxBuckets; i++) {
          if (next + size > limit || next + size > srcLimit) break;
          const bucket = next;
          // From now on a push into this bucket marks it dirty; one already committing lands in
          // the open bucket first.
          watermarks.set(r, bucket + size);
          if (flushing) await flushing;
          const hosts = open.get(r)!.get(bucket);
          open.get(r)!.delete(bucket);
          try {
            let rows: RollupWrite[];
            if (bucket >= startedAt) {
              rows = [];
              let n = 0;
              for (const [hostId, acc] of hosts ?? []) {
                // A turn of the event loop every page of hosts: packing thousands of hosts' rows
                // in one piece held every request up for as long as it took.
                if (++n % ROLLUP_PAGE === 0) await nextTurn();
                const row = await acc.row((layout) => registerLayout(hostId, layout));
                rows.push({ hostId, bucket, ...row });
              }
            } else rows = await rollBucket(r, bucket);
            await writeInSlices(r, rows, bucket + size);
          } catch (err) {
            // Not done: the next pass does this bucket again, from the same open aggregates.
            // Pushes that arrived meanwhile were marked dirty, and that pass re-rolls them too.
            watermarks.set(r, bucket);
            if (hosts) open.get(r)!.set(bucket, hosts);
            throw err;
          }
          // A late change to this bucket must reach the coarser ones too.
          done += 1;
          next += size;
          // SQLite calls complete synchronously: without a turn of the event loop here, a
          // backlog of buckets (after a restart) would hold up every request until it is done.
          await nextTurn();
        }
        done += await buildHeadChunks(r, 4);
        // Dirty buckets: recompute them for their hosts, and dirty the coarser bucket above.
        const dirty = await store.dirty(r, 200);
        const byBucket = new Map<number, Set<string>>();
        for (const d of dirty) {
          const set = byBucket.get(d.bucket) ?? new Set<string>();
          set.add(d.hostId);
          byBucket.set(d.bucket, set);
        }
        for (const [bucket, hosts] of byBucket) {
          const rows = await withHeads(r, await rollBucket(r, bucket, hosts));
          await store.writeRollups(
            r,
            rows,
            undefined,
            [...hosts].map((hostId) => ({ hostId, bucket })),
          );
          const coarser = (Object.keys(ROLLUPS) as RollupResolution[]).find((c) => SOURCE[c] === r);
          const cw = coarser ? await watermarkOf(coarser) : undefined;
          if (coarser && cw !== undefined) {
            const cb = bucketOf(bucket, ROLLUPS[coarser]);
            if (cb < cw)
              await store.markDirty(
                [...hosts].map((h) => ({ resolution: coarser, host_id: h, bucket: cb })),
              );
          }
          done += 1;
          await nextTurn();
        }
      }
      return done;
    },

    /**
     * Deletes expired data of every resolution in bounded batches, with a turn of the event loop
     * between them; returns rows deleted. 200 batches of 1,000 a minute keep up with a fleet
     * several times the size of 1,000 pushes a second.
     */
    async runRetention(batch = 1000, maxBatches = 200): Promise<number> {
      let total = 0;
      for (const r of ['raw', '1m', '5m', '1h'] as Resolution[]) {
        const before = now() - policy.retention[r];
        for (let i = 0; i < maxBatches; i++) {
          const n = await store.deleteBefore(r, before, batch);
          total += n;
          if (n < batch) break;
          await nextTurn();
        }
      }
      return total;
    },

    /**
     * The history of some series of a host: raw points, or rollup buckets, with `from <= t < to`.
     * Series missing from a point are absent from its map.
     */
    async history(
      hostId: string,
      resolution: Resolution,
      from: number,
      to: number,
      seriesIds: number[],
    ): Promise<HistoryPoint[]> {
      const wanted = new Set(seriesIds);
      const points: HistoryPoint[] = [];
      if (resolution === 'raw') {
        for (const s of await store.samples(hostId, from, to)) {
          const layout = await layoutOf(s.layoutId);
          const vals = unpackValues(s.vals);
          const values = new Map<
            number,
            { avg: number; min: number; max: number; count: number }
          >();
          layout.forEach((id, i) => {
            if (!wanted.has(id)) return;
            const v = vals[i]!;
            values.set(id, { avg: v, min: v, max: v, count: 1 });
          });
          points.push({ timestamp: s.ts, values });
        }
        return points;
      }
      for (const row of await store.rollups(resolution, hostId, from, to)) {
        const layout = await layoutOf(row.layoutId);
        const d = unpackValues(row.data);
        const values = new Map<number, { avg: number; min: number; max: number; count: number }>();
        layout.forEach((id, i) => {
          if (!wanted.has(id)) return;
          const count = d[i * 4 + 3]!;
          if (!(count > 0)) return;
          values.set(id, {
            avg: d[i * 4]! / count,
            min: d[i * 4 + 1]!,
            max: d[i * 4 + 2]!,
            count,
          });
        });
        points.push({ timestamp: row.bucket, values });
      }
      return points;
    },

    /**
     * A host's rollups of the head series (tsdb.ts `HEAD_SERIES`) with `from <= bucket < to`:
     * per bucket, sum, min, max and count of each, in that order. Buckets past their retention
     * are left out, as their rollup rows are. Buckets not rolled up yet (the open one, and one
     * waiting for late pushes) are there too, `partial`: from what this process has aggregated
     * so far, or, for a bucket that began before this process did, from the stored samples.
     */
    async headHistory(
      hostId: string,
      resolution: RollupResolution,
      from: number,
      to: number,
    ): Promise<{ bucket: number; slot: Float64Array; partial?: true }[]> {
      const size = ROLLUPS[resolution];
      const start = Math.max(from, now() - policy.retention[resolution]);
      // Buckets that began before this process: pushes stored by an earlier one are missing from
      // their aggregates here (the rollup job, too, rolls them up from the store).
      const carriedEnd = Math.ceil(startedAt / size) * size;
      // Taken before reading the store: a bucket the rollup job writes meanwhile is then found
      // there if it is gone from here.
      const pending: { bucket: number; acc: BucketAccumulator }[] = [];
      for (const [bucket, hosts] of open.get(resolution)!) {
        const acc =
          bucket >= start && bucket < to && bucket >= carriedEnd ? hosts.get(hostId) : undefined;
        if (acc) pending.push({ bucket, acc });
      }
      // The carried buckets not rolled up yet: none once the rollup job has passed them, which
      // it has, without a query here, when this process has run longer than a bucket.
      const carriedFrom = Math.max(
        Math.ceil(start / size) * size,
        watermarks.get(resolution) ?? -Infinity,
      );
      const carriedTo = Math.min(carriedEnd, bucketOf(to - 1, size) + size);
      const rolled =
        carriedFrom < carriedTo ? ((await watermarkOf(resolution)) ?? -Infinity) : undefined;
      // Built chunks below the heads watermark; the rollup rows themselves above it.
      const built = (await headsWatermarkOf(resolution)) ?? -Infinity;
      const out: { bucket: number; slot: Float64Array; partial?: true }[] =
        start < built ? await store.heads(resolution, hostId, start, Math.min(to, built)) : [];
      if (to > built)
        for (const row of await store.rollups(resolution, hostId, Math.max(start, built), to)) {
          const p = await headPositionsOf(row.layoutId);
          if (p.some((x) => x >= 0))
            out.push({ bucket: row.bucket, slot: headSlot(p, unpackValues(row.data)) });
        }
      const stored = out.length > 0 ? out[out.length - 1]!.bucket : -Infinity;
      if (rolled !== undefined && Math.max(carriedFrom, rolled) < carriedTo)
        for (const c of await carriedHeads(hostId, size, Math.max(carriedFrom, rolled), carriedTo))
          if (c.bucket > stored) out.push({ ...c, partial: true }); // else rolled up meanwhile
      for (const { bucket, acc } of pending.sort((a, b) => a.bucket - b.bucket)) {
        if (bucket <= stored) continue; // rolled up meanwhile
        for (const id of acc.layoutIds()) await headPositionsOf(id);
        const slot = acc.headSlot((id) => headPositionsByLayout.get(id)!);
        let seen = false;
        for (let k = 3; k < slot.length; k += 4) if (slot[k]! > 0) seen = true;
        if (seen) out.push({ bucket, slot, partial: true });
      }
      return out;
    },

    /**
     * For each of `hostIds`, the agent that reported for it last: as this process saw its pushes,
     * else from the store (one query for all the hosts this process has not seen push). Absent
     * for a host that has no agent.
     */
    async reportingAgents(hostIds: string[]): Promise<Map<string, string>> {
      const out = new Map<string, string>();
      const unseen: string[] = [];
      for (const id of hostIds) {
        const mem = latest.get(id);
        if (mem) out.set(id, mem.agentId);
        else unseen.push(id);
      }
      if (unseen.length > 0)
        for (const [id, agent] of await store.reportingAgents(unseen)) out.set(id, agent);
      return out;
    },

    /** The series of a host. */
    series: (hostId: string) => store.seriesOfHost(hostId),
    host: (hostId: string) => store.host(hostId),
    hostOfAgent: (agentId: string) => store.hostOfAgent(agentId),
    hostIds: (limit: number) => store.hostIds(limit),

    /**
     * A host's newest values by series key, with their time and agent; undefined when it never
     * reported.
     */
    async current(
      hostId: string,
    ): Promise<{ ts: number; agentId: string | null; values: [string, number][] } | undefined> {
      const mem = latest.get(hostId);
      const row = mem ?? (await store.latestSample(hostId));
      if (!row) return undefined;
      const layout = await layoutOf(row.layoutId);
      const missing = layout.filter((id) => !seriesKeyCache.has(id));
      if (missing.length > 0)
        for (const [id, key] of await store.seriesKeys(missing)) seriesKeyCache.set(id, key);
      const vals = unpackValues(row.vals);
      return {
        ts: row.ts,
        agentId: mem?.agentId ?? null,
        values: layout.map((id, i) => [seriesKeyCache.get(id) ?? String(id), vals[i]!]),
      };
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

    /** Pages through host ids in order. */
    hostPage: (after: string, limit: number) => store.hostPage(after, limit),

    /** Pages through hosts in id order, with their names. */
    namedHostPage: (after: string, limit: number) => store.namedHostPage(after, limit),

    /** The newest full document of a host. */
    latestDocument: (hostId: string) => store.latestDocumentOfHost(hostId),

    /** Counters since start, for `/metrics`. */
    statistics: () => ({ ...stats, queued: queue.length }),

    /** An agent's last contact as of this process's commits (undefined when it has none). */
    lastContact: (agentId: string): number | undefined => lastContact.get(agentId),

    /** Writes the last contacts not yet written (every few seconds, and at close). */
    async writeContacts(): Promise<number> {
      if (contactDue.size === 0) return 0;
      const due = contactDue;
      contactDue = new Set();
      const seen = [...due].map((agentId) => ({ agentId, at: lastContact.get(agentId)! }));
      try {
        await store.touchAgents(seen);
      } catch (err) {
        for (const id of due) contactDue.add(id);
        throw err;
      }
      return seen.length;
    },

    /** Commits what is queued and writes the last contacts; ingest refuses from then on. */
    async close(): Promise<void> {
      closed = true;
      if (timer) clearTimeout(timer);
      while (queue.length > 0 || flushing) {
        if (flushing) await flushing;
        else await flush();
      }
      await service.writeContacts();
    },
  };
  return service;
};

/** The telemetry service. */
export type TelemetryService = ReturnType<typeof createTelemetryService>;
