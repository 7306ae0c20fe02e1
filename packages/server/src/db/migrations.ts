import { sql, type Kysely } from 'kysely';
import { backfillHeads } from '../telemetry/tsdb/heads.js';
import type { Db, Dialect } from './connection.js';

/**
 * The schema builder as migrations see it: untyped, since a migration describes tables that the
 * typed schema may not have yet, or no longer has.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type MigrationDb = Kysely<any>;

/** One forward-only schema change. Versions are never renumbered; new ones are appended. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  up(db: MigrationDb, dialect: Dialect): Promise<void>;
}

/** Every migration, in order. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'identity-and-audit',
    async up(db) {
      await db.schema
        .createTable('settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('email', 'text')
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('auth_provider', 'text', (c) => c.notNull().defaultTo('local'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('last_login_at', 'bigint')
        .addColumn('disabled_at', 'bigint')
        .addColumn('must_change_password', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('roles')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('permissions', 'text', (c) => c.notNull())
        .addColumn('is_system', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('user_roles')
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('role_id', 'text', (c) => c.notNull().references('roles.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('user_roles_pk', ['user_id', 'role_id'])
        .execute();
      await db.schema
        .createTable('sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .addColumn('revoked_reason', 'text')
        .addColumn('source_address', 'text')
        .execute();
      await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();
      await db.schema
        .createTable('session_tokens')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('session_id', 'text', (c) =>
          c.notNull().references('sessions.id').onDelete('cascade'),
        )
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('session_tokens_session')
        .on('session_tokens')
        .column('session_id')
        .execute();
      await db.schema
        .createTable('audit_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('occurred_at', 'bigint', (c) => c.notNull())
        .addColumn('actor_type', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'text')
        .addColumn('actor_label', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('resource_type', 'text')
        .addColumn('resource_id', 'text')
        .addColumn('correlation_id', 'text')
        .addColumn('source_address', 'text')
        .addColumn('detail', 'text', (c) => c.notNull())
        .addColumn('redactions', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('audit_events_time')
        .on('audit_events')
        .columns(['occurred_at', 'id'])
        .execute();
      await db.schema
        .createIndex('audit_events_correlation')
        .on('audit_events')
        .column('correlation_id')
        .execute();
    },
  },
  {
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
        .addColumn('agent_id', 'text', (c) =>
          c.notNull().references('agents.id').onDelete('cascade'),
        )
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
  },
  {
    version: 3,
    name: 'time-series',
    async up(db, dialect) {
      const blob = dialect === 'postgres' ? 'bytea' : 'blob';
      const autoId = (t: string) =>
        dialect === 'postgres'
          ? db.schema.createTable(t).addColumn('id', 'serial', (c) => c.primaryKey())
          : db.schema
              .createTable(t)
              .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
      await autoId('series')
        .addColumn('host_id', 'text', (c) => c.notNull().references('hosts.id').onDelete('cascade'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('series_host_key', ['host_id', 'key'])
        .execute();
      await autoId('series_layouts')
        .addColumn('host_id', 'text', (c) => c.notNull().references('hosts.id').onDelete('cascade'))
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('series_ids', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('series_layouts_host_hash', ['host_id', 'hash'])
        .execute();
      // Raw samples and rollups are keyed by host and time, so that a host's range is one index
      // range; the time index serves the rollup job and retention.
      await db.schema
        .createTable('samples')
        .addColumn('host_id', 'text', (c) => c.notNull())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('layout_id', 'integer', (c) => c.notNull())
        .addColumn('vals', blob, (c) => c.notNull())
        .addPrimaryKeyConstraint('samples_pk', ['host_id', 'ts'])
        .execute();
      await db.schema.createIndex('samples_ts').on('samples').column('ts').execute();
      for (const r of ['1m', '5m', '1h']) {
        await db.schema
          .createTable(`rollup_${r}`)
          .addColumn('host_id', 'text', (c) => c.notNull())
          .addColumn('bucket', 'bigint', (c) => c.notNull())
          .addColumn('layout_id', 'integer', (c) => c.notNull())
          .addColumn('data', blob, (c) => c.notNull())
          .addPrimaryKeyConstraint(`rollup_${r}_pk`, ['host_id', 'bucket'])
          .execute();
        await db.schema
          .createIndex(`rollup_${r}_bucket`)
          .on(`rollup_${r}`)
          .column('bucket')
          .execute();
      }
      await db.schema
        .createTable('rollup_dirty')
        .addColumn('resolution', 'text', (c) => c.notNull())
        .addColumn('host_id', 'text', (c) => c.notNull())
        .addColumn('bucket', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('rollup_dirty_pk', ['resolution', 'host_id', 'bucket'])
        .execute();
      // Receipts per push are what `samples` rows are now.
      await db.schema.dropTable('agent_reports').execute();
    },
  },
  {
    version: 4,
    name: 'check-states',
    async up(db) {
      await db.schema
        .createTable('check_states')
        .addColumn('host_id', 'text', (c) => c.notNull().references('hosts.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('state', 'integer', (c) => c.notNull())
        .addColumn('state_type', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('hard_state', 'integer', (c) => c.notNull())
        .addColumn('last_check', 'bigint', (c) => c.notNull())
        .addColumn('last_state_change', 'bigint', (c) => c.notNull())
        .addColumn('last_hard_change', 'bigint', (c) => c.notNull())
        .addColumn('output', 'text', (c) => c.notNull())
        .addColumn('perfdata', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('check_states_pk', ['host_id', 'name'])
        .execute();
      await db.schema
        .createTable('check_history')
        .addColumn('host_id', 'text', (c) => c.notNull().references('hosts.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('state', 'integer', (c) => c.notNull())
        .addColumn('state_type', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('output', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('check_history_pk', ['host_id', 'name', 'ts'])
        .execute();
    },
  },
  {
    version: 5,
    name: 'rollup-heads',
    async up(db, dialect) {
      await db.schema
        .createTable('rollup_heads')
        .addColumn('resolution', 'text', (c) => c.notNull())
        .addColumn('host_id', 'text', (c) => c.notNull())
        .addColumn('chunk', 'bigint', (c) => c.notNull())
        .addColumn('data', dialect === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
        .addPrimaryKeyConstraint('rollup_heads_pk', ['resolution', 'host_id', 'chunk'])
        .execute();
      await db.schema
        .createIndex('rollup_heads_chunk')
        .on('rollup_heads')
        .columns(['resolution', 'chunk'])
        .execute();
      // The chunks of rollups stored before them are built by 'host-keys' (version 10), on the
      // tables as they are from then on.
    },
  },
  {
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
  },
  {
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
  },
  {
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
  },
  {
    version: 9,
    name: 'rollup-bucket-host-index',
    async up(db) {
      // The rollup job pages through a bucket's rows in (bucket, host) order. With an index on
      // the bucket alone, every page sorted all the hosts of its bucket again (thousands of
      // rows of some 5 KB); with the host in the index, a page reads only its own rows.
      for (const r of ['1m', '5m', '1h']) {
        await db.schema.dropIndex(`rollup_${r}_bucket`).execute();
        await db.schema
          .createIndex(`rollup_${r}_bucket_host`)
          .on(`rollup_${r}`)
          .columns(['bucket', 'host_id'])
          .execute();
      }
    },
  },
  {
    version: 10,
    name: 'host-keys',
    async up(db, dialect) {
      // The time-series tables name a host by a small integer instead of its text id: each push
      // places an index entry by host, and an entry of a few bytes costs less to place (and
      // keeps the index a quarter of the size) than one of 36 characters.
      await (
        dialect === 'postgres'
          ? db.schema.createTable('host_keys').addColumn('id', 'serial', (c) => c.primaryKey())
          : db.schema
              .createTable('host_keys')
              .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      )
        .addColumn('host_id', 'text', (c) => c.notNull().unique())
        .execute();
      const tables = ['samples', 'rollup_1m', 'rollup_5m', 'rollup_1h', 'rollup_dirty'];
      await sql`insert into host_keys (host_id)
        select host_id from (${sql.join(
          tables.map((t) => sql`select host_id from ${sql.table(t)}`),
          sql` union `,
        )}) as named order by host_id`.execute(db);
      const blob = dialect === 'postgres' ? 'bytea' : 'blob';
      /** Builds `table` again with `host_key` in place of `host_id`, keeping its rows. */
      const rekey = async (
        table: string,
        columns: [string, 'bigint' | 'integer' | 'text' | 'blob'][],
        key: string[],
      ) => {
        let create = db.schema
          .createTable(`${table}_keyed`)
          .addColumn('host_key', 'integer', (c) => c.notNull());
        for (const [name, type] of columns)
          create = create.addColumn(name, type === 'blob' ? blob : type, (c) => c.notNull());
        await create.addPrimaryKeyConstraint(`${table}_keyed_pk`, key as never).execute();
        const names = columns.map(([name]) => sql.ref(`t.${name}`));
        await sql`insert into ${sql.table(`${table}_keyed`)} (host_key, ${sql.join(
          columns.map(([name]) => sql.ref(name)),
        )})
          select k.id, ${sql.join(names)} from ${sql.table(table)} as t
          join host_keys as k on k.host_id = t.host_id`.execute(db);
        await db.schema.dropTable(table).execute();
        await db.schema.alterTable(`${table}_keyed`).renameTo(table).execute();
      };
      await rekey(
        'samples',
        [
          ['ts', 'bigint'],
          ['layout_id', 'integer'],
          ['vals', 'blob'],
        ],
        ['host_key', 'ts'],
      );
      await db.schema.createIndex('samples_ts').on('samples').column('ts').execute();
      for (const r of ['1m', '5m', '1h']) {
        await rekey(
          `rollup_${r}`,
          [
            ['bucket', 'bigint'],
            ['layout_id', 'integer'],
            ['data', 'blob'],
          ],
          ['host_key', 'bucket'],
        );
        await db.schema
          .createIndex(`rollup_${r}_bucket_host`)
          .on(`rollup_${r}`)
          .columns(['bucket', 'host_key'])
          .execute();
      }
      await rekey(
        'rollup_dirty',
        [
          ['resolution', 'text'],
          ['bucket', 'bigint'],
        ],
        ['resolution', 'host_key', 'bucket'],
      );
      // Head chunks are rollups again: built anew from the rollups, as keyed now.
      await db.schema.dropTable('rollup_heads').execute();
      await db.schema
        .createTable('rollup_heads')
        .addColumn('resolution', 'text', (c) => c.notNull())
        .addColumn('host_key', 'integer', (c) => c.notNull())
        .addColumn('chunk', 'bigint', (c) => c.notNull())
        .addColumn('data', blob, (c) => c.notNull())
        .addPrimaryKeyConstraint('rollup_heads_keyed_pk', ['resolution', 'host_key', 'chunk'])
        .execute();
      await db.schema
        .createIndex('rollup_heads_chunk')
        .on('rollup_heads')
        .columns(['resolution', 'chunk'])
        .execute();
      await db.deleteFrom('settings').where('key', 'like', 'rollup_heads_watermark_%').execute();
      await backfillHeads(db);
    },
  },
  {
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
  },
  {
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
  },
  {
    version: 13,
    name: 'agent-clock-skew',
    async up(db) {
      // How far ahead of the server's clock an agent's last document was, in seconds, when it
      // was beyond the allowed skew (the document was then taken as collected at arrival);
      // null while the agent's clock is fine.
      await db.schema.alterTable('agents').addColumn('clock_skew_seconds', 'bigint').execute();
    },
  },
];

