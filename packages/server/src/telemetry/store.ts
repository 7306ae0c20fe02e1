import type SQLite from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type {
  CheckWrite,
  DirtyBucket,
  DocumentRow,
  PushRow,
  RollupWrite,
  StoredRollup,
  StoredSample,
  TelemetryStore,
} from './service.js';
import { readHeads, writeHeads } from './heads.js';
import { HostKeys } from './host-keys.js';
import { MAX_DATE_MS } from './iso-time.js';
import { HEAD_CHUNK_BUCKETS, ROLLUPS, layoutHash, type RollupResolution } from './tsdb.js';

/**
 * When an agent's stored latest document gives way to another: when that one is as new or newer,
 * or when the stored one claims a time more than a day after the other's receipt. Ingest takes
 * times further ahead than `agents.max_clock_skew_seconds` (at most a day) as the server's, so
 * such a stored time is damage from before that rule, and it must not hold the agent's facts
 * back for good.
 */
const NEWER_DOCUMENT = `agent_documents.collected_at <= excluded.collected_at
  or agent_documents.collected_at > excluded.received_at + 86400000`;

const ROLLUP_TABLE = {
  '1m': 'rollup_1m',
  '5m': 'rollup_5m',
  '1h': 'rollup_1h',
} as const satisfies Record<RollupResolution, keyof Database>;

/** Rows per multi-row INSERT: well under SQLite's and PostgreSQL's bound-parameter limits. */
const CHUNK = 200;

const chunks = <T>(rows: T[], size = CHUNK): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
};

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

/** A stored time as a number when a Date can hold it; -Infinity for none, text or damage. */
function usableTime(v: unknown): number {
  const t = v === null || v === undefined ? NaN : Number(v);
  return Number.isFinite(t) && Math.abs(t) <= MAX_DATE_MS ? t : -Infinity;
}

/**
 * The telemetry store on the shared query layer. Given the SQLite connection under `db`, the
 * group commit runs as prepared statements of its own (`sqliteCommitter`).
 */
