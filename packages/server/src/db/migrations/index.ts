import { sql } from 'kysely';
import type { Db } from '../connection.js';
import type { Migration, MigrationDb } from './migration.js';
import { migration as m001 } from './001-identity-and-audit.js';
import { migration as m002 } from './002-hosts-and-agents.js';
import { migration as m003 } from './003-time-series.js';
import { migration as m004 } from './004-check-states.js';
import { migration as m005 } from './005-rollup-heads.js';
import { migration as m006 } from './006-user-mfa.js';
import { migration as m007 } from './007-idempotency-keys.js';
import { migration as m008 } from './008-oauth-clients.js';
import { migration as m009 } from './009-rollup-bucket-host-index.js';
import { migration as m010 } from './010-host-keys.js';
import { migration as m011 } from './011-agent-pull-settings.js';
import { migration as m012 } from './012-oauth-client-credentials.js';
import { migration as m013 } from './013-agent-clock-skew.js';
import { migration as m014 } from './014-configuration-objects.js';
import { migration as m015 } from './015-host-discovery.js';
import { migration as m016 } from './016-deployment-activation.js';
import { migration as m017 } from './017-jobs.js';
import { migration as m018 } from './018-job-leases.js';
import { migration as m019 } from './019-alerts.js';
import { migration as m020 } from './020-alert-rules.js';
import { migration as m021 } from './021-notifications.js';
import { migration as m022 } from './022-logs.js';
import { migration as m023 } from './023-compliance.js';
import { migration as m024 } from './024-intelligence.js';

export type { Migration, MigrationDb } from './migration.js';

/** Every migration, in order. */
export const MIGRATIONS: readonly Migration[] = [
  m001,
  m002,
  m003,
  m004,
  m005,
  m006,
  m007,
  m008,
  m009,
  m010,
  m011,
  m012,
  m013,
  m014,
  m015,
  m016,
  m017,
  m018,
  m019,
  m020,
  m021,
  m022,
  m023,
  m024,
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
