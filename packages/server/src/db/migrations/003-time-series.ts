import type { Migration } from './migration.js';

/** Schema version 3, `time-series`. */
export const migration: Migration = {
  version: 3,
  name: 'time-series',
  async up(db, dialect) {
    const blob = dialect === 'postgres' ? 'bytea' : 'blob';
    const autoId = (t: string) =>
      dialect === 'postgres'
        ? db.schema.createTable(t).addColumn('id', 'serial', (c) => c.primaryKey())
        : db.schema
            .createTable(t)
            .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
    await autoId('series')
      .addColumn('host_id', 'text', (c) => c.notNull().references('hosts.id').onDelete('cascade'))
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('series_host_key', ['host_id', 'key'])
      .execute();
    await autoId('series_layouts')
      .addColumn('host_id', 'text', (c) => c.notNull().references('hosts.id').onDelete('cascade'))
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('series_ids', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('series_layouts_host_hash', ['host_id', 'hash'])
      .execute();
    // Raw samples and rollups are keyed by host and time, so that a host's range is one index
    // range; the time index serves the rollup job and retention.
    await db.schema
      .createTable('samples')
      .addColumn('host_id', 'text', (c) => c.notNull())
      .addColumn('ts', 'bigint', (c) => c.notNull())
      .addColumn('layout_id', 'integer', (c) => c.notNull())
      .addColumn('vals', blob, (c) => c.notNull())
      .addPrimaryKeyConstraint('samples_pk', ['host_id', 'ts'])
      .execute();
    await db.schema.createIndex('samples_ts').on('samples').column('ts').execute();
    for (const r of ['1m', '5m', '1h']) {
      await db.schema
        .createTable(`rollup_${r}`)
        .addColumn('host_id', 'text', (c) => c.notNull())
        .addColumn('bucket', 'bigint', (c) => c.notNull())
        .addColumn('layout_id', 'integer', (c) => c.notNull())
        .addColumn('data', blob, (c) => c.notNull())
        .addPrimaryKeyConstraint(`rollup_${r}_pk`, ['host_id', 'bucket'])
        .execute();
      await db.schema
        .createIndex(`rollup_${r}_bucket`)
        .on(`rollup_${r}`)
        .column('bucket')
        .execute();
    }
    await db.schema
      .createTable('rollup_dirty')
      .addColumn('resolution', 'text', (c) => c.notNull())
      .addColumn('host_id', 'text', (c) => c.notNull())
      .addColumn('bucket', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('rollup_dirty_pk', ['resolution', 'host_id', 'bucket'])
      .execute();
    // Receipts per push are what `samples` rows are now.
    await db.schema.dropTable('agent_reports').execute();
  },
};
