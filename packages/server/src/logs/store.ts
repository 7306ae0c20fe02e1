import type SQLite from 'better-sqlite3';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../db/schema.js';
import { toFts5, toTsquery } from './query-language.js';
import type { LogLevel } from '@vigil/protocol';
import type { LogBatchRef, LogFilter, LogTerm } from './model.js';

/** A line laid out for its row: `fields` as JSON text, `size` its bytes with the message. */
export interface LogRow {
  timestamp: number;
  host_id: string | null;
  agent_id: string | null;
  source: string;
  source_name: string;
  level: string;
  message: string;
  fields: string;
  size: number;
}

/** One push of a group commit. */
export interface LogCommitPush {
  rows: LogRow[];
  batch?: LogBatchRef;
}

/** A stored line as read back. */
export interface StoredLogRow {
  id: number;
  timestamp: number;
  agent_id: string | null;
  host_id: string | null;
  host_name: string | null;
  source: string;
  source_name: string;
  level: string;
  message: string;
  fields: string;
}

/** Lines stored per statement on PostgreSQL: 9 parameters a row, well under its bound. */
const PG_CHUNK = 1_000;

const ROW_COLUMNS = [
  'timestamp',
  'received_at',
  'host_id',
  'agent_id',
  'source',
  'source_name',
  'level',
  'message',
  'fields',
  'size',
] as const;

/**
 * The log store: log lines with their full-text index (SQLite FTS5, PostgreSQL tsvector + GIN),
 * the batches stored per agent, agents' dropped counts, and the stored totals. Given the SQLite
 * connection under `db`, the group commit runs as prepared statements of its own.
 */
