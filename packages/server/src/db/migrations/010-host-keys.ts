import { sql } from 'kysely';
import type { Migration, MigrationDb } from './migration.js';

/** Schema version 10, `host-keys`. */
export const migration: Migration = {
  version: 10,
  name: 'host-keys',
  async up(db, dialect) {
    // The time-series tables name a host by a small integer instead of its text id: each push
    // places an index entry by host, and an entry of a few bytes costs less to place (and
    // keeps the index a quarter of the size) than one of 36 characters.
    await (
      dialect === 'postgres'
        ? db.schema.createTable('host_keys').addColumn('id', 'serial', (c) => c.primaryKey())
        : db.schema
            .createTable('host_keys')
            .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    )
      .addColumn('host_id', 'text', (c) => c.notNull().unique())
      .execute();
    const tables = ['samples', 'rollup_1m', 'rollup_5m', 'rollup_1h', 'rollup_dirty'];
    await sql`insert into host_keys (host_id)
      select host_id from (${sql.join(
        tables.map((t) => sql`select host_id from ${sql.table(t)}`),
        sql` union `,
      )}) as named order by host_id`.execute(db);
    const blob = dialect === 'postgres' ? 'bytea' : 'blob';
    /** Builds `table` again with `host_key` in place of `host_id`, keeping its rows. */
    const rekey = async (
      table: string,
      columns: [string, 'bigint' | 'integer' | 'text' | 'blob'][],
      key: string[],
    ) => {
      let create = db.schema
        .createTable(`${table}_keyed`)
        .addColumn('host_key', 'integer', (c) => c.notNull());
      for (const [name, type] of columns)
        create = create.addColumn(name, type === 'blob' ? blob : type, (c) => c.notNull());
      await create.addPrimaryKeyConstraint(`${table}_keyed_pk`, key as never).execute();
      const names = columns.map(([name]) => sql.ref(`t.${name}`));
      await sql`insert into ${sql.table(`${table}_keyed`)} (host_key, ${sql.join(
        columns.map(([name]) => sql.ref(name)),
      )})
        select k.id, ${sql.join(names)} from ${sql.table(table)} as t
        join host_keys as k on k.host_id = t.host_id`.execute(db);
      await db.schema.dropTable(table).execute();
      await db.schema.alterTable(`${table}_keyed`).renameTo(table).execute();
    };
    await rekey(
      'samples',
      [
        ['ts', 'bigint'],
        ['layout_id', 'integer'],
        ['vals', 'blob'],
      ],
      ['host_key', 'ts'],
    );
    await db.schema.createIndex('samples_ts').on('samples').column('ts').execute();
    for (const r of ['1m', '5m', '1h']) {
      await rekey(
        `rollup_${r}`,
        [
          ['bucket', 'bigint'],
          ['layout_id', 'integer'],
          ['data', 'blob'],
        ],
        ['host_key', 'bucket'],
      );
      await db.schema
        .createIndex(`rollup_${r}_bucket_host`)
        .on(`rollup_${r}`)
        .columns(['bucket', 'host_key'])
        .execute();
    }
    await rekey(
      'rollup_dirty',
      [
        ['resolution', 'text'],
        ['bucket', 'bigint'],
      ],
      ['resolution', 'host_key', 'bucket'],
    );
    // Head chunks are rollups again: built anew from the rollups, as keyed now.
    await db.schema.dropTable('rollup_heads').execute();
    await db.schema
      .createTable('rollup_heads')
      .addColumn('resolution', 'text', (c) => c.notNull())
      .addColumn('host_key', 'integer', (c) => c.notNull())
      .addColumn('chunk', 'bigint', (c) => c.notNull())
      .addColumn('data', blob, (c) => c.notNull())
      .addPrimaryKeyConstraint('rollup_heads_keyed_pk', ['resolution', 'host_key', 'chunk'])
      .execute();
    await db.schema
      .createIndex('rollup_heads_chunk')
      .on('rollup_heads')
      .columns(['resolution', 'chunk'])
      .execute();
    await db.deleteFrom('settings').where('key', 'like', 'rollup_heads_watermark_%').execute();
    await backfillHeads(db);
  },
};

// What follows is the head-chunk layout as it was when this migration was written, frozen here
// so that later changes to the live time-series code cannot change what this migration does.

/** Rollup resolutions and their bucket sizes in milliseconds. */
const ROLLUPS = { '1m': 60_000, '5m': 300_000, '1h': 3_600_000 } as const;
type RollupResolution = keyof typeof ROLLUPS;

