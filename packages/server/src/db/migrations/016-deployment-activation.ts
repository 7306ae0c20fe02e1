import type { Migration } from './migration.js';

/** Schema version 16, `deployment-activation`. */
export const migration: Migration = {
  version: 16,
  name: 'deployment-activation',
  async up(db) {
    // When a deployment last became the active one (epoch milliseconds); the active deployment
    // is the one activated last. A deploy that finds its snapshot already stored activates that
    // row again instead of adding another, so deployments stay immutable and unique by checksum.
    await db.schema.alterTable('deployments').addColumn('activated_at', 'bigint').execute();
    await db.schema
      .createIndex('deployments_activated')
      .on('deployments')
      .column('activated_at')
      .execute();
  },
};
