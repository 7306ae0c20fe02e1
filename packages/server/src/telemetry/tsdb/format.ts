import { createHash } from 'node:crypto';

/**
 * The packed time-series layout, free of I/O. A push of one host is one row: its values as
 * little-endian Float64 in the order of a *layout* (a list of series ids, stored once per host and
 * key set). A rollup row holds, per series of its layout, four Float64: sum, min, max and count.
 */

/** Rollup resolutions and their bucket sizes in milliseconds. */
export const ROLLUPS = { '1m': 60_000, '5m': 300_000, '1h': 3_600_000 } as const;
export type RollupResolution = keyof typeof ROLLUPS;
export type Resolution = 'raw' | RollupResolution;
export const RESOLUTIONS: readonly Resolution[] = ['raw', '1m', '5m', '1h'];

/** Where each rollup is computed from: raw samples for 1m, the next finer rollup above that. */
export const SOURCE: Record<RollupResolution, Resolution> = { '1m': 'raw', '5m': '1m', '1h': '5m' };

/** The start of the bucket of `ts` at a resolution. */
export const bucketOf = (ts: number, size: number): number => Math.floor(ts / size) * size;

/** Packs values as little-endian Float64. */
export function packValues(values: ArrayLike<number>): Uint8Array {
  if (values instanceof Float64Array) return new Uint8Array(values.slice().buffer);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]!;
  return new Uint8Array(out.buffer);
}

/** Reads packed Float64 values (copying when the bytes are not 8-byte aligned). */
export function unpackValues(bytes: Uint8Array): Float64Array {
  if (bytes.byteOffset % 8 === 0 && bytes.byteLength % 8 === 0)
    return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
  const copy = new Uint8Array(bytes.byteLength - (bytes.byteLength % 8));
  copy.set(bytes.subarray(0, copy.byteLength));
  return new Float64Array(copy.buffer);
}

/** Running aggregates of a set of series: sum, min, max and count per series id. */
export class Aggregate {
  readonly bySeries = new Map<number, [number, number, number, number]>();

  /** Adds raw values laid out as `layout`. */
  addValues(layout: readonly number[], values: Float64Array): void {
    for (let i = 0; i < layout.length && i < values.length; i++) {
      const v = values[i]!;
      if (Number.isNaN(v)) continue;
      const a = this.bySeries.get(layout[i]!);
      if (!a) this.bySeries.set(layout[i]!, [v, v, v, 1]);
      else {
        a[0] += v;
        if (v < a[1]) a[1] = v;
        if (v > a[2]) a[2] = v;
        a[3] += 1;
      }
    }
  }

  /** Adds a finer rollup row (sum, min, max, count per series) laid out as `layout`. */
  addRollup(layout: readonly number[], data: Float64Array): void {
    for (let i = 0; i < layout.length && i * 4 + 3 < data.length; i++) {
      const count = data[i * 4 + 3]!;
      if (!(count > 0)) continue;
      const sum = data[i * 4]!;
      const min = data[i * 4 + 1]!;
      const max = data[i * 4 + 2]!;
      const a = this.bySeries.get(layout[i]!);
      if (!a) this.bySeries.set(layout[i]!, [sum, min, max, count]);
      else {
        a[0] += sum;
        if (min < a[1]) a[1] = min;
        if (max > a[2]) a[2] = max;
        a[3] += count;
      }
    }
  }

  /** Adds packed aggregates (sum, min, max, count per series) laid out as `layout`. */
  addPacked(layout: readonly number[], data: Float64Array): void {
    this.addRollup(layout, data);
  }

  /** The series ids, ascending: the layout of the rollup row this aggregate becomes. */
  layout(): number[] {
    return [...this.bySeries.keys()].sort((a, b) => a - b);
  }

  /** The rollup row's data for `layout`. */
  pack(layout: readonly number[]): Uint8Array {
    const out = new Float64Array(layout.length * 4);
    layout.forEach((id, i) => {
      const a = this.bySeries.get(id);
      if (!a) return;
      out[i * 4] = a[0];
      out[i * 4 + 1] = a[1];
      out[i * 4 + 2] = a[2];
      out[i * 4 + 3] = a[3];
    });
    return new Uint8Array(out.buffer);
  }
}

/** A stable, short name for a layout: SHA-1 of its series ids. */
export const layoutHash = (ids: readonly number[]): string =>
  createHash('sha1').update(ids.join(',')).digest('hex');

/**
 * The aggregates of one host in one open bucket, kept while pushes arrive: a flat array (sum,
 * min, max, count per series) in the layout of the pushes, which almost never changes within a
 * bucket; when it does, the aggregates move to a general `Aggregate`.
 */
export class BucketAccumulator {
  private layoutId: number;
  private layout: readonly number[];
  private data: Float64Array;
  private general: Aggregate | undefined;
  /** Once the layout changed: every layout of the pushes, by id. */
  private seen: Map<number, readonly number[]> | undefined;

  constructor(layoutId: number, layout: readonly number[]) {
    this.layoutId = layoutId;
    this.layout = layout;
    this.data = new Float64Array(layout.length * 4);
  }

