import type { Migration } from './migration.js';

/** Schema version 6, `user-mfa`. */
export const migration: Migration = {
  version: 6,
  name: 'user-mfa',
  async up(db) {
    // TOTP secrets, sealed with the master key; the last step used, so a code works once.
    for (const [column, type] of [
      ['mfa_secret', 'text'],
      ['mfa_pending_secret', 'text'],
      ['mfa_enabled_at', 'bigint'],
      ['mfa_last_step', 'bigint'],
    ] as const)
      await db.schema.alterTable('users').addColumn(column, type).execute();
  },
};