export function createLogStore(
  db: Kysely<Database>,
  dialect: 'sqlite' | 'postgres',
  sqlite?: SQLite.Database,
) {
  const sqliteCommit = sqlite ? sqliteCommitter(sqlite) : undefined;

  /**
   * The FROM clause and conditions of a filter (without the page), and the id to order by. With
   * `lines: false` (a count) and a filter the full-text index answers alone, the lines table is
   * left out.
   */
  function selection(f: LogFilter, before?: number, after?: number, lines = true) {
    const conds: RawBuilder<unknown>[] = [];
    const levels = f.levels !== undefined && f.levels.length > 0 ? f.levels : undefined;
    const terms = f.terms !== undefined && f.terms.length > 0 ? f.terms : undefined;
    // On SQLite the full-text index holds the levels too: with words to match, or levels and
    // no agent, host or source name (whose indexes find fewer lines), it drives the query,
    // newest first.
    const narrowed =
      f.agent_id !== undefined || f.host_id !== undefined || f.source_name !== undefined;
    const fts =
      dialect === 'sqlite' && (terms !== undefined || (levels !== undefined && !narrowed));
    const idRef = fts ? sql.ref('f.rowid') : sql.ref('e.id');
    if (fts) conds.push(sql`log_fts match ${toFts5Match(terms, levels)}`);
    if (dialect === 'postgres' && terms !== undefined)
      conds.push(sql`e.search @@ to_tsquery('simple', ${toTsquery(terms)})`);
    const ftsOnly = conds.length;
    if (f.agent_id !== undefined) conds.push(sql`e.agent_id = ${f.agent_id}`);
    if (f.host_id !== undefined) conds.push(sql`e.host_id = ${f.host_id}`);
    if (f.source !== undefined) conds.push(sql`e.source = ${f.source}`);
    if (f.source_name !== undefined) conds.push(sql`e.source_name = ${f.source_name}`);
    if (levels && !fts) conds.push(sql`e.level in (${sql.join(levels)})`);
    if (f.from !== undefined) conds.push(sql`e.timestamp >= ${f.from}`);
    if (f.to !== undefined) conds.push(sql`e.timestamp <= ${f.to}`);
    const joined = lines || conds.length > ftsOnly;
    if (before !== undefined) conds.push(sql`${idRef} < ${before}`);
    if (after !== undefined) conds.push(sql`${idRef} > ${after}`);
    const from = !fts
      ? sql`log_entries e`
      : joined
        ? sql`log_fts f join log_entries e on e.id = f.rowid`
        : sql`log_fts f`;
    const where = conds.length > 0 ? sql`where ${sql.join(conds, sql` and `)}` : sql``;
    return { from, where, idRef };
  }

  const columns = sql`e.id, e.timestamp, e.agent_id, e.host_id, h.name as host_name, e.source,
    e.source_name, e.level, e.message, e.fields`;

  return {
    /**
     * Commits a group of pushes in one transaction; per push, whether its batch was stored
     * before (then nothing of it is stored) and the ids of its lines, in order.
     */
    async commit(
      pushes: LogCommitPush[],
      at: number,
    ): Promise<{ duplicate: boolean; ids: number[] }[]> {
      if (sqliteCommit)
        // Kysely's connection is held while the transaction runs, so that no other query of
        // this process lands inside it.
        return db.connection().execute(async () => sqliteCommit(pushes, at));
      return db.transaction().execute(async (trx) => {
        const out: { duplicate: boolean; ids: number[] }[] = [];
        let entries = 0;
        let bytes = 0;
        for (const p of pushes) {
          if (p.batch) {
            const stored = await trx
              .insertInto('log_batches')
              .values({ agent_id: p.batch.agentId, batch_id: p.batch.batchId, at })
              .onConflict((oc) => oc.columns(['agent_id', 'batch_id']).doNothing())
              .returning('agent_id')
              .executeTakeFirst();
            if (!stored) {
              out.push({ duplicate: true, ids: [] });
              continue;
            }
            for (const d of p.batch.dropped ?? [])
              await trx
                .insertInto('log_dropped')
                .values({ agent_id: p.batch.agentId, ...d, updated_at: at })
                .onConflict((oc) =>
                  oc.columns(['agent_id', 'source', 'source_name', 'reason']).doUpdateSet({
                    count: sql`log_dropped.count + excluded.count`,
                    updated_at: at,
                  }),
                )
                .execute();
          }
          const ids: number[] = [];
          for (let i = 0; i < p.rows.length; i += PG_CHUNK) {
            const part = p.rows.slice(i, i + PG_CHUNK);
            // Ids are given in the order of the rows (one identity, one statement).
            const got = await trx
              .insertInto('log_entries')
              .values(part.map((r) => ({ ...r, received_at: at })))
              .returning('id')
              .execute();
            for (const r of got) ids.push(Number(r.id));
          }
          for (const r of p.rows) bytes += r.size;
          entries += p.rows.length;
          out.push({ duplicate: false, ids });
        }
        if (entries > 0)
          await trx
            .updateTable('log_stats')
            .set({
              entries: sql`entries + ${entries}`,
              bytes: sql`bytes + ${bytes}`,
            })
            .where('id', '=', 1)
            .execute();
        return out;
      });
    },

    /** Lines matching `f`, newest first: before id `before` when given, then `offset` skipped. */
    async search(
      f: LogFilter,
      page: { limit: number; offset: number; before?: number },
    ): Promise<StoredLogRow[]> {
      const s = selection(f, page.before);
      const { rows } = await sql<StoredLogRow>`select ${columns} from ${s.from}
        left join hosts h on h.id = e.host_id ${s.where}
        order by ${s.idRef} desc limit ${page.limit} offset ${page.offset}`.execute(db);
      return rows.map(numeric);
    },

    /** Lines matching `f` after id `after`, oldest first, at most `limit` (a tail's replay). */
    async after(f: LogFilter, after: number, limit: number): Promise<StoredLogRow[]> {
      const s = selection(f, undefined, after);
      const { rows } = await sql<StoredLogRow>`select ${columns} from ${s.from}
        left join hosts h on h.id = e.host_id ${s.where}
        order by ${s.idRef} limit ${limit}`.execute(db);
      return rows.map(numeric);
    },

    /** How many lines match `f`, counting at most `cap` + 1 of them. */
    async count(f: LogFilter, cap: number): Promise<number> {
      const s = selection(f, undefined, undefined, false);
      const { rows } = await sql<{ n: number | string }>`select count(*) as n from
        (select 1 from ${s.from} ${s.where} limit ${cap + 1}) m`.execute(db);
      return Number(rows[0]?.n ?? 0);
    },

    /**
     * The newest `cap` lines matching `f` (by id), counted per interval `(timestamp - start) /
     * width` (whole division) and level class (error and critical, warning, the rest); `more`
     * tells whether older lines match too (asked only when `cap` lines were counted).
     */
    async histogram(
      f: LogFilter,
      b: { start: number; width: number; cap: number },
    ): Promise<{
      buckets: { bucket: number; n: number; error: number; warning: number }[];
      more: boolean;
    }> {
      const s = selection(f);
      const { rows } = await sql<{
        bucket: number | string;
        n: number | string;
        error: number | string;
        warning: number | string;
        oldest: number | string;
      }>`select (m.timestamp - cast(${b.start} as bigint)) / cast(${b.width} as bigint) as bucket,
        count(*) as n,
        sum(case when m.level in ('error', 'critical') then 1 else 0 end) as error,
        sum(case when m.level = 'warning' then 1 else 0 end) as warning,
        min(m.id) as oldest
        from (select ${s.idRef} as id, e.timestamp, e.level from ${s.from} ${s.where}
          order by ${s.idRef} desc limit ${b.cap}) m
        group by 1`.execute(db);
      const buckets = rows.map((r) => ({
        bucket: Number(r.bucket),
        n: Number(r.n),
        error: Number(r.error),
        warning: Number(r.warning),
      }));
      let more = false;
      if (buckets.reduce((n, r) => n + r.n, 0) >= b.cap && rows.length > 0) {
        const oldest = Math.min(...rows.map((r) => Number(r.oldest)));
        const older = selection(f, oldest, undefined, false);
        const found = await sql`select 1 as x from ${older.from} ${older.where} limit 1`.execute(
          db,
        );
        more = found.rows.length > 0;
      }
      return { buckets, more };
    },

    /** The newest line's id, 0 when there is none. */
    async newestId(): Promise<number> {
      const row = await db
        .selectFrom('log_entries')
        .select((eb) => eb.fn.max('id').as('id'))
        .executeTakeFirst();
      return Number(row?.id ?? 0);
    },

    /** What is stored: lines and their bytes (message and fields). */
    async stats(): Promise<{ entries: number; bytes: number }> {
      const row = await db
        .selectFrom('log_stats')
        .select(['entries', 'bytes'])
        .where('id', '=', 1)
        .executeTakeFirst();
      return { entries: Number(row?.entries ?? 0), bytes: Number(row?.bytes ?? 0) };
    },

    /**
     * Deletes up to `limit` lines written before `cutoff` (epoch ms), in one transaction; how
     * many and their bytes.
     */
    deleteOlderThan(cutoff: number, limit: number): Promise<{ entries: number; bytes: number }> {
      return deleteWhere(
        db,
        sql`id in (select id from log_entries where timestamp < ${cutoff} limit ${limit})`,
      );
    },

    /**
     * Deletes the oldest lines (by id) until at least `bytes` are freed or `limit` lines are
     * gone, in one transaction; how many and their bytes.
     */
    async deleteOldest(bytes: number, limit: number): Promise<{ entries: number; bytes: number }> {
      const oldest = await db
        .selectFrom('log_entries')
        .select(['id', 'size'])
        .orderBy('id')
        .limit(limit)
        .execute();
      let freed = 0;
      let last: number | undefined;
      for (const r of oldest) {
        last = Number(r.id);
        freed += Number(r.size);
        if (freed >= bytes) break;
      }
      if (last === undefined) return { entries: 0, bytes: 0 };
      return deleteWhere(db, sql`id <= ${last}`);
    },

    /** Forgets the batches stored before `cutoff` (epoch ms); how many. */
    async forgetBatches(cutoff: number): Promise<number> {
      const r = await db.deleteFrom('log_batches').where('at', '<', cutoff).executeTakeFirst();
      return Number(r.numDeletedRows);
    },

    /** Agents' dropped counts, by agent, source and reason. */
    async dropped() {
      const rows = await db
        .selectFrom('log_dropped')
        .selectAll()
        .orderBy('agent_id')
        .orderBy('source')
        .orderBy('source_name')
        .orderBy('reason')
        .execute();
      return rows.map((r) => ({ ...r, count: Number(r.count), updated_at: Number(r.updated_at) }));
    },
  };
}

