import type SQLite from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import { chunks } from '../../chunks.js';
import type { CheckWrite, DocumentRow } from '../../rows.js';
import type { HostKeys } from './host-keys.js';
import type { DirtyBucket, PushRow } from '../tsdb.js';

// The group commit: a batch of pushes (their samples, the rollup buckets they dirty, the agents'
// latest documents and the check states they move) in one transaction.

/**
 * When an agent's stored latest document gives way to another: when that one is as new or newer,
 * or when the stored one claims a time more than a day after the other's receipt. Ingest takes
 * times further ahead than `agents.max_clock_skew_seconds` (at most a day) as the server's, so
 * such a stored time is damage from before that rule, and it must not hold the agent's facts
 * back for good.
 */
const NEWER_DOCUMENT = `agent_documents.collected_at <= excluded.collected_at
  or agent_documents.collected_at > excluded.received_at + 86400000`;

/**
 * Commits a batch of pushes in one transaction; returns, per push, whether it was new. Given
 * the SQLite connection under `db`, runs as prepared statements of its own (`sqliteCommitter`).
 */
export async function commitPushes(
  db: Kysely<Database>,
  sqlite: SQLite.Database | undefined,
  hostKeys: HostKeys,
  pushes: PushRow[],
  dirty: DirtyBucket[],
  documents: DocumentRow[],
  checks: CheckWrite[],
): Promise<boolean[]> {
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
}

/**
 * Marks rollup buckets for another pass; a bucket marked already stays marked once. The hosts
 * have keys (`HostKeys.ensure`).
 */
export async function insertDirty(
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

/** A dirty mark as a row of `rollup_dirty`. */
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
