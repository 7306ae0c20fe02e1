import { sql } from 'kysely';
import type { Migration } from './migration.js';

/** Schema version 17, `jobs`. */
export const migration: Migration = {
  version: 17,
  name: 'jobs',
  async up(db) {
    // The durable job queue: work that must happen even across a restart (notifications, probes,
    // periodic runs). A job is `queued` until a worker claims it (`running`, locked until a
    // time), then `succeeded`, or `queued` again with a later `run_at` after a failed attempt,
    // or `dead` once its attempts are used up. `dedup_key` names work that must be queued once:
    // at most one unfinished job holds a key.
    await db.schema
      .createTable('jobs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('max_attempts', 'integer', (c) => c.notNull())
      .addColumn('run_at', 'bigint', (c) => c.notNull())
      .addColumn('dedup_key', 'text')
      .addColumn('locked_by', 'text')
      .addColumn('locked_until', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('finished_at', 'bigint')
      .execute();
    await db.schema.createIndex('jobs_due').on('jobs').columns(['state', 'run_at']).execute();
    await db.schema.createIndex('jobs_created').on('jobs').column('created_at').execute();
    await db.schema
      .createIndex('jobs_dedup_unfinished')
      .on('jobs')
      .column('dedup_key')
      .unique()
      .where(sql.ref('dedup_key'), 'is not', null)
      .where(sql.ref('state'), 'in', ['queued', 'running'])
      .execute();
  },
};
