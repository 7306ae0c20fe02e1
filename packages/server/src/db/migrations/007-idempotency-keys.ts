import type { Migration } from './migration.js';

/** Schema version 7, `idempotency-keys`. */
export const migration: Migration = {
  version: 7,
  name: 'idempotency-keys',
  async up(db) {
    await db.schema
      .createTable('idempotency_keys')
      .addColumn('identity', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('request_hash', 'text', (c) => c.notNull())
      .addColumn('method', 'text', (c) => c.notNull())
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('status', 'integer')
      .addColumn('response', 'text')
      .addColumn('content_type', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('idempotency_keys_pk', ['identity', 'key'])
      .execute();
    await db.schema
      .createIndex('idempotency_keys_expiry')
      .on('idempotency_keys')
      .column('expires_at')
      .execute();
  },
};
