import type { Migration } from './migration.js';

/** Schema version 13, `agent-clock-skew`. */
export const migration: Migration = {
  version: 13,
  name: 'agent-clock-skew',
  async up(db) {
    // How far ahead of the server's clock an agent's last document was, in seconds, when it
    // was beyond the allowed skew (the document was then taken as collected at arrival);
    // null while the agent's clock is fine.
    await db.schema.alterTable('agents').addColumn('clock_skew_seconds', 'bigint').execute();
  },
};