  /** Adds one push's values. */
  add(layoutId: number, layout: readonly number[], values: Float64Array): void {
    if (this.general) {
      if (!this.seen!.has(layoutId)) this.seen!.set(layoutId, layout);
      return this.general.addValues(layout, values);
    }
    if (layoutId !== this.layoutId) {
      this.general = new Aggregate();
      this.general.addPacked(this.layout, this.data);
      this.general.addValues(layout, values);
      this.seen = new Map([
        [this.layoutId, this.layout],
        [layoutId, layout],
      ]);
      return;
    }
    const d = this.data;
    for (let i = 0; i < values.length && i < layout.length; i++) {
      const v = values[i]!;
      if (Number.isNaN(v)) continue;
      const o = i * 4;
      if (d[o + 3] === 0) {
        d[o] = v;
        d[o + 1] = v;
        d[o + 2] = v;
        d[o + 3] = 1;
      } else {
        d[o] += v;
        if (v < d[o + 1]!) d[o + 1] = v;
        if (v > d[o + 2]!) d[o + 2] = v;
        d[o + 3] += 1;
      }
    }
  }

  /** The ids of the layouts of the pushes so far (one unless the layout changed). */
  layoutIds(): number[] {
    return this.seen ? [...this.seen.keys()] : [this.layoutId];
  }

  /**
   * The head slot of the pushes so far (see `headSlot`); `positionsOf` gives where the head
   * series sit in each of `layoutIds()`.
   */
  headSlot(positionsOf: (layoutId: number) => Int32Array): Float64Array {
    if (!this.general || !this.seen) return headSlot(positionsOf(this.layoutId), this.data);
    const slot = new Float64Array(HEAD_SLOT);
    // A head series is the same series id in every layout of a host: its aggregates are found
    // through whichever layout holds it.
    for (const [layoutId, layout] of this.seen) {
      const positions = positionsOf(layoutId);
      for (let k = 0; k < positions.length; k++) {
        const p = positions[k]!;
        if (p < 0 || slot[k * 4 + 3]! > 0) continue;
        const a = this.general.bySeries.get(layout[p]!);
        if (a) slot.set(a, k * 4);
      }
    }
    return slot;
  }

  /**
   * The rollup row: in the pushes' layout when it never changed (series that never had a value
   * are left out by the caller's layout choice), else in the union layout `register` names.
   */
  async row(
    register: (layout: number[]) => Promise<number>,
  ): Promise<{ layoutId: number; data: Uint8Array }> {
    if (!this.general) {
      // Drop series without values, so that the row says only what was seen.
      const keep: number[] = [];
      for (let i = 0; i < this.layout.length; i++) if (this.data[i * 4 + 3]! > 0) keep.push(i);
      if (keep.length === this.layout.length)
        return { layoutId: this.layoutId, data: new Uint8Array(this.data.buffer) };
      this.general = new Aggregate();
      this.general.addPacked(this.layout, this.data);
    }
    const layout = this.general.layout();
    return { layoutId: await register(layout), data: this.general.pack(layout) };
  }
}

/**
 * The host-level series that overview charts read (Tyto's history metrics). Their rollups are
 * kept a second time in *head chunks*: per host and resolution, one row for
 * `HEAD_CHUNK_BUCKETS` consecutive buckets, each bucket a slot of sum, min, max and count per
 * head series in this order. A week at 5m is then 84 small rows instead of 2,016 wide ones.
 */
export const HEAD_SERIES = [
  'cpu_usage_percent',
  'memory_usage_percent',
  'swap_usage_percent',
  'disk_usage_percent',
  'load1',
  'load5',
  'load15',
  'cpu_iowait_percent',
  'net_rx_bytes_per_second',
  'net_tx_bytes_per_second',
  'processes',
  'tcp_connections',
] as const;
/** Float64 values per bucket in a head chunk. */
export const HEAD_SLOT = HEAD_SERIES.length * 4;
/** Buckets per head chunk. */
export const HEAD_CHUNK_BUCKETS = 24;

/** The start of the head chunk holding `bucket` at a resolution of `size` ms. */
export const headChunkOf = (bucket: number, size: number): number =>
  bucketOf(bucket, size * HEAD_CHUNK_BUCKETS);

/**
 * The head slot of a rollup row: for each head series, its four aggregates from `data` when the
 * layout has it (`positions[i]` its index in the layout, -1 when absent: count 0).
 */
export function headSlot(positions: Int32Array, data: Float64Array): Float64Array {
  const slot = new Float64Array(HEAD_SLOT);
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i]!;
    if (p < 0 || p * 4 + 3 >= data.length) continue;
    slot.set(data.subarray(p * 4, p * 4 + 4), i * 4);
  }
  return slot;
}

/** A head chunk with one bucket's slot written into it (a new chunk when `chunk` is absent). */
export function withSlot(
  chunk: Float64Array | undefined,
  index: number,
  slot: Float64Array,
): Float64Array {
  const out = new Float64Array(HEAD_SLOT * HEAD_CHUNK_BUCKETS);
  if (chunk) out.set(chunk.subarray(0, out.length));
  out.set(slot, index * HEAD_SLOT);
  return out;
}

/** Where each head series sits in a layout (-1: not in it), from the layout's series keys. */
export function headPositions(layout: readonly number[], keyOf: Map<number, string>): Int32Array {
  const positions = new Int32Array(HEAD_SERIES.length).fill(-1);
  layout.forEach((id, i) => {
    const k = HEAD_SERIES.indexOf(keyOf.get(id) as (typeof HEAD_SERIES)[number]);
    if (k >= 0) positions[k] = i;
  });
  return positions;
}
