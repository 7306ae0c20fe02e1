import type { Migration } from './migration.js';

/** Schema version 8, `oauth-clients`. */
export const migration: Migration = {
  version: 8,
  name: 'oauth-clients',
  async up(db) {
    await db.schema
      .createTable('oauth_clients')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('client_id', 'text', (c) => c.notNull().unique())
      .addColumn('secret_hash', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('access_token_ttl_seconds', 'integer', (c) => c.notNull())
      .addColumn('refresh_token_ttl_seconds', 'integer', (c) => c.notNull())
      .addColumn('allow_password', 'integer', (c) => c.notNull())
      .addColumn('allow_refresh_token', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    // A session opened through an API client, and audit events made through one.
    await db.schema.alterTable('sessions').addColumn('client_id', 'text').execute();
    await db.schema.alterTable('audit_events').addColumn('actor_client', 'text').execute();
  },
};
