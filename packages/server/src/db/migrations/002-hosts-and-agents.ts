import type { Migration } from './migration.js';

/** Schema version 2, `hosts-and-agents`. */
export const migration: Migration = {
  version: 2,
  name: 'hosts-and-agents',
  async up(db) {
    await db.schema
      .createTable('hosts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('address', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('agents')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('host_id', 'text', (c) => c.references('hosts.id').onDelete('set null'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('approval', 'text', (c) => c.notNull())
      .addColumn('hostname', 'text')
      .addColumn('ip_address', 'text')
      .addColumn('os', 'text')
      .addColumn('architecture', 'text')
      .addColumn('version', 'text')
      .addColumn('interval_seconds', 'integer', (c) => c.notNull())
      .addColumn('secret_hash', 'text')
      .addColumn('enrollment_token_hash', 'text', (c) => c.unique())
      .addColumn('enrollment_expires_at', 'bigint')
      .addColumn('csr', 'text')
      .addColumn('cert_serial', 'text')
      .addColumn('cert_fingerprint', 'text')
      .addColumn('cert_not_after', 'bigint')
      .addColumn('cert_pem', 'text')
      .addColumn('pull_address', 'text')
      .addColumn('pull_tls', 'text')
      .addColumn('last_seen', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('registered_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('agents_host').on('agents').column('host_id').execute();
    await db.schema
      .createIndex('agents_fingerprint')
      .on('agents')
      .column('cert_fingerprint')
      .execute();
    await db.schema
      .createTable('agent_reports')
      .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
      .addColumn('collected_at', 'bigint', (c) => c.notNull())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .addColumn('checks', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('agent_reports_pk', ['agent_id', 'collected_at'])
      .execute();
    await db.schema
      .createIndex('agent_reports_received')
      .on('agent_reports')
      .column('received_at')
      .execute();
    await db.schema
      .createTable('agent_documents')
      .addColumn('agent_id', 'text', (c) =>
        c.primaryKey().references('agents.id').onDelete('cascade'),
      )
      .addColumn('collected_at', 'bigint', (c) => c.notNull())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .addColumn('document', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('agent_inventories')
      .addColumn('agent_id', 'text', (c) =>
        c.primaryKey().references('agents.id').onDelete('cascade'),
      )
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .addColumn('inventory', 'text', (c) => c.notNull())
      .execute();
  },
};
