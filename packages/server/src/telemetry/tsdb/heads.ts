import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import {
  HEAD_CHUNK_BUCKETS,
  HEAD_SERIES,
  HEAD_SLOT,
  ROLLUPS,
  headChunkOf,
  headSlot,
  packValues,
  unpackValues,
  withSlot,
  type RollupResolution,
} from './format.js';

/** One bucket's head slot, to be written into its chunk. */
export interface HeadWrite {
  /** The host's key (`host_keys`). */
  hostKey: number;
  bucket: number;
  slot: Float64Array;
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

/**
 * Writes bucket slots into their head chunks (read, change, write back), within the caller's
 * transaction when `db` is one. Slots of one chunk are read and written once.
 */
export async function writeHeads(
  db: Kysely<Database>,
  resolution: RollupResolution,
  slots: HeadWrite[],
): Promise<void> {
  if (slots.length === 0) return;
  const size = ROLLUPS[resolution];
  // By chunk, then host: the rows of one rollup pass share a bucket, so usually one chunk.
  const byChunk = new Map<number, Map<number, HeadWrite[]>>();
  for (const s of slots) {
    const chunk = headChunkOf(s.bucket, size);
    let hosts = byChunk.get(chunk);
    if (!hosts) byChunk.set(chunk, (hosts = new Map()));
    const list = hosts.get(s.hostKey);
    if (list) list.push(s);
    else hosts.set(s.hostKey, [s]);
  }
  for (const [chunk, hosts] of byChunk) {
    const keys = [...hosts.keys()];
    const existing = new Map<number, Float64Array>();
    for (let i = 0; i < keys.length; i += 500) {
      const rows = await db
        .selectFrom('rollup_heads')
        .select(['host_key', 'data'])
        .where('resolution', '=', resolution)
        .where('chunk', '=', chunk)
        .where('host_key', 'in', keys.slice(i, i + 500))
        .execute();
      for (const r of rows) existing.set(Number(r.host_key), unpackValues(r.data));
    }
    const writes = keys.map((hostKey) => {
      let data = existing.get(hostKey);
      for (const s of hosts.get(hostKey)!)
        data = withSlot(data, Math.round((s.bucket - chunk) / size), s.slot);
      return { resolution, host_key: hostKey, chunk, data: packValues(data!) };
    });
    for (let i = 0; i < writes.length; i += 200)
      await db
        .insertInto('rollup_heads')
        .values(writes.slice(i, i + 200))
        .onConflict((oc) =>
          oc.columns(['resolution', 'host_key', 'chunk']).doUpdateSet((eb) => ({
            data: eb.ref('excluded.data'),
          })),
        )
        .execute();
  }
}

/**
 * The buckets of one host's head chunks with `from <= bucket < to`, in time order: each bucket's
 * start and its slot (sum, min, max, count per head series). Buckets without data are left out.
 */
export async function readHeads(
  db: Kysely<Database>,
  resolution: RollupResolution,
  hostKey: number,
  from: number,
  to: number,
): Promise<{ bucket: number; slot: Float64Array }[]> {
  const size = ROLLUPS[resolution];
  const rows = await db
    .selectFrom('rollup_heads')
    .select(['chunk', 'data'])
    .where('resolution', '=', resolution)
    .where('host_key', '=', hostKey)
    .where('chunk', '>=', headChunkOf(from, size))
    .where('chunk', '<', to)
    .orderBy('chunk')
    .execute();
  const out: { bucket: number; slot: Float64Array }[] = [];
  for (const r of rows) {
    const data = unpackValues(r.data);
    const chunk = Number(r.chunk);
    for (let i = 0; i < HEAD_CHUNK_BUCKETS && (i + 1) * HEAD_SLOT <= data.length; i++) {
      const bucket = chunk + i * size;
      if (bucket < from || bucket >= to) continue;
      const slot = data.subarray(i * HEAD_SLOT, (i + 1) * HEAD_SLOT);
      let seen = false;
      for (let k = 3; k < HEAD_SLOT; k += 4) if (slot[k]! > 0) seen = true;
      if (seen) out.push({ bucket, slot });
    }
  }
  return out;
}

/**
 * Builds the head chunks of the stored rollups (a migration, on an empty `rollup_heads`): every
 * chunk whose buckets are all rolled up, and the heads watermark after them; the server builds the
 * later ones as they complete.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function backfillHeads(db: Kysely<any>): Promise<void> {
  const typed = db as Kysely<Database>;
  const layouts = new Map<number, Int32Array>();
  const positionsOf = async (layoutId: number): Promise<Int32Array> => {
    const cached = layouts.get(layoutId);
    if (cached) return cached;
    const row = await typed
      .selectFrom('series_layouts')
      .select('series_ids')
      .where('id', '=', layoutId)
      .executeTakeFirst();
    const ids = row ? (JSON.parse(row.series_ids) as number[]) : [];
    const keyOf = new Map<number, string>();
    for (let i = 0; i < ids.length; i += 500) {
      const keys = await typed
        .selectFrom('series')
        .select(['id', 'key'])
        .where('id', 'in', ids.slice(i, i + 500))
        .execute();
      for (const k of keys) keyOf.set(Number(k.id), k.key);
    }
    const p = headPositions(ids, keyOf);
    layouts.set(layoutId, p);
    return p;
  };
  const tables = { '1m': 'rollup_1m', '5m': 'rollup_5m', '1h': 'rollup_1h' } as const;
  for (const r of Object.keys(tables) as RollupResolution[]) {
    const rolled = await typed
      .selectFrom('settings')
      .select('value')
      .where('key', '=', `rollup_watermark_${r}`)
      .executeTakeFirst();
    if (!rolled) continue;
    const limit = headChunkOf(Number(rolled.value), ROLLUPS[r]);
    let after: { hostKey: number; bucket: number } | undefined;
    for (;;) {
      let q = typed
        .selectFrom(tables[r])
        .select(['host_key', 'bucket', 'layout_id', 'data'])
        .where('bucket', '<', limit)
        .orderBy('host_key')
        .orderBy('bucket')
        .limit(1000);
      if (after) {
        const a = after;
        q = q.where((eb) =>
          eb.or([
            eb('host_key', '>', a.hostKey),
            eb.and([eb('host_key', '=', a.hostKey), eb('bucket', '>', a.bucket)]),
          ]),
        );
      }
      const rows = await q.execute();
      if (rows.length === 0) break;
      const slots: HeadWrite[] = [];
      for (const row of rows)
        slots.push({
          hostKey: Number(row.host_key),
          bucket: Number(row.bucket),
          slot: headSlot(await positionsOf(Number(row.layout_id)), unpackValues(row.data)),
        });
      await writeHeads(typed, r, slots);
      const last = rows[rows.length - 1]!;
      after = { hostKey: Number(last.host_key), bucket: Number(last.bucket) };
    }
    await typed
      .insertInto('settings')
      .values({ key: `rollup_heads_watermark_${r}`, value: String(limit) })
      .execute();
  }
}