/** The host-level series kept in head chunks, in slot order. */
const HEAD_SERIES = [
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
/** Float64 values per bucket in a head chunk: sum, min, max and count per head series. */
const HEAD_SLOT = HEAD_SERIES.length * 4;
/** Buckets per head chunk. */
const HEAD_CHUNK_BUCKETS = 24;

/** The start of the head chunk holding `bucket` at a resolution of `size` ms. */
const headChunkOf = (bucket: number, size: number): number =>
  Math.floor(bucket / (size * HEAD_CHUNK_BUCKETS)) * (size * HEAD_CHUNK_BUCKETS);

/** Packs values as little-endian Float64. */
function packValues(values: Float64Array): Uint8Array {
  return new Uint8Array(values.slice().buffer);
}

/** Reads packed Float64 values (copying when the bytes are not 8-byte aligned). */
function unpackValues(bytes: Uint8Array): Float64Array {
  if (bytes.byteOffset % 8 === 0 && bytes.byteLength % 8 === 0)
    return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
  const copy = new Uint8Array(bytes.byteLength - (bytes.byteLength % 8));
  copy.set(bytes.subarray(0, copy.byteLength));
  return new Float64Array(copy.buffer);
}

/** Where each head series sits in a layout (-1: not in it), from the layout's series keys. */
function headPositions(layout: readonly number[], keyOf: Map<number, string>): Int32Array {
  const positions = new Int32Array(HEAD_SERIES.length).fill(-1);
  layout.forEach((id, i) => {
    const k = HEAD_SERIES.indexOf(keyOf.get(id) as (typeof HEAD_SERIES)[number]);
    if (k >= 0) positions[k] = i;
  });
  return positions;
}

/** The head slot of a rollup row: each head series' four aggregates, count 0 when absent. */
function headSlot(positions: Int32Array, data: Float64Array): Float64Array {
  const slot = new Float64Array(HEAD_SLOT);
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i]!;
    if (p < 0 || p * 4 + 3 >= data.length) continue;
    slot.set(data.subarray(p * 4, p * 4 + 4), i * 4);
  }
  return slot;
}

/** A head chunk with one bucket's slot written into it (a new chunk when `chunk` is absent). */
function withSlot(
  chunk: Float64Array | undefined,
  index: number,
  slot: Float64Array,
): Float64Array {
  const out = new Float64Array(HEAD_SLOT * HEAD_CHUNK_BUCKETS);
  if (chunk) out.set(chunk.subarray(0, out.length));
  out.set(slot, index * HEAD_SLOT);
  return out;
}

/** One bucket's head slot, to be written into its chunk. */
interface HeadWrite {
  hostKey: number;
  bucket: number;
  slot: Float64Array;
}

/** Writes bucket slots into their head chunks (read, change, write back). */
async function writeHeads(
  db: MigrationDb,
  resolution: RollupResolution,
  slots: HeadWrite[],
): Promise<void> {
  if (slots.length === 0) return;
  const size = ROLLUPS[resolution];
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
      const rows: { host_key: number; data: Uint8Array }[] = await db
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
 * Builds the head chunks of the stored rollups (on an empty `rollup_heads`): every chunk whose
 * buckets are all rolled up, and the heads watermark after them; the server builds the later ones
 * as they complete.
 */
async function backfillHeads(db: MigrationDb): Promise<void> {
  const layouts = new Map<number, Int32Array>();
  const positionsOf = async (layoutId: number): Promise<Int32Array> => {
    const cached = layouts.get(layoutId);
    if (cached) return cached;
    const row: { series_ids: string } | undefined = await db
      .selectFrom('series_layouts')
      .select('series_ids')
      .where('id', '=', layoutId)
      .executeTakeFirst();
    const ids = row ? (JSON.parse(row.series_ids) as number[]) : [];
    const keyOf = new Map<number, string>();
    for (let i = 0; i < ids.length; i += 500) {
      const keys: { id: number; key: string }[] = await db
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
    const rolled: { value: string } | undefined = await db
      .selectFrom('settings')
      .select('value')
      .where('key', '=', `rollup_watermark_${r}`)
      .executeTakeFirst();
    if (!rolled) continue;
    const limit = headChunkOf(Number(rolled.value), ROLLUPS[r]);
    let after: { hostKey: number; bucket: number } | undefined;
    for (;;) {
      let q = db
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
      const rows: { host_key: number; bucket: number; layout_id: number; data: Uint8Array }[] =
        await q.execute();
      if (rows.length === 0) break;
      const slots: HeadWrite[] = [];
      for (const row of rows)
        slots.push({
          hostKey: Number(row.host_key),
          bucket: Number(row.bucket),
          slot: headSlot(await positionsOf(Number(row.layout_id)), unpackValues(row.data)),
        });
      await writeHeads(db, r, slots);
      const last = rows[rows.length - 1]!;
      after = { hostKey: Number(last.host_key), bucket: Number(last.bucket) };
    }
    await db
      .insertInto('settings')
      .values({ key: `rollup_heads_watermark_${r}`, value: String(limit) })
      .execute();
  }
}
