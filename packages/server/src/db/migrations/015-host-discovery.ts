import type { Migration } from './migration.js';

/** Schema version 15, `host-discovery`. */
export const migration: Migration = {
  version: 15,
  name: 'host-discovery',
  async up(db) {
    // What agentless discovery last found on each host: the system-info facts it parsed (JSON),
    // or why it failed. One row a host, replaced by each run.
    await db.schema
      .createTable('host_discovery')
      .addColumn('host_id', 'text', (c) =>
        c.primaryKey().references('hosts.id').onDelete('cascade'),
      )
      .addColumn('discovered_at', 'bigint', (c) => c.notNull())
      .addColumn('facts', 'text')
      .addColumn('error', 'text')
      .execute();
  },
};
