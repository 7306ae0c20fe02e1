import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import {
  HEAD_CHUNK_BUCKETS,
  HEAD_SLOT,
  ROLLUPS,
  headChunkOf,
  packValues,
  unpackValues,
  withSlot,
  type RollupResolution,
} from '../format.js';

/** One bucket's head slot, to be written into its chunk. */
export interface HeadWrite {
  /** The host's key (`host_keys`). */
  hostKey: number;
  bucket: number;
  slot: Float64Array;
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
