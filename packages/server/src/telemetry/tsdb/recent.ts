import { HEAD_SERIES, headSlot, unpackValues } from './format.js';

/** How long rolled-up 1-minute buckets are kept in memory: the fleet's sparklines span 30 min. */
export const RECENT_MS = 35 * 60_000;

/**
 * The averages of the head series (format.ts `HEAD_SERIES`, in that order) of a host's recent
 * 1-minute buckets, kept in memory as the rollup job writes them, so that the fleet overview
 * draws every host's sparklines without reading rollup rows (some 5 KB each) per request. NaN
 * where a bucket has no value of a series.
 */
export class RecentBuckets {
  private readonly byHost = new Map<string, Map<number, Float64Array>>();
  /** Whether the buckets rolled up before this process started were read (once). */
  backfilled: Promise<void> | undefined;

  constructor(private readonly now: () => number) {}

  /** Keeps one bucket's averages from its head slot (sum, min, max, count per head series). */
  putSlot(hostId: string, bucket: number, slot: Float64Array): void {
    if (bucket < this.now() - RECENT_MS) return;
    const avg = new Float64Array(HEAD_SERIES.length);
    for (let k = 0; k < HEAD_SERIES.length; k++) {
      const count = slot[k * 4 + 3]!;
      avg[k] = count > 0 ? slot[k * 4]! / count : NaN;
    }
    let buckets = this.byHost.get(hostId);
    if (!buckets) this.byHost.set(hostId, (buckets = new Map()));
    buckets.set(bucket, avg);
  }

  /** Keeps a rollup row's bucket, given where the head series sit in its layout. */
  putRow(row: { hostId: string; bucket: number; data: Uint8Array }, positions: Int32Array): void {
    if (row.bucket < this.now() - RECENT_MS || !positions.some((x) => x >= 0)) return;
    this.putSlot(row.hostId, row.bucket, headSlot(positions, unpackValues(row.data)));
  }

  /** Drops buckets older than `RECENT_MS` (the rollup job calls it after each pass). */
  prune(): void {
    const oldest = this.now() - RECENT_MS;
    for (const [hostId, buckets] of this.byHost) {
      for (const b of buckets.keys()) if (b < oldest) buckets.delete(b);
      if (buckets.size === 0) this.byHost.delete(hostId);
    }
  }

  /** A host's kept buckets (bucket start → averages); undefined when none. */
  of(hostId: string): ReadonlyMap<number, Float64Array> | undefined {
    return this.byHost.get(hostId);
  }

  /** Every host with kept buckets. */
  hosts(): IterableIterator<string> {
    return this.byHost.keys();
  }
}
