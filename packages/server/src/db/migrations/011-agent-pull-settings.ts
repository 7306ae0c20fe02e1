import type { Migration } from './migration.js';

/** Schema version 11, `agent-pull-settings`. */
export const migration: Migration = {
  version: 11,
  name: 'agent-pull-settings',
  async up(db) {
    // Pull agents: whether Auto-TLS is run (openITCOCKPIT lets the operator choose), and the
    // HTTP Basic credentials of agents with `auth = user:password` (the password sealed).
    await db.schema
      .alterTable('agents')
      .addColumn('pull_autotls', 'text', (c) => c.notNull().defaultTo('auto'))
      .execute();
    await db.schema.alterTable('agents').addColumn('pull_username', 'text').execute();
    await db.schema.alterTable('agents').addColumn('pull_password', 'text').execute();
    // Self-registrations remember where they came from, so that the pending requests of one
    // source address can be bounded.
    await db.schema.alterTable('agents').addColumn('enrolled_from', 'text').execute();
    await db.schema
      .createIndex('agents_pending_from')
      .on('agents')
      .columns(['approval', 'enrolled_from'])
      .execute();
  },
};
