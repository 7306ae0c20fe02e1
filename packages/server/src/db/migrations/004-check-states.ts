import type { Migration } from './migration.js';

/** Schema version 4, `check-states`. */
export const migration: Migration = {
  version: 4,
  name: 'check-states',
  async up(db) {
    await db.schema
      .createTable('check_states')
      .addColumn('host_id', 'text', (c) => c.notNull().references('hosts.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('state', 'integer', (c) => c.notNull())
      .addColumn('state_type', 'text', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('hard_state', 'integer', (c) => c.notNull())
      .addColumn('last_check', 'bigint', (c) => c.notNull())
      .addColumn('last_state_change', 'bigint', (c) => c.notNull())
      .addColumn('last_hard_change', 'bigint', (c) => c.notNull())
      .addColumn('output', 'text', (c) => c.notNull())
      .addColumn('perfdata', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('check_states_pk', ['host_id', 'name'])
      .execute();
    await db.schema
      .createTable('check_history')
      .addColumn('host_id', 'text', (c) => c.notNull().references('hosts.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('ts', 'bigint', (c) => c.notNull())
      .addColumn('state', 'integer', (c) => c.notNull())
      .addColumn('state_type', 'text', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('output', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('check_history_pk', ['host_id', 'name', 'ts'])
      .execute();
  },
};
