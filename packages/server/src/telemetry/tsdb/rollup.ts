import {
  Aggregate,
  HEAD_CHUNK_BUCKETS,
  HEAD_SLOT,
  ROLLUPS,
  SOURCE,
  bucketOf,
  headChunkOf,
  headSlot,
  unpackValues,
  type RollupResolution,
} from './format.js';
import { ROLLUP_PAGE, nextTurn, type Head } from './head.js';
import type { RollupWrite } from './tsdb.js';

/**
 * The rollup job: rolls closed buckets of every resolution up (from the open aggregates of this
 * process, or from the store for a bucket that began before it), re-rolls buckets that late
 * pushes dirtied, and builds the head chunks of rolled-up buckets.
 */
export function createRollupJob(
  head: Head,
  deps: {
    policy: { rollupGraceMs: number };
    /** The group commit running now, if any: a bucket is taken from `open` only after it. */
    committing: () => Promise<void> | undefined;
  },
) {
  const { store, now } = head;
  const { policy } = deps;

  /**
   * Gives each rollup row of an already built head chunk its head slot (when its layout has head
   * series), so that re-rolled buckets reach the chunk too.
   */
  async function withHeads(r: RollupResolution, rows: RollupWrite[]): Promise<RollupWrite[]> {
    const built = (await head.headsWatermarkOf(r)) ?? -Infinity;
    let n = 0;
    for (const row of rows) {
      if (row.bucket >= built) continue;
      if (++n % ROLLUP_PAGE === 0) await nextTurn();
      const p = await head.headPositionsOf(row.layoutId);
      if (p.some((x) => x >= 0)) row.head = headSlot(p, unpackValues(row.data));
    }
    return rows;
  }

  /**
   * Builds the head chunks whose buckets are all rolled up (at most `max` chunks per call), from
   * the stored rollup rows: each chunk of each host is written once, when it is complete. Until
   * then, history reads those buckets from the rollup rows themselves.
   */
  async function buildHeadChunks(r: RollupResolution, max: number): Promise<number> {
    const size = ROLLUPS[r];
    const span = size * HEAD_CHUNK_BUCKETS;
    const rolled = head.watermarks.get(r);
    if (rolled === undefined) return 0;
    let next = await head.headsWatermarkOf(r);
    if (next === undefined) {
      const first = await store.firstSampleTime();
      if (first === undefined) return 0;
      next = headChunkOf(Math.min(first, rolled - size), size);
      // Kept at once: where the chunks start must not move with later data (a backfill).
      await store.setHeadsWatermark(r, next);
      head.headsWatermarks.set(r, next);
    }
    let built = 0;
    for (; built < max && next + span <= rolled; built++) {
      const chunks = new Map<string, Float64Array>();
      let after: { ts: number; hostId: string } | undefined;
      for (;;) {
        const page = await store.rollupsPage(r, next, next + span, after, ROLLUP_PAGE);
        for (const row of page) {
          const p = await head.headPositionsOf(row.layoutId);
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
      head.headsWatermarks.set(r, next);
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
          agg(s.hostId).addValues(await head.layoutOf(s.layoutId), unpackValues(s.vals));
      else
        for (const s of await store.rollups(source, only, bucket, bucket + size))
          agg(s.hostId).addRollup(await head.layoutOf(s.layoutId), unpackValues(s.data));
    } else {
      // Every host: in pages, with a turn of the event loop between them, so that rolling up a
      // large bucket from stored data (after a restart) never stalls ingest.
      let after: { ts: number; hostId: string } | undefined;
      for (;;) {
        if (source === 'raw') {
          const page = await store.samplesPage(bucket, bucket + size, after, ROLLUP_PAGE);
          for (const s of page)
            if (!hostIds || hostIds.has(s.hostId))
              agg(s.hostId).addValues(await head.layoutOf(s.layoutId), unpackValues(s.vals));
          const last = page[page.length - 1];
          if (!last || page.length < ROLLUP_PAGE) break;
          after = { ts: last.ts, hostId: last.hostId };
        } else {
          const page = await store.rollupsPage(source, bucket, bucket + size, after, ROLLUP_PAGE);
          for (const s of page)
            if (!hostIds || hostIds.has(s.hostId))
              agg(s.hostId).addRollup(await head.layoutOf(s.layoutId), unpackValues(s.data));
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
      const layoutId = await head.registerLayout(hostId, layout);
      rows.push({ hostId, bucket, layoutId, data: a.pack(layout) });
    }
    return rows;
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

  /** Keeps the averages of 1-minute rows just written for the fleet's sparklines. */
  async function keepRecent(rows: RollupWrite[]): Promise<void> {
    let n = 0;
    for (const row of rows) {
      // A turn of the event loop every 50 rows: the first bucket after a start looks up every
      // host's head positions (a query of some 150 series keys each, about 0.3 ms), and a
      // fleet's worth of those in one piece held every request up for 700 ms.
      if (++n % 50 === 0) await nextTurn();
      head.recent.putRow(row, await head.headPositionsOf(row.layoutId));
    }
    head.recent.prune();
  }

  /** Where a resolution's rollups start when it has never run: the first sample's bucket. */
  async function startOf(r: RollupResolution): Promise<number | undefined> {
    const w = await head.watermarkOf(r);
    if (w !== undefined) return w;
    const first = await store.firstSampleTime();
    return first === undefined ? undefined : bucketOf(first, ROLLUPS[r]);
  }

  return {
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
        const srcLimit = src === 'raw' ? limit : ((await head.watermarkOf(src)) ?? 0);
        for (let i = 0; next !== undefined && i < maxBuckets; i++) {
          if (next + size > limit || next + size > srcLimit) break;
          const bucket = next;
          // From now on a push into this bucket marks it dirty; one already committing lands in
          // the open bucket first.
          head.watermarks.set(r, bucket + size);
          const committing = deps.committing();
          if (committing) await committing;
          const hosts = head.open.get(r)!.get(bucket);
          head.open.get(r)!.delete(bucket);
          try {
            let rows: RollupWrite[];
            if (bucket >= head.startedAt) {
              rows = [];
              let n = 0;
              for (const [hostId, acc] of hosts ?? []) {
                // A turn of the event loop every page of hosts: packing thousands of hosts' rows
                // in one piece held every request up for as long as it took.
                if (++n % ROLLUP_PAGE === 0) await nextTurn();
                const row = await acc.row((layout) => head.registerLayout(hostId, layout));
                rows.push({ hostId, bucket, ...row });
              }
            } else rows = await rollBucket(r, bucket);
            await writeInSlices(r, rows, bucket + size);
            if (r === '1m') await keepRecent(rows);
          } catch (err) {
            // Not done: the next pass does this bucket again, from the same open aggregates.
            // Pushes that arrived meanwhile were marked dirty, and that pass re-rolls them too.
            head.watermarks.set(r, bucket);
            if (hosts) head.open.get(r)!.set(bucket, hosts);
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
          if (r === '1m') await keepRecent(rows);
          const coarser = (Object.keys(ROLLUPS) as RollupResolution[]).find((c) => SOURCE[c] === r);
          const cw = coarser ? await head.watermarkOf(coarser) : undefined;
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
  };
}
