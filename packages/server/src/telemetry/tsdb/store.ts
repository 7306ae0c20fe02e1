import type SQLite from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { chunks } from '../chunks.js';
import { MAX_DATE_MS } from '../iso-time.js';
import { commitPushes, insertDirty } from './store/commit.js';
import { readHeads, writeHeads } from './store/heads.js';
import { HostKeys } from './store/host-keys.js';
import { HEAD_CHUNK_BUCKETS, ROLLUPS, layoutHash, type RollupResolution } from './format.js';
import type { RollupWrite, StoredRollup, StoredSample, TsdbStore } from './tsdb.js';

const ROLLUP_TABLE = {
  '1m': 'rollup_1m',
  '5m': 'rollup_5m',
  '1h': 'rollup_1h',
} as const satisfies Record<RollupResolution, keyof Database>;

/**
 * PostgreSQL hands bytea out as Buffer, SQLite blobs as Buffer too; both are Uint8Arrays. SQLite
 * keeps whatever was written, though: anything else stored there reads as no values.
 */
const bytes = (v: unknown): Uint8Array => (v instanceof Uint8Array ? v : EMPTY);
const EMPTY = new Uint8Array(0);

/**
 * A layout's series ids from their stored JSON. A damaged list is read as empty: with an entry
 * missing, every value after it would be taken for the wrong series.
 */
function layoutIds(text: unknown): number[] {
  let ids: unknown;
  try {
    ids = JSON.parse(String(text));
  } catch {
    return [];
  }
  return Array.isArray(ids) && ids.every((x) => Number.isSafeInteger(x)) ? (ids as number[]) : [];
}

/** The prepared series lookup of each SQLite connection (`sqliteSeriesIds`). */
const seriesStatements = new WeakMap<
  SQLite.Database,
  (hostId: string, keys: readonly string[], now: number) => number[]
>();

/**
 * A host's series ids for `keys` on SQLite, the missing ones added: prepared statements, one
 * read of the host's series and one transaction for the new ones. A new host's first push
 * adds a few hundred series; through the query builder, compiling those statements cost more
 * than SQLite's work.
 */
function sqliteSeriesIds(sqlite: SQLite.Database) {
  const all = sqlite.prepare<[string], { id: number | bigint; key: string }>(
    'select id, key from series where host_id = ?',
  );
  const add = sqlite.prepare<[string, string, number]>(
    'insert into series (host_id, key, created_at) values (?, ?, ?) on conflict (host_id, key) do nothing',
  );
  const addAll = sqlite.transaction((hostId: string, missing: readonly string[], now: number) => {
    for (const key of missing) add.run(hostId, key, now);
  });
  const read = (hostId: string) => {
    const out = new Map<string, number>();
    for (const r of all.iterate(hostId)) out.set(r.key, Number(r.id));
    return out;
  };
  return (hostId: string, keys: readonly string[], now: number): number[] => {
    let out = read(hostId);
    const missing = keys.filter((k) => !out.has(k));
    if (missing.length > 0) {
      addAll(hostId, missing, now);
      out = read(hostId);
    }
    return keys.map((k) => out.get(k)!);
  };
}

/**
 * The tsdb store on the shared query layer. Given the SQLite connection under `db`, the group
 * commit (commit.ts) and the series lookup run as prepared statements of their own.
 */
