import { sql } from 'kysely';
import type { Migration } from './migration.js';

/** Schema version 19, `alerts`. */
export const migration: Migration = {
  version: 19,
  name: 'alerts',
  async up(db) {
    // Alerts: one row per alert, open (`active`, `acknowledged`, `silenced`) or closed
    // (`resolved`, `dismissed`). `labels` is a JSON object. `silenced_from` is the state a
    // silenced alert returns to when its silence ends; `silence_id` the silence that put it
    // there (null when a person silenced it). Booleans are 0/1.
    await db.schema
      .createTable('alerts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('dedup_key', 'text', (c) => c.notNull())
      .addColumn('rule_id', 'text', (c) => c.notNull())
      .addColumn('host_id', 'text', (c) => c.notNull())
      .addColumn('agent_id', 'text')
      .addColumn('labels', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('severity', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('message', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('value', 'double precision')
      .addColumn('threshold', 'double precision')
      .addColumn('suppressed', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('silenced_until', 'bigint')
      .addColumn('silenced_from', 'text')
      .addColumn('silence_id', 'text')
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('resolved_at', 'bigint')
      .execute();
    // One open alert per condition: concurrent fires of one key meet here, on both databases.
    await db.schema
      .createIndex('alerts_open_dedup')
      .on('alerts')
      .column('dedup_key')
      .unique()
      .where(sql.ref('state'), 'in', ['active', 'acknowledged', 'silenced'])
      .execute();
    // The list filters on state, host and start time and sorts newest first.
    await db.schema
      .createIndex('alerts_state_started')
      .on('alerts')
      .columns(['state', 'started_at', 'id'])
      .execute();
    await db.schema
      .createIndex('alerts_host_started')
      .on('alerts')
      .columns(['host_id', 'started_at', 'id'])
      .execute();
    await db.schema
      .createIndex('alerts_started')
      .on('alerts')
      .columns(['started_at', 'id'])
      .execute();
    await db.schema.createIndex('alerts_silence').on('alerts').column('silence_id').execute();

    // Every step of an alert's life, with who took it and why.
    await db.schema
      .createTable('alert_transitions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('alert_id', 'text', (c) => c.notNull())
      .addColumn('from_state', 'text')
      .addColumn('to_state', 'text', (c) => c.notNull())
      .addColumn('severity', 'text', (c) => c.notNull())
      .addColumn('actor_type', 'text', (c) => c.notNull())
      .addColumn('actor_id', 'text')
      .addColumn('actor_label', 'text')
      .addColumn('reason', 'text')
      .addColumn('at', 'bigint', (c) => c.notNull())
      // Orders the steps of one instant, and pages the activity feed.
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('alert_transitions_alert')
      .on('alert_transitions')
      .columns(['alert_id', 'at', 'seq'])
      .execute();
    await db.schema
      .createIndex('alert_transitions_at')
      .on('alert_transitions')
      .columns(['at', 'seq'])
      .execute();

    // Silences by matcher for planned work; `labels` is a JSON object of labels that must all
    // match, `created_by` the creator's label.
    await db.schema
      .createTable('alert_silences')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('host_id', 'text')
      .addColumn('rule_id', 'text')
      .addColumn('labels', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('reason', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('starts_at', 'bigint', (c) => c.notNull())
      .addColumn('ends_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      // When the open alerts it matched were put under it (null until it starts).
      .addColumn('applied_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('alert_silences_ends')
      .on('alert_silences')
      .column('ends_at')
      .execute();
  },
};