/** A number shared by every Vigil process; it names the PostgreSQL advisory lock of migrations. */
const MIGRATION_LOCK_KEY = 0x5649_4731; // "VIG1"

/** What a migration run did. */
export interface MigrationReport {
  /** Versions applied by this run, in order. */
  applied: { version: number; name: string }[];
  /** The schema version after the run. */
  version: number;
}

/**
 * Applies every pending migration in one transaction, recording each in `schema_migrations`.
 * Running it twice applies nothing the second time. On PostgreSQL, concurrent runs from several
 * processes serialise on an advisory lock; on SQLite, on an immediate (write) transaction.
 */
export async function migrate(db: Db, migrations = MIGRATIONS): Promise<MigrationReport> {
  const run = async (conn: MigrationDb): Promise<MigrationReport> => {
    await conn.schema
      .createTable('schema_migrations')
      .ifNotExists()
      .addColumn('version', 'integer', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('applied_at', 'bigint', (c) => c.notNull())
      .execute();
    const rows = await conn.selectFrom('schema_migrations').select('version').execute();
    const done = new Set(rows.map((r: { version: number }) => Number(r.version)));
    const applied: MigrationReport['applied'] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await m.up(conn, db.dialect);
      await conn
        .insertInto('schema_migrations')
        .values({ version: m.version, name: m.name, applied_at: Date.now() })
        .execute();
      applied.push({ version: m.version, name: m.name });
    }
    const version = Math.max(0, ...done, ...applied.map((a) => a.version));
    return { applied, version };
  };

  if (db.dialect === 'postgres') {
    return db.kysely.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`.execute(trx);
      return run(trx);
    });
  }
  return db.kysely.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const report = await run(conn);
      await sql`commit`.execute(conn);
      return report;
    } catch (err) {
      await sql`rollback`.execute(conn);
      throw err;
    }
  });
}
