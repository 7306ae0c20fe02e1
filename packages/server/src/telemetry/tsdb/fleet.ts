import { HEAD_SERIES, unpackValues } from './format.js';
import { ROLLUP_PAGE, nextTurn, type Head } from './head.js';
import { RECENT_MS } from './recent.js';

/** What the fleet overview shows of one host, from memory. */
export interface FleetFigures {
  /**
   * The host's newest push as this process committed it: its time (epoch ms) and the values of
   * the head series (`HEAD_SERIES` order, NaN where absent); undefined when it has not pushed
   * since this process started.
   */
  latest: { ts: number; values: Float64Array } | undefined;
  /** Per 1-minute bucket start, the averages of the head series (NaN where absent). */
  buckets: ReadonlyMap<number, Float64Array>;
}

/**
 * Reads the whole fleet's recent figures at once, for the fleet overview: the newest push of each
 * host and the averages of its recent 1-minute buckets, rolled up (kept by the rollup job, read
 * from the store once after a start) or still open. No query per host: where the head series sit
 * in each layout is cached as layouts are met, and the backfill is paged once per process.
 */
export function createFleetReader(head: Head) {
  const { store, now } = head;
  /** Reads the 1-minute rows rolled up before this process started (once). */
  function backfill(): Promise<void> {
    head.recent.backfilled ??= (async () => {
      // What this process rolls up itself it keeps as it goes: only the buckets that began
      // before it started can be missing (none once it has run longer than the sparklines span).
      const from = now() - RECENT_MS;
      const to = Math.ceil(head.startedAt / 60_000) * 60_000;
      let after: { ts: number; hostId: string } | undefined;
      for (; from < to;) {
        const page = await store.rollupsPage('1m', from, to, after, ROLLUP_PAGE);
        for (const row of page) head.recent.putRow(row, await head.headPositionsOf(row.layoutId));
        const last = page[page.length - 1];
        if (!last || page.length < ROLLUP_PAGE) break;
        after = { ts: last.bucket, hostId: last.hostId };
        await nextTurn();
      }
    })().catch((err: unknown) => {
      head.recent.backfilled = undefined;
      throw err;
    });
    return head.recent.backfilled;
  }

  return {
    /**
     * Every host's figures from memory for buckets with `from <= bucket < to` (epoch ms): the
     * rolled-up ones and the open ones. Hosts with nothing in memory are absent.
     */
    async recent(from: number, to: number): Promise<Map<string, FleetFigures>> {
      await backfill();
      const out = new Map<string, FleetFigures>();
      const entry = (hostId: string) => {
        let f = out.get(hostId);
        if (!f) out.set(hostId, (f = { latest: undefined, buckets: new Map() }));
        return f;
      };
      for (const hostId of head.recent.hosts()) {
        const kept = head.recent.of(hostId)!;
        const buckets = entry(hostId).buckets as Map<number, Float64Array>;
        for (const [b, avg] of kept) if (b >= from && b < to) buckets.set(b, avg);
      }
      for (const [bucket, hosts] of head.open.get('1m')!) {
        if (bucket < from || bucket >= to) continue;
        for (const [hostId, acc] of hosts) {
          for (const id of acc.layoutIds()) await head.headPositionsOf(id);
          const slot = acc.headSlot((id) => head.headPositionsByLayout.get(id)!);
          const avg = new Float64Array(HEAD_SERIES.length);
          let seen = false;
          for (let k = 0; k < HEAD_SERIES.length; k++) {
            const count = slot[k * 4 + 3]!;
            avg[k] = count > 0 ? slot[k * 4]! / count : NaN;
            if (count > 0) seen = true;
          }
          if (seen) (entry(hostId).buckets as Map<number, Float64Array>).set(bucket, avg);
        }
      }
      for (const [hostId, row] of head.latest) {
        const positions = await head.headPositionsOf(row.layoutId);
        const vals = unpackValues(row.vals);
        const values = new Float64Array(HEAD_SERIES.length).fill(NaN);
        positions.forEach((p, k) => {
          if (p >= 0 && p < vals.length) values[k] = vals[p]!;
        });
        entry(hostId).latest = { ts: row.ts, values };
      }
      return out;
    },
  };
}

/** The fleet reader. */
export type FleetReader = ReturnType<typeof createFleetReader>;
