import type { Migration } from './migration.js';

/** Schema version 12, `oauth-client-credentials`. */
export const migration: Migration = {
  version: 12,
  name: 'oauth-client-credentials',
  async up(db) {
    // Machine clients (RFC 6749 §4.4): a client allowed the client_credentials grant acts as
    // itself, with roles given to it rather than an operator's.
    await db.schema
      .alterTable('oauth_clients')
      .addColumn('allow_client_credentials', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createTable('oauth_client_roles')
      .addColumn('client_row_id', 'text', (c) =>
        c.notNull().references('oauth_clients.id').onDelete('cascade'),
      )
      .addColumn('role_id', 'text', (c) => c.notNull().references('roles.id').onDelete('cascade'))
      .addPrimaryKeyConstraint('oauth_client_roles_pk', ['client_row_id', 'role_id'])
      .execute();
    await db.schema
      .createIndex('oauth_client_roles_role')
      .on('oauth_client_roles')
      .column('role_id')
      .execute();
    await db.schema
      .createTable('oauth_client_tokens')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('client_row_id', 'text', (c) =>
        c.notNull().references('oauth_clients.id').onDelete('cascade'),
      )
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('oauth_client_tokens_client')
      .on('oauth_client_tokens')
      .column('client_row_id')
      .execute();
  },
};
