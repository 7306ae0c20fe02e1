import type { Migration } from './migration.js';

/** Schema version 5, `rollup-heads`. */
export const migration: Migration = {
  version: 5,
  name: 'rollup-heads',
  async up(db, dialect) {
    await db.schema
      .createTable('rollup_heads')
      .addColumn('resolution', 'text', (c) => c.notNull())
      .addColumn('host_id', 'text', (c) => c.notNull())
      .addColumn('chunk', 'bigint', (c) => c.notNull())
      .addColumn('data', dialect === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
      .addPrimaryKeyConstraint('rollup_heads_pk', ['resolution', 'host_id', 'chunk'])
      .execute();
    await db.schema
      .createIndex('rollup_heads_chunk')
      .on('rollup_heads')
      .columns(['resolution', 'chunk'])
      .execute();
    // The chunks of rollups stored before them are built by 'host-keys' (version 10), on the
    // tables as they are from then on.
  },
};
