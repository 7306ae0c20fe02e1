import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDb, type Db } from '../../packages/server/src/db/connection.js';
import { startPostgres, type PgCluster } from './postgres.js';

/** One database engine the suite runs against. */
export interface DatabaseKind {
  readonly name: 'sqlite' | 'postgres';
  /** Creates a fresh, empty database; `drop` removes it. */
  create(): Promise<{ db: Db; url?: string; sqliteFile?: string; drop(): Promise<void> }>;
}

let cluster: PgCluster | undefined;
let clusterUrl: Promise<string | undefined> | undefined;

/**
 * The PostgreSQL server for this test process: `VIGIL_TEST_DATABASE_URL` when set, else a
 * throwaway cluster started on first use and stopped when the process exits. Without PostgreSQL,
 * undefined — except under `CI=true`, where that is an error.
 */
export function postgresUrl(): Promise<string | undefined> {
  clusterUrl ??= (async () => {
    if (process.env.VIGIL_TEST_DATABASE_URL) return process.env.VIGIL_TEST_DATABASE_URL;
    try {
      cluster = await startPostgres();
      process.once('exit', () => cluster?.stop());
      return cluster.url;
    } catch (err) {
      if (process.env.CI === 'true') throw err;
      process.stderr.write(
        `# PostgreSQL unavailable, its variants are skipped: ${(err as Error).message}\n`,
      );
      return undefined;
    }
  })();
  return clusterUrl;
}

const sqlite: DatabaseKind = {
  name: 'sqlite',
  async create() {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-sqlite-'));
    const sqliteFile = path.join(dir, 'vigil.db');
    const db = openDb({ sqliteFile });
    return {
      db,
      sqliteFile,
      async drop() {
        await db.close().catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

const postgres: DatabaseKind = {
  name: 'postgres',
  async create() {
    const base = await postgresUrl();
    if (!base) throw new Error('PostgreSQL is not available');
    const name = `vigil_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const u = new URL(base);
    u.pathname = `/${name}`;
    const url = u.toString();
    const db = openDb({ url, poolMax: 5 });
    return {
      db,
      url,
      async drop() {
        await db.close().catch(() => undefined);
        const c = new pg.Client({ connectionString: base });
        await c.connect();
        await c.query(`drop database if exists ${name} with (force)`);
        await c.end();
      },
    };
  },
};

/**
 * The engines to run a suite on: SQLite always, PostgreSQL when available (always under CI).
 * Call at module top level with `await`.
 */
export async function databaseKinds(): Promise<DatabaseKind[]> {
  return (await postgresUrl()) ? [sqlite, postgres] : [sqlite];
}