/** The log store. */
export type LogStore = ReturnType<typeof createLogStore>;

/** Ids and times as numbers (PostgreSQL's int8 may come as text). */
const numeric = (r: StoredLogRow): StoredLogRow => ({
  ...r,
  id: Number(r.id),
  timestamp: Number(r.timestamp),
});

/** Deletes the lines `cond` selects and takes them off the totals, in one transaction. */
function deleteWhere(
  db: Kysely<Database>,
  cond: RawBuilder<unknown>,
): Promise<{ entries: number; bytes: number }> {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{
      size: number;
    }>`delete from log_entries where ${cond} returning size`.execute(trx);
    const bytes = rows.reduce((n, r) => n + Number(r.size), 0);
    if (rows.length > 0)
      await trx
        .updateTable('log_stats')
        .set({ entries: sql`entries - ${rows.length}`, bytes: sql`bytes - ${bytes}` })
        .where('id', '=', 1)
        .execute();
    return { entries: rows.length, bytes };
  });
}

/**
 * The group commit on SQLite: prepared statements in one synchronous transaction, a row at a
 * time, then the group's words into the full-text index in one statement. Through the query builder, building and
 * compiling statements cost more CPU than SQLite's own writes.
 */
function sqliteCommitter(sqlite: SQLite.Database) {
  const batch = sqlite.prepare(
    'insert into log_batches (agent_id, batch_id, at) values (?, ?, ?) on conflict do nothing',
  );
  const dropped = sqlite.prepare(
    `insert into log_dropped (agent_id, source, source_name, reason, count, updated_at)
     values (?, ?, ?, ?, ?, ?) on conflict (agent_id, source, source_name, reason)
     do update set count = log_dropped.count + excluded.count, updated_at = excluded.updated_at`,
  );
  const entry = sqlite.prepare(
    `insert into log_entries (${ROW_COLUMNS.join(', ')}) values (${ROW_COLUMNS.map(() => '?').join(', ')})`,
  );
  // The group's lines are indexed by one statement: their ids are consecutive (one writer, in
  // one transaction), and SQLite reads them back from pages it has just written.
  const words = sqlite.prepare(
    'insert into log_fts (rowid, message, level) select id, message, level from log_entries where id between ? and ?',
  );
  const stats = sqlite.prepare(
    'update log_stats set entries = entries + ?, bytes = bytes + ? where id = 1',
  );
  return sqlite.transaction((pushes: LogCommitPush[], at: number) => {
    const out: { duplicate: boolean; ids: number[] }[] = [];
    let entries = 0;
    let bytes = 0;
    let first = 0;
    let last = 0;
    for (const p of pushes) {
      if (p.batch) {
        if (batch.run(p.batch.agentId, p.batch.batchId, at).changes === 0) {
          out.push({ duplicate: true, ids: [] });
          continue;
        }
        for (const d of p.batch.dropped ?? [])
          dropped.run(p.batch.agentId, d.source, d.source_name, d.reason, d.count, at);
      }
      const ids = new Array<number>(p.rows.length);
      p.rows.forEach((r, i) => {
        const id = Number(
          entry.run(
            r.timestamp,
            at,
            r.host_id,
            r.agent_id,
            r.source,
            r.source_name,
            r.level,
            r.message,
            r.fields,
            r.size,
          ).lastInsertRowid,
        );
        if (first === 0) first = id;
        last = id;
        ids[i] = id;
        bytes += r.size;
      });
      entries += p.rows.length;
      out.push({ duplicate: false, ids });
    }
    if (entries > 0) {
      words.run(first, last);
      stats.run(entries, bytes);
    }
    return out;
  });
}

/**
 * The FTS5 MATCH expression of terms in the message column and any of `levels` in the level
 * column (at least one of them given).
 */
function toFts5Match(terms: LogTerm[] | undefined, levels: LogLevel[] | undefined): string {
  const parts: string[] = [];
  if (terms) parts.push(`message : (${toFts5(terms)})`);
  if (levels) parts.push(`level : (${levels.map((l) => `"${l}"`).join(' OR ')})`);
  return parts.join(' AND ');
}
