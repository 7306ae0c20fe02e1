import { sql } from 'kysely';
import type { Migration } from './migration.js';

/** Schema version 24, `intelligence`. */
export const migration: Migration = {
  version: 24,
  name: 'intelligence',
  async up(db, dialect) {
    // What host intelligence last knew of each host (kernel, boot time, listening ports,
    // accounts, failed units, packages), as one JSON object; what a new document or inventory
    // is compared with. `updated_at` is epoch ms.
    await db.schema
      .createTable('intel_states')
      .addColumn('host_id', 'text', (c) => c.primaryKey())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    // What changed on hosts: one row per change (`kind` such as `package.upgraded`, `subject`
    // such as the package's name, `detail` a JSON object), `at` epoch ms. `id` counts up in
    // commit order: the list's order and cursor.
    const id =
      dialect === 'postgres'
        ? sql`bigint generated always as identity primary key`
        : sql`integer primary key autoincrement`;
    await sql`create table intel_events (
      id ${id},
      host_id text not null,
      kind text not null,
      subject text not null,
      detail text not null,
      at bigint not null
    )`.execute(db);
    await db.schema
      .createIndex('intel_events_host')
      .on('intel_events')
      .columns(['host_id', 'id'])
      .execute();
    await db.schema
      .createIndex('intel_events_kind')
      .on('intel_events')
      .columns(['kind', 'id'])
      .execute();
    await db.schema.createIndex('intel_events_at').on('intel_events').column('at').execute();
  },
};