export const createTelemetryStore = (
  db: Kysely<Database>,
  sqlite?: SQLite.Database,
  /** The hosts' keys as this store has looked them up. */
  hostKeys = new HostKeys(db),
): TelemetryStore => ({
  async seriesIds(hostId, keys, now) {
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

  async seriesOfHost(hostId) {
    const rows = await db
      .selectFrom('series')
      .select(['id', 'key'])
      .where('host_id', '=', hostId)
      .orderBy('key')
      .execute();
    return rows.map((r) => ({ id: Number(r.id), key: r.key }));
  },

  async commit(pushes, dirty, documents, checks) {
    // Before the transaction: on SQLite it holds the one connection.
    await hostKeys.ensure(pushes, (p) => p.hostId);
    await hostKeys.ensure(dirty, (d) => d.host_id);
    if (sqlite)
      // Kysely's connection is held while the transaction runs, so that no other query of
      // this process lands inside it.
      return db.connection().execute(async () => {
        let direct = committers.get(sqlite);
        if (!direct) committers.set(sqlite, (direct = sqliteCommitter(sqlite)));
        return direct(hostKeys, pushes, dirty, documents, checks);
      });
    // Through the query builder (PostgreSQL): a push is new unless its host already has a sample
    // at its time. Nearly always all are: the rows go in as multi-row inserts without RETURNING
    // and the count of rows inserted confirms it. When it falls short, the transaction is rolled
    // back and done again, this time learning row by row which pushes were new.
    try {
      return await commitBatch(db, hostKeys, pushes, dirty, documents, checks, false);
    } catch (err) {
      if (err !== SOME_DUPLICATE) throw err;
      return commitBatch(db, hostKeys, pushes, dirty, documents, checks, true);
    }
  },

  async touchAgents(seen) {
    // One statement per slice: the agents and their times as a table of values.
    for (const part of chunks(seen, 400)) {
      const values = sql.join(part.map((s) => sql`(${s.agentId}, cast(${s.at} as bigint))`));
      await sql`with v(id, at) as (values ${values})
        update agents set last_seen = v.at from v
        where agents.id = v.id and (agents.last_seen is null or agents.last_seen < v.at)`.execute(
        db,
      );
    }
  },

  async checkStates(hostId) {
    const rows = await db
      .selectFrom('check_states')
      .selectAll()
      .where('host_id', '=', hostId)
      .execute();
    return rows.map((r) => ({
      name: r.name,
      state: {
        state: Number(r.state),
        stateType: r.state_type,
        attempt: Number(r.attempt),
        hardState: Number(r.hard_state),
        lastCheck: Number(r.last_check),
        lastStateChange: Number(r.last_state_change),
        lastHardChange: Number(r.last_hard_change),
        output: r.output,
        perfdata: r.perfdata,
      },
    }));
  },

  async checkHistory(hostId, name, from, to, limit) {
    const rows = await db
      .selectFrom('check_history')
      .select(['ts', 'state', 'state_type', 'attempt', 'output'])
      .where('host_id', '=', hostId)
      .where('name', '=', name)
      .where('ts', '>=', from)
      .where('ts', '<', to)
      .orderBy('ts', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      ts: Number(r.ts),
      state: Number(r.state),
      stateType: r.state_type,
      attempt: Number(r.attempt),
      output: r.output,
    }));
  },

  async saveInventory(agentId, receivedAt, inventory) {
    await db
      .insertInto('agent_inventories')
      .values({ agent_id: agentId, received_at: receivedAt, inventory })
      .onConflict((oc) => oc.column('agent_id').doUpdateSet({ received_at: receivedAt, inventory }))
      .execute();
  },

  async samplesPage(from, to, after, limit) {
    let q = db
      .selectFrom('samples as s')
      .innerJoin('host_keys as k', 'k.id', 's.host_key')
      .select(['k.host_id', 's.ts', 's.layout_id', 's.vals'])
      .where('s.ts', '>=', from)
      .where('s.ts', '<', to);
    if (after) {
      const afterKey = await keyOfRow(hostKeys, after.hostId);
      q = q.where((eb) =>
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
      .innerJoin('host_keys as k', 'k.id', 'r.host_key')
      .select(['k.host_id', 'r.bucket', 'r.layout_id', 'r.data'])
      .where('r.bucket', '>=', from)
      .where('r.bucket', '<', to);
    if (after) {
      const afterKey = await keyOfRow(hostKeys, after.hostId);
      q = q.where((eb) =>
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

  async host(hostId) {
    const row = await db
      .selectFrom('hosts')
      .select(['id', 'name'])
      .where('id', '=', hostId)
      .executeTakeFirst();
    if (!row) return undefined;
    const a = await db
      .selectFrom('agents')
      .select((eb) => eb.fn.min('interval_seconds').as('i'))
      .where('host_id', '=', hostId)
      .executeTakeFirst();
    return {
      id: row.id,
      name: row.name,
      intervalSeconds: a?.i === null || a?.i === undefined ? null : Number(a.i),
    };
  },

  async hostOfAgent(agentId) {
    const row = await db
      .selectFrom('agents')
      .select('host_id')
      .where('id', '=', agentId)
      .executeTakeFirst();
    return row ? row.host_id : undefined;
  },

  async hostPage(after, limit) {
    const rows = await db
      .selectFrom('hosts')
      .select('id')
      .where('id', '>', after)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  },

  async namedHostPage(after, limit) {
    const rows = await db
      .selectFrom('hosts')
      .select(['id', 'name'])
      .where('id', '>', after)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: r.id, name: r.name }));
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

  async latestDocumentOfHost(hostId) {
    const r = await db
      .selectFrom('agent_documents as d')
      .innerJoin('agents as a', 'a.id', 'd.agent_id')
      .select(['d.agent_id', 'd.collected_at', 'd.received_at', 'd.document'])
      .where('a.host_id', '=', hostId)
      // Documents stored with a time no Date can hold (or text there) come last.
      .orderBy(
        sql`case when d.collected_at >= ${-MAX_DATE_MS} and d.collected_at <= ${MAX_DATE_MS} then 0 else 1 end`,
      )
      .orderBy('d.collected_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r
      ? {
          agent_id: r.agent_id,
          collected_at: Number(r.collected_at),
          received_at: Number(r.received_at),
          document: r.document,
        }
      : undefined;
  },

  async reportingAgents(hostIds) {
    const out = new Map<string, string>();
    if (hostIds.length === 0) return out;
    // Every agent of the page's hosts with its document's time, ranked here: a few rows per host.
    const rows = await db
      .selectFrom('agents as a')
      .leftJoin('agent_documents as d', 'd.agent_id', 'a.id')
      .select(['a.host_id', 'a.id', 'a.last_seen', 'd.collected_at'])
      .where('a.host_id', 'in', hostIds)
      .orderBy('a.id')
      .execute();
    const best = new Map<string, { id: string; rank: number[]; agents: number }>();
    for (const r of rows) {
      if (r.host_id === null) continue;
      // Ranked by: whether it has a document, that document's time (newest first; one no Date
      // holds last), then its last contact.
      const documented = r.collected_at !== null && r.collected_at !== undefined;
      const rank = [documented ? 1 : 0, usableTime(r.collected_at), usableTime(r.last_seen)];
      const cur = best.get(r.host_id);
      if (!cur) best.set(r.host_id, { id: r.id, rank, agents: 1 });
      else {
        cur.agents += 1;
        const i = rank.findIndex((x, k) => x !== cur.rank[k]);
        if (i >= 0 && rank[i]! > cur.rank[i]!) Object.assign(cur, { id: r.id, rank });
      }
    }
    for (const [hostId, b] of best)
      // Of several agents none of which reported, none is the host's.
      if (b.agents === 1 || b.rank[0] === 1 || b.rank[2] !== -Infinity) out.set(hostId, b.id);
    return out;
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

  async hostIds(limit) {
    const rows = await db
      .selectFrom('hosts')
      .select('id')
      .orderBy('created_at')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
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

export { ROLLUPS };

/** The key of a host named by a stored row (so it has one). */
async function keyOfRow(keys: HostKeys, hostId: string): Promise<number> {
  const key = await keys.find(hostId);
  if (key === undefined) throw new Error(`host ${hostId} of a stored row has no key`);
  return key;
}

/**
 * Marks rollup buckets for another pass; a bucket marked already stays marked once. The hosts
 * have keys (`HostKeys.ensure`).
 */
async function insertDirty(
  db: Kysely<Database>,
  keys: HostKeys,
  rows: DirtyBucket[],
): Promise<void> {
  for (const part of chunks(rows))
    await db
      .insertInto('rollup_dirty')
      .values(part.map(dirtyRow(keys)))
      .onConflict((oc) => oc.columns(['resolution', 'host_key', 'bucket']).doNothing())
      .execute();
}

const dirtyRow = (keys: HostKeys) => (d: DirtyBucket) => ({
  resolution: d.resolution,
  host_key: keys.of(d.host_id),
  bucket: d.bucket,
});

/** Thrown inside a commit whose plain insert met a sample already stored. */
const SOME_DUPLICATE = new Error('a push is a duplicate');

/**
 * One group commit: the pushes' samples, dirty rollup buckets, the newest documents and the
 * check states, in one transaction. With `returning`, learns per push whether it was new;
 * without, throws SOME_DUPLICATE (rolling back) unless every push was.
 */
async function commitBatch(
  db: Kysely<Database>,
  keys: HostKeys,
  pushes: PushRow[],
  dirty: DirtyBucket[],
  documents: DocumentRow[],
  checks: CheckWrite[],
  returning: boolean,
): Promise<boolean[]> {
  return db.transaction().execute(async (trx) => {
    const inserted = new Set<string>();
    for (const part of chunks(pushes)) {
      const insert = trx
        .insertInto('samples')
        .values(
          part.map((p) => ({
            host_key: keys.of(p.hostId),
            ts: p.ts,
            layout_id: p.layoutId,
            vals: p.vals,
          })),
        )
        .onConflict((oc) => oc.columns(['host_key', 'ts']).doNothing());
      if (!returning) {
        const r = await insert.executeTakeFirst();
        if (Number(r.numInsertedOrUpdatedRows ?? 0) !== part.length) throw SOME_DUPLICATE;
        continue;
      }
      const rows = await insert.returning(['host_key', 'ts']).execute();
      for (const r of rows) inserted.add(`${Number(r.host_key)}\u0000${Number(r.ts)}`);
    }
    await insertDirty(trx, keys, dirty);
    for (const part of chunks(newestDocuments(documents), 50))
      await trx
        .insertInto('agent_documents')
        .values(part)
        .onConflict((oc) =>
          oc
            .column('agent_id')
            .doUpdateSet((eb) => ({
              collected_at: eb.ref('excluded.collected_at'),
              received_at: eb.ref('excluded.received_at'),
              document: eb.ref('excluded.document'),
            }))
            .where(sql<boolean>`${sql.raw(NEWER_DOCUMENT)}`),
        )
        .execute();
    for (const c of checks) {
      const row = checkStateRow(c);
      const { host_id: _h, name: _n, ...update } = row;
      await trx
        .insertInto('check_states')
        .values(row)
        .onConflict((oc) => oc.columns(['host_id', 'name']).doUpdateSet(update))
        .execute();
      if (c.changed)
        await trx
          .insertInto('check_history')
          .values(checkHistoryRow(c))
          .onConflict((oc) => oc.columns(['host_id', 'name', 'ts']).doNothing())
          .execute();
    }
    return pushes.map((p) => !returning || inserted.has(`${keys.of(p.hostId)}\u0000${p.ts}`));
  });
}

/** One document per agent, the newest of a batch (an older one must not replace it). */
function newestDocuments(documents: DocumentRow[]): DocumentRow[] {
  const newest = new Map<string, DocumentRow>();
  for (const d of documents) {
    const prev = newest.get(d.agent_id);
    if (!prev || prev.collected_at <= d.collected_at) newest.set(d.agent_id, d);
  }
  return [...newest.values()];
}

const checkStateRow = (c: CheckWrite) => ({
  host_id: c.hostId,
  name: c.name,
  state: c.state.state,
  state_type: c.state.stateType,
  attempt: c.state.attempt,
  hard_state: c.state.hardState,
  last_check: c.state.lastCheck,
  last_state_change: c.state.lastStateChange,
  last_hard_change: c.state.lastHardChange,
  output: c.state.output,
  perfdata: c.state.perfdata,
});

const checkHistoryRow = (c: CheckWrite) => ({
  host_id: c.hostId,
  name: c.name,
  ts: c.state.lastCheck,
  state: c.state.state,
  state_type: c.state.stateType,
  attempt: c.state.attempt,
  output: c.state.output,
});

/** The prepared group commit of each SQLite connection (`sqliteCommitter`). */
const committers = new WeakMap<SQLite.Database, SqliteCommit>();

type SqliteCommit = (
  keys: HostKeys,
  pushes: PushRow[],
  dirty: DirtyBucket[],
  documents: DocumentRow[],
  checks: CheckWrite[],
) => boolean[];

/** `insert into <table> (<columns>) values (@<column>, …)` with a conflict clause. */
const insertText = (table: string, columns: readonly string[], conflict: string): string =>
  `insert into ${table} (${columns.join(', ')}) values (${columns.map((c) => `@${c}`).join(', ')}) ${conflict}`;

const STATE_COLUMNS = Object.keys(checkStateRow({ state: {} } as CheckWrite));
const HISTORY_COLUMNS = Object.keys(checkHistoryRow({ state: {} } as CheckWrite));

/**
 * The group commit on SQLite: prepared statements run in one synchronous transaction, a row at
 * a time. Through the query builder, a batch cost more CPU than SQLite's own writes (building
 * and compiling a statement of a few hundred parameters, a promise per statement), and knowing
 * which pushes were new took a second pass; here each sample's insert says whether it added a
 * row. The statements are those of `commitBatch`.
 */
function sqliteCommitter(sqlite: SQLite.Database): SqliteCommit {
  const sample = sqlite.prepare(
    insertText(
      'samples',
      ['host_key', 'ts', 'layout_id', 'vals'],
      'on conflict (host_key, ts) do nothing',
    ),
  );
  const dirtyMark = sqlite.prepare(
    insertText(
      'rollup_dirty',
      ['resolution', 'host_key', 'bucket'],
      'on conflict (resolution, host_key, bucket) do nothing',
    ),
  );
  const document = sqlite.prepare(
    insertText(
      'agent_documents',
      ['agent_id', 'collected_at', 'received_at', 'document'],
      `on conflict (agent_id) do update set collected_at = excluded.collected_at,
        received_at = excluded.received_at, document = excluded.document
        where ${NEWER_DOCUMENT}`,
    ),
  );
  const checkState = sqlite.prepare(
    insertText(
      'check_states',
      STATE_COLUMNS,
      `on conflict (host_id, name) do update set ${STATE_COLUMNS.filter(
        (c) => c !== 'host_id' && c !== 'name',
      )
        .map((c) => `${c} = excluded.${c}`)
        .join(', ')}`,
    ),
  );
  const checkHistory = sqlite.prepare(
    insertText('check_history', HISTORY_COLUMNS, 'on conflict (host_id, name, ts) do nothing'),
  );
  const commit: SqliteCommit = (keys, pushes, dirty, documents, checks) => {
    const fresh = pushes.map(
      (p) =>
        sample.run({ host_key: keys.of(p.hostId), ts: p.ts, layout_id: p.layoutId, vals: p.vals })
          .changes === 1,
    );
    const toRow = dirtyRow(keys);
    for (const d of dirty) dirtyMark.run(toRow(d));
    for (const d of newestDocuments(documents)) document.run(d);
    for (const c of checks) {
      checkState.run(checkStateRow(c));
      if (c.changed) checkHistory.run(checkHistoryRow(c));
    }
    return fresh;
  };
  return sqlite.transaction(commit);
}
