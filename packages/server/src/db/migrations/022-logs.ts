import { sql } from 'kysely';
import type { Migration } from './migration.js';

/** Schema version 22, `logs`. */
export const migration: Migration = {
  version: 22,
  name: 'logs',
  async up(db, dialect) {
    // Log lines. `id` counts up in commit order: it is the live tail's event id and the cursor
    // of deep paging. `timestamp` is when the line was written (epoch ms, the agent's clock),
    // `received_at` when the server stored it. `fields` is a JSON object of strings. `size` is
    // the bytes of message and fields (UTF-8): retention by total size sums it.
    const id =
      dialect === 'postgres'
        ? sql`bigint generated always as identity primary key`
        : sql`integer primary key autoincrement`;
    await sql`create table log_entries (
      id ${id},
      timestamp bigint not null,
      received_at bigint not null,
      host_id text,
      agent_id text,
      source text not null,
      source_name text not null,
      level text not null,
      message text not null,
      fields text not null,
      size integer not null
    )`.execute(db);
    // The filters: a time window, an agent, a host, a source name; newest first (by id) within
    // each. Every index costs each insert: the source (four values, each common) is worth none,
    // and on SQLite the levels are in the full-text index.
    await db.schema.createIndex('log_entries_time').on('log_entries').column('timestamp').execute();
    if (dialect === 'postgres')
      await db.schema
        .createIndex('log_entries_level')
        .on('log_entries')
        .columns(['level', 'id'])
        .execute();
    for (const column of ['agent_id', 'host_id', 'source_name'])
      await db.schema
        .createIndex(`log_entries_${column}`)
        .on('log_entries')
        .columns([column, 'id'])
        .execute();
    if (dialect === 'postgres') {
      // Words of the message for full-text search: every run of letters and digits is a word
      // (the same split as SQLite's unicode61 tokenizer), lower-cased, not stemmed.
      await sql`alter table log_entries add column search tsvector generated always as
        (to_tsvector('simple'::regconfig, regexp_replace(message, '[^[:alnum:]]+', ' ', 'g'))) stored`.execute(
        db,
      );
      await sql`create index log_entries_search on log_entries using gin (search)`.execute(db);
    } else {
      // The full-text index of the messages, and of their levels (a full-text query with a level
      // filter, the commonest search, is then answered by the index alone). Its text is that of
      // log_entries (external content; no per-row sizes, which only ranking reads). The log store
      // inserts into it beside each line (a trigger made the insert twice as slow); a delete
      // follows by trigger, with the values that were indexed.
      await sql`create virtual table log_fts using fts5(message, level, content='log_entries',
        content_rowid='id', columnsize=0, tokenize='unicode61 remove_diacritics 0')`.execute(db);
      await sql`create trigger log_entries_fts_delete after delete on log_entries begin
        insert into log_fts (log_fts, rowid, message, level)
          values ('delete', old.id, old.message, old.level);
      end`.execute(db);
    }
    // Batches stored, by agent: a resent batch is a no-op. Forgotten after a while (retention).
    await db.schema
      .createTable('log_batches')
      .addColumn('agent_id', 'text', (c) => c.notNull())
      .addColumn('batch_id', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('log_batches_pk', ['agent_id', 'batch_id'])
      .execute();
    await db.schema.createIndex('log_batches_at').on('log_batches').column('at').execute();
    // Lines agents dropped before sending them, counted per agent, source and reason.
    await db.schema
      .createTable('log_dropped')
      .addColumn('agent_id', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('source_name', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('count', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('log_dropped_pk', ['agent_id', 'source', 'source_name', 'reason'])
      .execute();
    // What is stored: one row (id 1), kept in step by the appender and retention.
    await db.schema
      .createTable('log_stats')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('entries', 'bigint', (c) => c.notNull())
      .addColumn('bytes', 'bigint', (c) => c.notNull())
      .execute();
    await db.insertInto('log_stats').values({ id: 1, entries: 0, bytes: 0 }).execute();
  },
};
