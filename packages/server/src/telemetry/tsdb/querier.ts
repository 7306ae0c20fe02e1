import {
  HEAD_SLOT,
  ROLLUPS,
  bucketOf,
  headSlot,
  unpackValues,
  type BucketAccumulator,
  type Resolution,
  type RollupResolution,
} from './format.js';
import type { Head } from './head.js';

/** A point of a history answer: per series, the aggregates of its bucket. */
export interface HistoryPoint {
  timestamp: number;
  values: Map<number, { avg: number; min: number; max: number; count: number }>;
}

/**
 * Reads of the tsdb: a host's history of some series (raw or rolled up), its head series'
 * rollups including the buckets still open, and its newest values. See `Querier` in
 * query/history.ts for the contract.
 */
export function createQuerier(
  head: Head,
  deps: { policy: { retention: Record<Resolution, number> } },
) {
  const { store, now } = head;
  const { policy } = deps;

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
      const p = await head.headPositionsOf(s.layoutId);
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
   * The history of some series of a host: raw points, or rollup buckets, with `from <= t < to`.
   * Series missing from a point are absent from its map.
   */
  async function history(
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
        const layout = await head.layoutOf(s.layoutId);
        const vals = unpackValues(s.vals);
        const values = new Map<number, { avg: number; min: number; max: number; count: number }>();
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
      const layout = await head.layoutOf(row.layoutId);
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
  }

  return {
    history,

    /**
     * A host's series over a long recent window (`from <= t < to`) at the cost of a rolled-up
     * read: the 1-minute rollups of the buckets rolled up already, each a point at its bucket's
     * middle with the bucket's aggregates, and the raw points on either side of them (the part
     * of a minute before the first whole bucket, and what came after the last rolled-up one).
     * For fits over hours, such as the disk forecast: reading every raw push of every host for
     * them was the costliest periodic work of a busy server.
     */
    async recentHistory(
      hostId: string,
      from: number,
      to: number,
      seriesIds: number[],
    ): Promise<HistoryPoint[]> {
      const size = ROLLUPS['1m'];
      const first = Math.min(to, Math.ceil(from / size) * size);
      const rolled = (await head.watermarkOf('1m')) ?? -Infinity;
      const last = Math.max(first, Math.min(to, bucketOf(rolled, size)));
      const before = first > from ? await history(hostId, 'raw', from, first, seriesIds) : [];
      const minutes =
        last > first
          ? (await history(hostId, '1m', first, last, seriesIds)).map((p) => ({
              timestamp: p.timestamp + size / 2,
              values: p.values,
            }))
          : [];
      const after = to > last ? await history(hostId, 'raw', last, to, seriesIds) : [];
      return [...before, ...minutes, ...after];
    },

    /**
     * A host's rollups of the head series (format.ts `HEAD_SERIES`) with `from <= bucket < to`:
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
      const carriedEnd = Math.ceil(head.startedAt / size) * size;
      // Taken before reading the store: a bucket the rollup job writes meanwhile is then found
      // there if it is gone from here.
      const pending: { bucket: number; acc: BucketAccumulator }[] = [];
      for (const [bucket, hosts] of head.open.get(resolution)!) {
        const acc =
          bucket >= start && bucket < to && bucket >= carriedEnd ? hosts.get(hostId) : undefined;
        if (acc) pending.push({ bucket, acc });
      }
      // The carried buckets not rolled up yet: none once the rollup job has passed them, which
      // it has, without a query here, when this process has run longer than a bucket.
      const carriedFrom = Math.max(
        Math.ceil(start / size) * size,
        head.watermarks.get(resolution) ?? -Infinity,
      );
      const carriedTo = Math.min(carriedEnd, bucketOf(to - 1, size) + size);
      const rolled =
        carriedFrom < carriedTo ? ((await head.watermarkOf(resolution)) ?? -Infinity) : undefined;
      // Built chunks below the heads watermark; the rollup rows themselves above it.
      const built = (await head.headsWatermarkOf(resolution)) ?? -Infinity;
      const out: { bucket: number; slot: Float64Array; partial?: true }[] =
        start < built ? await store.heads(resolution, hostId, start, Math.min(to, built)) : [];
      if (to > built)
        for (const row of await store.rollups(resolution, hostId, Math.max(start, built), to)) {
          const p = await head.headPositionsOf(row.layoutId);
          if (p.some((x) => x >= 0))
            out.push({ bucket: row.bucket, slot: headSlot(p, unpackValues(row.data)) });
        }
      const stored = out.length > 0 ? out[out.length - 1]!.bucket : -Infinity;
      if (rolled !== undefined && Math.max(carriedFrom, rolled) < carriedTo)
        for (const c of await carriedHeads(hostId, size, Math.max(carriedFrom, rolled), carriedTo))
          if (c.bucket > stored) out.push({ ...c, partial: true }); // else rolled up meanwhile
      for (const { bucket, acc } of pending.sort((a, b) => a.bucket - b.bucket)) {
        if (bucket <= stored) continue; // rolled up meanwhile
        for (const id of acc.layoutIds()) await head.headPositionsOf(id);
        const slot = acc.headSlot((id) => head.headPositionsByLayout.get(id)!);
        let seen = false;
        for (let k = 3; k < slot.length; k += 4) if (slot[k]! > 0) seen = true;
        if (seen) out.push({ bucket, slot, partial: true });
      }
      return out;
    },

    /**
     * A host's newest values by series key, with their time and agent; undefined when it never
     * reported.
     */
    async current(
      hostId: string,
    ): Promise<{ ts: number; agentId: string | null; values: [string, number][] } | undefined> {
      const mem = head.latest.get(hostId);
      const row = mem ?? (await store.latestSample(hostId));
      if (!row) return undefined;
      const layout = await head.layoutOf(row.layoutId);
      const missing = layout.filter((id) => !head.seriesKeys.has(id));
      if (missing.length > 0)
        for (const [id, key] of await store.seriesKeys(missing)) head.seriesKeys.set(id, key);
      const vals = unpackValues(row.vals);
      return {
        ts: row.ts,
        agentId: mem?.agentId ?? null,
        values: layout.map((id, i) => [head.seriesKeys.get(id) ?? String(id), vals[i]!]),
      };
    },

    /** The series of a host, by key; with `metrics`, only those of these metrics. */
    series: (hostId: string, metrics?: readonly string[]) => store.seriesOfHost(hostId, metrics),
  };
}

/** The reads of a tsdb. */
export type TsdbQuerier = ReturnType<typeof createQuerier>;
