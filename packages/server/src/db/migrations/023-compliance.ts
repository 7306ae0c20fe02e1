import { sql } from 'kysely';
import type { Migration } from './migration.js';

/** Schema version 23, `compliance`. */
export const migration: Migration = {
  version: 23,
  name: 'compliance',
  async up(db, dialect) {
    // Each rule's current state on each host: its status, what the agent found (`detail`), since
    // when it holds that status and the evaluation that last reported it (epoch ms).
    await db.schema
      .createTable('compliance_states')
      .addColumn('host_id', 'text', (c) => c.notNull())
      .addColumn('pack_id', 'text', (c) => c.notNull())
      .addColumn('rule_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('detail', 'text')
      .addColumn('since', 'bigint', (c) => c.notNull())
      .addColumn('evaluated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('compliance_states_pk', ['host_id', 'pack_id', 'rule_id'])
      .execute();
    // A rule's status changes on a host, in the order they were recorded (`id`); the first sight
    // of a rule is a state, not a change.
    const id =
      dialect === 'postgres'
        ? sql`bigint generated always as identity primary key`
        : sql`integer primary key autoincrement`;
    await sql`create table compliance_changes (
      id ${id},
      host_id text not null,
      pack_id text not null,
      rule_id text not null,
      from_status text not null,
      to_status text not null,
      detail text,
      at bigint not null
    )`.execute(db);
    await db.schema
      .createIndex('compliance_changes_at')
      .on('compliance_changes')
      .columns(['at', 'id'])
      .execute();
    await db.schema
      .createIndex('compliance_changes_host')
      .on('compliance_changes')
      .columns(['host_id', 'id'])
      .execute();
  },
};
