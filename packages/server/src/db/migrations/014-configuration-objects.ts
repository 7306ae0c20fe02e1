import type { Migration } from './migration.js';

/** Schema version 14, `configuration-objects`. */
export const migration: Migration = {
  version: 14,
  name: 'configuration-objects',
  async up(db) {
    // A host is configuration as well as telemetry: what operators set on it, the templates it
    // imports (a JSON array of names, in order), its custom variables (a JSON object) and the
    // rest of its Icinga-style properties (a JSON object of the properties set).
    const hostColumns: [string, 'text' | 'integer' | 'bigint', string | number | null][] = [
      ['display_name', 'text', null],
      ['address6', 'text', null],
      ['description', 'text', null],
      ['environment', 'text', null],
      ['tags', 'text', '[]'],
      ['port', 'integer', null],
      ['username', 'text', null],
      ['group_id', 'text', null],
      ['imports', 'text', '[]'],
      ['vars', 'text', '{}'],
      ['properties', 'text', '{}'],
      ['disabled', 'integer', 0],
      // The self-service API key of a registered host, as a hash.
      ['api_key_hash', 'text', null],
      ['maintenance_until', 'bigint', null],
      ['maintenance_reason', 'text', null],
      ['deleted_at', 'bigint', null],
    ];
    for (const [name, type, value] of hostColumns)
      await db.schema
        .alterTable('hosts')
        .addColumn(name, type, (c) => (value === null ? c : c.notNull().defaultTo(value)))
        .execute();
    await db.schema.createIndex('hosts_api_key').on('hosts').column('api_key_hash').execute();

    // Every other configuration object: host templates, services and service templates,
    // commands and host groups. `scope` is the host id of a service attached to one host, ''
    // otherwise, so that names are unique per kind and scope.
    await db.schema
      .createTable('config_objects')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('object_type', 'text', (c) => c.notNull())
      .addColumn('object_name', 'text', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('imports', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('vars', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('properties', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
      // A host template's self-service API key, as a hash.
      .addColumn('api_key_hash', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('config_objects_name', ['kind', 'scope', 'object_name'])
      .execute();
    await db.schema
      .createIndex('config_objects_api_key')
      .on('config_objects')
      .column('api_key_hash')
      .execute();

    // Deployments: immutable snapshots of the whole configuration, named by their checksum.
    await db.schema
      .createTable('deployments')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('checksum', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('snapshot', 'text', (c) => c.notNull())
      .addColumn('objects', 'integer', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('deployments_created')
      .on('deployments')
      .column('created_at')
      .execute();

    // Credentials for agentless access (SSH); secrets sealed with the master key.
    await db.schema
      .createTable('credentials')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('host_id', 'text', (c) => c.references('hosts.id').onDelete('cascade'))
      .addColumn('username', 'text', (c) => c.notNull())
      .addColumn('auth_method', 'text', (c) => c.notNull())
      .addColumn('private_key_sealed', 'text')
      .addColumn('passphrase_sealed', 'text')
      .addColumn('password_sealed', 'text')
      .addColumn('key_fingerprint', 'text')
      .addColumn('key_type', 'text')
      .addColumn('key_bits', 'integer')
      .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('credentials_host').on('credentials').column('host_id').execute();

    // What the connectivity worker last found for each host.
    await db.schema
      .createTable('host_liveness')
      .addColumn('host_id', 'text', (c) =>
        c.primaryKey().references('hosts.id').onDelete('cascade'),
      )
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('checked_at', 'bigint', (c) => c.notNull())
      .addColumn('consecutive_failures', 'integer', (c) => c.notNull())
      .addColumn('response_ms', 'integer')
      .addColumn('error', 'text')
      .addColumn('ssh_ok', 'integer')
      .execute();
  },
};
