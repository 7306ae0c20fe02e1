import type { Migration } from './migration.js';

/** Schema version 18, `job_leases` and `periodic_runs`. */
export const migration: Migration = {
  version: 18,
  name: 'job-leases',
  async up(db) {
    // Leadership of periodic cluster work on SQLite, where processes sharing one file have no
    // advisory locks: a named lease held by `holder` until `expires_at`, renewed by its holder
    // and taken over by another process once it expired. (PostgreSQL uses an advisory lock.)
    await db.schema
      .createTable('job_leases')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('holder', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('renewed_at', 'bigint', (c) => c.notNull())
      .execute();
    // Each cluster periodic job's last period (start time / period length) that ran, advanced
    // with a conditional update before the run: a period runs once even across a change of
    // leader. `runs` counts the runs, `last_holder` names the process that made the last one.
    await db.schema
      .createTable('periodic_runs')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('last_period', 'bigint', (c) => c.notNull())
      .addColumn('runs', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_run_at', 'bigint')
      .addColumn('last_holder', 'text')
      .execute();
  },
};
