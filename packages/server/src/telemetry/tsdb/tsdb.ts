import type { CheckWrite, DocumentRow } from '../rows.js';
import { createAppender } from './appender.js';
import { createFleetReader } from './fleet.js';
import type { Resolution, RollupResolution } from './format.js';
import { Head } from './head.js';
import { createQuerier } from './querier.js';
import { runRetention } from './retention.js';
import { createRollupJob } from './rollup.js';

// The shapes the tsdb keeps: pushes as rows of packed values laid out by a layout (the host's
// series ids in order), rollup rows of four figures per series, and head chunks (store/heads.ts).

/** One push as stored: a host's values at a time, laid out by `layoutId`. */
export interface PushRow {
  hostId: string;
  ts: number;
  layoutId: number;
  vals: Uint8Array;
}
/**
 * The samples of one push, in a buffer that serves the next push too: `keys[i]` has
 * `values[i]` for `i < length` (ingest/normalize.ts `SampleBuffer`).
 */
export interface SampleBatch {
  keys: string[];
  values: Float64Array;
  length: number;
  /** Keeps the first sample of each series, in order; returns how many are left. */
  dropRepeats(): number;
}

/** A stored push, as read back. */
export type StoredSample = PushRow;
/** A stored rollup row: per series of its layout, sum, min, max and count. */
export interface StoredRollup {
  hostId: string;
  bucket: number;
  layoutId: number;
  data: Uint8Array;
}
/** A rollup row to write, with its head slot when its layout has any head series. */
export type RollupWrite = StoredRollup & { head?: Float64Array };

/** A rollup bucket of a host marked for another pass. */
export interface DirtyBucket {
  resolution: string;
  host_id: string;
  bucket: number;
}

/**
 * Where the tsdb keeps its series, layouts, samples, rollups and head chunks. Every method may
 * be called concurrently with ingest.
 */
export interface TsdbStore {
  /** The ids of a host's series by key, creating the missing ones; in the order of `keys`. */
  seriesIds(hostId: string, keys: string[], now: number): Promise<number[]>;
  /** The id of the layout `seriesIds` of a host, creating it when new. */
  layoutId(hostId: string, seriesIds: number[], now: number): Promise<number>;
  /** The series ids of a layout; undefined when unknown. */
  layout(id: number): Promise<number[] | undefined>;
  /** A host's series by key; with `metrics`, only those of these metrics (`m` or `m{…}`). */
  seriesOfHost(hostId: string, metrics?: readonly string[]): Promise<{ id: number; key: string }[]>;
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
  /** A host's head slots with `from <= bucket < to`, by time (store/heads.ts). */
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
  /** The newest stored push of a host. */
  latestSample(hostId: string): Promise<StoredSample | undefined>;
  /** Series keys by id. */
  seriesKeys(ids: number[]): Promise<Map<number, string>>;
  /** The start of the first bucket not yet rolled up; undefined before the first run. */
  watermark(resolution: RollupResolution): Promise<number | undefined>;
  firstSampleTime(): Promise<number | undefined>;
  dirty(resolution: RollupResolution, limit: number): Promise<{ hostId: string; bucket: number }[]>;
  markDirty(rows: DirtyBucket[]): Promise<void>;
  /** Deletes at most `limit` rows older than `before`; returns how many. */
  deleteBefore(resolution: Resolution, before: number, limit: number): Promise<number>;
}

/** Settings of the tsdb. */
export interface TsdbPolicy {
  /** Retention per resolution, in milliseconds. */
  retention: Record<Resolution, number>;
  /** Longest a push waits for its batch to be committed. */
  commitDelayMs: number;
  /** Most pushes in one transaction. */
  maxBatch: number;
  /** How long after a bucket's end the rollup job waits for late pushes. */
  rollupGraceMs: number;
}

/**
 * The tsdb of this process: its appender (the group commit), rollup job, retention and querier
 * over one in-memory head and one store.
 */
export function createTsdb(deps: {
  store: TsdbStore;
  now: () => number;
  policy: TsdbPolicy;
  /** Told how long each group commit took and how many pushes it held. */
  onCommit?: (seconds: number, pushes: number) => void;
}) {
  const head = new Head(deps.store, deps.now);
  const appender = createAppender(head, { policy: deps.policy, onCommit: deps.onCommit });
  const rollups = createRollupJob(head, {
    policy: deps.policy,
    committing: appender.committing,
  });
  return {
    appender,
    querier: createQuerier(head, { policy: deps.policy }),
    /** The whole fleet's recent figures from memory (the fleet overview). */
    fleet: createFleetReader(head),
    runRollups: rollups.runRollups,
    /** Deletes expired data (retention.ts). */
    runRetention: (batch?: number, maxBatches?: number) =>
      runRetention(deps, deps.policy.retention, batch, maxBatches),
    /** Each host's newest push as this process committed it, with its agent. */
    latestOf: (hostId: string) => head.latest.get(hostId),
  };
}

/** A tsdb. */
export type Tsdb = ReturnType<typeof createTsdb>;
