import {
  BucketAccumulator,
  ROLLUPS,
  bucketOf,
  unpackValues,
  type RollupResolution,
  headPositions,
} from './format.js';
import { RecentBuckets } from './recent.js';
import type { PushRow, SampleBatch, TsdbStore } from './tsdb.js';

/** Lets the event loop serve I/O before going on (SQLite calls complete synchronously). */
export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Stored rows the rollup job reads at a time: rollup rows of some 150 series are about 5 KB,
 * so a page is a millisecond or two.
 */
export const ROLLUP_PAGE = 200;

/** Whether `keys` is `samples`' keys (its first `samples.length`). */
const sameKeys = (keys: string[], samples: SampleBatch): boolean => {
  if (keys.length !== samples.length) return false;
  for (let i = 0; i < keys.length; i++) if (keys[i] !== samples.keys[i]) return false;
  return true;
};

/**
 * What the tsdb of this process holds in memory, shared by its appender, rollup job and
 * querier: the layouts and series keys seen (they never change once stored), each host's newest
 * push, the rollup watermarks, and the aggregates of the rollup buckets still open. Everything
 * here is a cache of the store or ahead of it only until the rollup job writes it.
 */
export class Head {
  /** Series ids of each layout, by layout id. */
  readonly layouts = new Map<number, number[]>();
  /** Per host: the key list of its last push and the layout it maps to. */
  private readonly layoutByHost = new Map<string, { keys: string[]; layoutId: number }>();
  /** Per resolution, the start of the first bucket not rolled up yet. */
  readonly watermarks = new Map<RollupResolution, number>();
  /** Rollup aggregates of the open buckets, per resolution, bucket and host. */
  readonly open = new Map<RollupResolution, Map<number, Map<string, BucketAccumulator>>>(
    (Object.keys(ROLLUPS) as RollupResolution[]).map((r) => [r, new Map()]),
  );
  /** Pushes for buckets that began before this time may be missing from `open`. */
  readonly startedAt: number;
  /** Each host's newest push, for "current metrics" without a query. */
  readonly latest = new Map<string, PushRow & { agentId: string }>();
  /** Series keys by id: they never change, so they are cached as they are needed. */
  readonly seriesKeys = new Map<number, string>();
  /** Where the head series sit in each layout (store/heads.ts), by layout id. */
  readonly headPositionsByLayout = new Map<number, Int32Array>();
  /** Per resolution, the end of the last head chunk built. */
  readonly headsWatermarks = new Map<RollupResolution, number>();
  /** The averages of every host's recent 1-minute buckets once rolled up (the sparklines). */
  readonly recent: RecentBuckets;

  constructor(
    readonly store: TsdbStore,
    readonly now: () => number,
  ) {
    this.startedAt = now();
    this.recent = new RecentBuckets(now);
  }

  /** The series ids of a layout (empty for an unknown one), cached. */
  async layoutOf(id: number): Promise<number[]> {
    let l = this.layouts.get(id);
    if (!l) {
      l = (await this.store.layout(id)) ?? [];
      this.layouts.set(id, l);
    }
    return l;
  }

  /** The layout of a host's samples when it is the one of its last push. */
  knownLayout(hostId: string, pushed: SampleBatch): number | undefined {
    const cached = this.layoutByHost.get(hostId);
    return cached && sameKeys(cached.keys, pushed) ? cached.layoutId : undefined;
  }

  /** The layout of a host's series `keys` (series and layout stored when new). */
  async layoutFor(hostId: string, keys: string[]): Promise<number> {
    const t = this.now();
    const ids = await this.store.seriesIds(hostId, keys, t);
    const layoutId = await this.registerLayout(hostId, ids, t);
    this.layoutByHost.set(hostId, { keys, layoutId });
    return layoutId;
  }

  /** The id of a host's layout (stored when new), cached with its series ids. */
  async registerLayout(hostId: string, ids: number[], at = this.now()): Promise<number> {
    const layoutId = await this.store.layoutId(hostId, ids, at);
    this.layouts.set(layoutId, ids);
    return layoutId;
  }

  /** A resolution's rollup watermark, read from the store once. */
  async watermarkOf(r: RollupResolution): Promise<number | undefined> {
    if (!this.watermarks.has(r)) {
      const w = await this.store.watermark(r);
      // The rollup job may have moved it meanwhile: what it set is newer than what was read.
      if (w !== undefined && !this.watermarks.has(r)) this.watermarks.set(r, w);
    }
    return this.watermarks.get(r);
  }

  /** Where the head series sit in a layout, cached. */
  async headPositionsOf(layoutId: number): Promise<Int32Array> {
    let p = this.headPositionsByLayout.get(layoutId);
    if (!p) {
      const layout = await this.layoutOf(layoutId);
      p = headPositions(layout, await this.store.seriesKeys(layout));
      this.headPositionsByLayout.set(layoutId, p);
    }
    return p;
  }

  /** A resolution's heads watermark, read from the store once. */
  async headsWatermarkOf(r: RollupResolution): Promise<number | undefined> {
    if (!this.headsWatermarks.has(r)) {
      const w = await this.store.headsWatermark(r);
      if (w !== undefined) this.headsWatermarks.set(r, w);
    }
    return this.headsWatermarks.get(r);
  }

  /** Adds a committed push to the open buckets it falls into (not to those rolled up). */
  accumulate(row: PushRow): void {
    const layout = this.layouts.get(row.layoutId);
    if (!layout) return;
    const values = unpackValues(row.vals);
    for (const [r, byBucket] of this.open) {
      const w = this.watermarks.get(r);
      const bucket = bucketOf(row.ts, ROLLUPS[r]);
      if (w !== undefined && bucket < w) continue; // done already: the dirty path re-rolls it
      let hosts = byBucket.get(bucket);
      if (!hosts) byBucket.set(bucket, (hosts = new Map()));
      let acc = hosts.get(row.hostId);
      if (!acc) hosts.set(row.hostId, (acc = new BucketAccumulator(row.layoutId, layout)));
      acc.add(row.layoutId, layout, values);
    }
  }

  /** Keeps a committed push as its host's newest when it is. */
  remember(row: PushRow, agentId: string): void {
    const prev = this.latest.get(row.hostId);
    if (!prev) this.latest.set(row.hostId, { ...row, vals: row.vals.slice(), agentId });
    else if (prev.ts <= row.ts) {
      // Updated in place: a new record per push would live seconds, long enough to reach the
      // old generation, and a fleet's worth of those is garbage only a full GC frees.
      prev.ts = row.ts;
      prev.layoutId = row.layoutId;
      prev.agentId = agentId;
      if (prev.vals.length === row.vals.length) prev.vals.set(row.vals);
      else prev.vals = row.vals.slice();
    }
  }
}