export const createTsdbStore = (
  db: Kysely<Database>,
  sqlite?: SQLite.Database,
  /** The hosts' keys as this store has looked them up. */
  hostKeys = new HostKeys(db),
): TsdbStore => ({
  async seriesIds(hostId, keys, now) {
    if (sqlite)
      // Kysely's connection is held meanwhile, so that no other query lands inside the insert.
      return db.connection().execute(async () => {
        let direct = seriesStatements.get(sqlite);
        if (!direct) seriesStatements.set(sqlite, (direct = sqliteSeriesIds(sqlite)));
        return direct(hostId, keys, now);
      });
    const out = new Map<string, number>();
    for (const part of chunks(keys, 500)) {
      const rows = await db
        .selectFrom('series')
        .select(['id', 'key'])
        .where('host_id', '=', hostId)
        .where('key', 'in', part)
        .execute();
      for (const r of rows) out.set(r.key, Number(r.id));
    }
    const missing = keys.filter((k) => !out.has(k));
    for (const part of chunks(missing)) {
      await db
        .insertInto('series')
        .values(part.map((key) => ({ host_id: hostId, key, created_at: now })))
        .onConflict((oc) => oc.columns(['host_id', 'key']).doNothing())
        .execute();
      const rows = await db
        .selectFrom('series')
        .select(['id', 'key'])
        .where('host_id', '=', hostId)
        .where('key', 'in', part)
        .execute();
      for (const r of rows) out.set(r.key, Number(r.id));
    }
    return keys.map((k) => out.get(k)!);
  },

  async layoutId(hostId, seriesIds, now) {
    const hash = layoutHash(seriesIds);
    const find = () =>
      db
        .selectFrom('series_layouts')
        .select('id')
        .where('host_id', '=', hostId)
        .where('hash', '=', hash)
        .executeTakeFirst();
    const found = await find();
    if (found) return Number(found.id);
    await db
      .insertInto('series_layouts')
      .values({ host_id: hostId, hash, series_ids: JSON.stringify(seriesIds), created_at: now })
      .onConflict((oc) => oc.columns(['host_id', 'hash']).doNothing())
      .execute();
    return Number((await find())!.id);
  },

  async layout(id) {
    const row = await db
      .selectFrom('series_layouts')
      .select('series_ids')
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? layoutIds(row.series_ids) : undefined;
  },

  async seriesOfHost(hostId, metrics) {
    if (metrics?.length === 0) return [];
    let q = db.selectFrom('series').select(['id', 'key']).where('host_id', '=', hostId);
    // LIKE narrows (a metric's `_` matches any character there); the exact test follows.
    if (metrics)
      q = q.where((eb) =>
        eb.or(metrics.flatMap((m) => [eb('key', '=', m), eb('key', 'like', `${m}{%`)])),
      );
    const rows = await q.orderBy('key').execute();
    const wanted = (key: string) => metrics!.some((m) => key === m || key.startsWith(`${m}{`));
    return rows
      .filter((r) => metrics === undefined || wanted(r.key))
      .map((r) => ({ id: Number(r.id), key: r.key }));
  },

  commit: (pushes, dirty, documents, checks) =>
    commitPushes(db, sqlite, hostKeys, pushes, dirty, documents, checks),

  async samplesPage(from, to, after, limit) {
    // Samples first, in time order through their time index, each joined to its host (SQLite
    // takes CROSS JOIN as that order): a page then reads its rows and stops. Joined the other
    // way, every page read and sorted the whole range of every host.
    let q = db
      .selectFrom('samples as s')
      .crossJoin('host_keys as k')
      .whereRef('k.id', '=', 's.host_key')
      .select(['k.host_id', 's.ts', 's.layout_id', 's.vals'])
      .where('s.ts', '>=', from)
      .where('s.ts', '<', to);
    if (after) {
      const afterKey = await keyOfRow(hostKeys, after.hostId);
      q = q
        .where('s.ts', '>=', after.ts)
        .where((eb) =>
          eb.or([
            eb('s.ts', '>', after.ts),
            eb.and([eb('s.ts', '=', after.ts), eb('s.host_key', '>', afterKey)]),
          ]),
        );
    }
    const rows = await q.orderBy('s.ts').orderBy('s.host_key').limit(limit).execute();
    return rows.map((r) => ({
      hostId: r.host_id,
      ts: Number(r.ts),
      layoutId: Number(r.layout_id),
      vals: bytes(r.vals),
    }));
  },

  async rollupsPage(resolution, from, to, after, limit) {
    const table = ROLLUP_TABLE[resolution];
    let q = db
      .selectFrom(`${table} as r`)
      .crossJoin('host_keys as k')
      .whereRef('k.id', '=', 'r.host_key')
      .select(['k.host_id', 'r.bucket', 'r.layout_id', 'r.data'])
      .where('r.bucket', '>=', from)
      .where('r.bucket', '<', to);
    if (after) {
      const afterKey = await keyOfRow(hostKeys, after.hostId);
      q = q
        .where('r.bucket', '>=', after.ts)
        .where((eb) =>
          eb.or([
            eb('r.bucket', '>', after.ts),
            eb.and([eb('r.bucket', '=', after.ts), eb('r.host_key', '>', afterKey)]),
          ]),
        );
    }
    const rows = await q.orderBy('r.bucket').orderBy('r.host_key').limit(limit).execute();
    return rows.map((r) => ({
      hostId: r.host_id,
      bucket: Number(r.bucket),
      layoutId: Number(r.layout_id),
      data: bytes(r.data),
    }));
  },

  async samples(hostId, from, to): Promise<StoredSample[]> {
    const key = await hostKeys.find(hostId);
    if (key === undefined) return [];
    const rows = await db
      .selectFrom('samples')
      .select(['ts', 'layout_id', 'vals'])
      .where('host_key', '=', key)
      .where('ts', '>=', from)
      .where('ts', '<', to)
      .orderBy('ts')
      .execute();
    return rows.map((r) => ({
      hostId,
      ts: Number(r.ts),
      layoutId: Number(r.layout_id),
      vals: bytes(r.vals),
    }));
  },

  async rollups(resolution, hostId, from, to): Promise<StoredRollup[]> {
    const key = await hostKeys.find(hostId);
    if (key === undefined) return [];
    const rows = await db
      .selectFrom(ROLLUP_TABLE[resolution])
      .select(['bucket', 'layout_id', 'data'])
      .where('host_key', '=', key)
      .where('bucket', '>=', from)
      .where('bucket', '<', to)
      .orderBy('bucket')
      .execute();
    return rows.map((r) => ({
      hostId,
      bucket: Number(r.bucket),
      layoutId: Number(r.layout_id),
      data: bytes(r.data),
    }));
  },

  async writeRollups(resolution, rows: RollupWrite[], watermark, cleared) {
    const table = ROLLUP_TABLE[resolution];
    await hostKeys.ensure(rows, (r) => r.hostId);
    await hostKeys.ensure(cleared, (c) => c.hostId);
    await db.transaction().execute(async (trx) => {
      for (const part of chunks(rows))
        await trx
          .insertInto(table)
          .values(
            part.map((r) => ({
              host_key: hostKeys.of(r.hostId),
              bucket: r.bucket,
              layout_id: r.layoutId,
              data: r.data,
            })),
          )
          .onConflict((oc) =>
            oc.columns(['host_key', 'bucket']).doUpdateSet((eb) => ({
              layout_id: eb.ref('excluded.layout_id'),
              data: eb.ref('excluded.data'),
            })),
          )
          .execute();
      await writeHeads(
        trx,
        resolution,
        rows.flatMap((r) =>
          r.head ? [{ hostKey: hostKeys.of(r.hostId), bucket: r.bucket, slot: r.head }] : [],
        ),
      );
      for (const c of cleared)
        await trx
          .deleteFrom('rollup_dirty')
          .where('resolution', '=', resolution)
          .where('host_key', '=', hostKeys.of(c.hostId))
          .where('bucket', '=', c.bucket)
          .execute();
      if (watermark !== undefined)
        await trx
          .insertInto('settings')
          .values({ key: `rollup_watermark_${resolution}`, value: String(watermark) })
          .onConflict((oc) => oc.column('key').doUpdateSet({ value: String(watermark) }))
          .execute();
    });
  },

  async heads(resolution, hostId, from, to) {
    const key = await hostKeys.find(hostId);
    return key === undefined ? [] : readHeads(db, resolution, key, from, to);
  },

  async writeHeadChunks(resolution, chunks) {
    if (chunks.length === 0) return;
    await hostKeys.ensure(chunks, (c) => c.hostId);
    await db
      .insertInto('rollup_heads')
      .values(
        chunks.map((c) => ({
          resolution,
          host_key: hostKeys.of(c.hostId),
          chunk: c.chunk,
          data: c.data,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['resolution', 'host_key', 'chunk']).doUpdateSet((eb) => ({
          data: eb.ref('excluded.data'),
        })),
      )
      .execute();
  },

  async headsWatermark(resolution) {
    const row = await db
      .selectFrom('settings')
      .select('value')
      .where('key', '=', `rollup_heads_watermark_${resolution}`)
      .executeTakeFirst();
    return row ? Number(row.value) : undefined;
  },

  async setHeadsWatermark(resolution, at) {
    await db
      .insertInto('settings')
      .values({ key: `rollup_heads_watermark_${resolution}`, value: String(at) })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: String(at) }))
      .execute();
  },

  async latestSample(hostId) {
    const key = await hostKeys.find(hostId);
    if (key === undefined) return undefined;
    const r = await db
      .selectFrom('samples')
      .select(['ts', 'layout_id', 'vals'])
      .where('host_key', '=', key)
      // A row stored with a time no Date can hold would otherwise be the newest for good.
      .where('ts', '>=', -MAX_DATE_MS)
      .where('ts', '<=', MAX_DATE_MS)
      .orderBy('ts', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r
      ? { hostId, ts: Number(r.ts), layoutId: Number(r.layout_id), vals: bytes(r.vals) }
      : undefined;
  },

  async seriesKeys(ids) {
    const out = new Map<number, string>();
    for (const part of chunks(ids, 500)) {
      const rows = await db
        .selectFrom('series')
        .select(['id', 'key'])
        .where('id', 'in', part)
        .execute();
      for (const r of rows) out.set(Number(r.id), r.key);
    }
    return out;
  },

  async watermark(resolution) {
    const row = await db
      .selectFrom('settings')
      .select('value')
      .where('key', '=', `rollup_watermark_${resolution}`)
      .executeTakeFirst();
    return row ? Number(row.value) : undefined;
  },

  async firstSampleTime() {
    const row = await db
      .selectFrom('samples')
      .select((eb) => eb.fn.min('ts').as('ts'))
      .executeTakeFirst();
    return row?.ts === null || row?.ts === undefined ? undefined : Number(row.ts);
  },

  async dirty(resolution, limit) {
    const rows = await db
      .selectFrom('rollup_dirty as d')
      .innerJoin('host_keys as k', 'k.id', 'd.host_key')
      .select(['k.host_id', 'd.bucket'])
      .where('d.resolution', '=', resolution)
      .orderBy('d.bucket')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ hostId: r.host_id, bucket: Number(r.bucket) }));
  },

  async markDirty(rows) {
    await hostKeys.ensure(rows, (r) => r.host_id);
    await insertDirty(db, hostKeys, rows);
  },

  async deleteBefore(resolution, before, limit) {
    const table = resolution === 'raw' ? 'samples' : ROLLUP_TABLE[resolution];
    const column = resolution === 'raw' ? 'ts' : 'bucket';
    // Bounded batches: the time of the `limit`-th oldest row bounds one range delete, so that one
    // call never holds the write lock for long (rows sharing that time go with it).
    const edge = await db
      .selectFrom(table)
      .select(sql.ref<number>(column).as('t'))
      .where(column, '<', before)
      .orderBy(column)
      .limit(1)
      .offset(limit - 1)
      .executeTakeFirst();
    if (resolution !== 'raw') {
      // Head chunks go once their last bucket has expired.
      const span = ROLLUPS[resolution] * HEAD_CHUNK_BUCKETS;
      const chunks = await db
        .selectFrom('rollup_heads')
        .select(['host_key', 'chunk'])
        .where('resolution', '=', resolution)
        .where('chunk', '<=', before - span)
        .limit(limit)
        .execute();
      if (chunks.length > 0)
        await db.transaction().execute(async (trx) => {
          for (const c of chunks)
            await trx
              .deleteFrom('rollup_heads')
              .where('resolution', '=', resolution)
              .where('host_key', '=', Number(c.host_key))
              .where('chunk', '=', Number(c.chunk))
              .execute();
        });
    }
    const deleted = await db
      .deleteFrom(table)
      .where(column, '<', before)
      .$if(edge !== undefined, (q) => q.where(column, '<=', Number(edge!.t)))
      .executeTakeFirst();
    return Number(deleted.numDeletedRows);
  },
});

/** The key of a host named by a stored row (so it has one). */
async function keyOfRow(keys: HostKeys, hostId: string): Promise<number> {
  const key = await keys.find(hostId);
  if (key === undefined) throw new Error(`host ${hostId} of a stored row has no key`);
  return key;
}
