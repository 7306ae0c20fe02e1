import { closeSync, mkdirSync, openSync } from 'node:fs';
import { ownerOnly } from '../files.js';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { FifoSqliteDialect } from './sqlite-fifo.js';

/** PostgreSQL's int8 arrives as a string by default; Vigil's int8 values (epoch ms) fit a double. */
pg.types.setTypeParser(20, (v) => Number(v));

/** Which database engine a connection talks to. */
export type Dialect = 'sqlite' | 'postgres';

/** An open store connection. */
export interface Db {
  readonly kysely: Kysely<Database>;
  readonly dialect: Dialect;
  /**
   * The SQLite connection under Kysely, for a hot path that runs its statements synchronously
   * while it holds Kysely's connection (`kysely.connection()`); undefined on PostgreSQL.
   */
  readonly sqlite?: SQLite.Database;
  /** A human description without credentials, e.g. the SQLite file or the PostgreSQL host. */
  readonly description: string;
  /** Resolves true when the database answers a trivial query within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Where to connect: a `postgres://` URL, or a SQLite file path. */
export interface DbOptions {
  url?: string;
  sqliteFile?: string;
  poolMax?: number;
}

/**
 * Opens the store. SQLite runs in WAL mode with foreign keys on, a busy timeout, and
 * `synchronous=FULL` so that a committed write survives a power loss; PostgreSQL is pooled.
 */
export function openDb(opts: DbOptions): Db {
  if (opts.url) {
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolMax ?? 10,
      connectionTimeoutMillis: 5000,
    });
    // A broken idle connection must not crash the process; the pool replaces it.
    pool.on('error', () => undefined);
    const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const u = new URL(opts.url);
    return wrap(kysely, 'postgres', `postgres ${u.hostname}:${u.port || 5432}${u.pathname}`);
  }
  if (!opts.sqliteFile) throw new Error('openDb: neither url nor sqliteFile given');
  mkdirSync(path.dirname(opts.sqliteFile), { recursive: true, mode: 0o700 });
  // The file is created here, owner-only, before SQLite would create it under the umask (0644
  // usually): it holds password and token hashes and the instance secret.
  closeSync(openSync(opts.sqliteFile, 'a', 0o600));
  const database = new SQLite(opts.sqliteFile);
  database.pragma('journal_mode = WAL');
  databaseFilesOwnerOnly(opts.sqliteFile);
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  database.pragma('synchronous = FULL');
  // Checkpoint the WAL about every megabyte instead of every four: each checkpoint runs inside a
  // commit and stalls the event loop, and smaller ones stall it for less.
  database.pragma('wal_autocheckpoint = 256');
  // Statement journals and sorts in memory (a multi-row upsert of documents would otherwise
  // spill to a temporary file), and a page cache of 16 MB instead of 2 for the indexes that
  // every push touches.
  database.pragma('temp_store = MEMORY');
  database.pragma('cache_size = -16384');
  const kysely = new Kysely<Database>({
    dialect: new FifoSqliteDialect({ database: withStatementCache(database) }),
  });
  return { ...wrap(kysely, 'sqlite', `sqlite ${opts.sqliteFile}`), sqlite: database };
}

/**
 * Makes the database file and its WAL and shared-memory files readable by their owner only,
 * tightening the files of an installation that made them under the umask. SQLite creates the
 * `-wal` and `-shm` files with the database file's mode, so new ones follow.
 */
function databaseFilesOwnerOnly(sqliteFile: string): void {
  for (const file of [sqliteFile, `${sqliteFile}-wal`, `${sqliteFile}-shm`]) ownerOnly(file);
}

/** Statements kept prepared; the query texts Vigil issues are few, so this bound is rarely hit. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * The database as Kysely sees it, with prepared statements reused: Kysely prepares every query
 * anew, and preparing costs more than running a small insert.
 */
function withStatementCache(database: SQLite.Database) {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(query: string) {
      let stmt = cache.get(query);
      if (!stmt) {
        stmt = database.prepare(query);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
        cache.set(query, stmt);
      }
      return stmt;
    },
  };
}

function wrap(kysely: Kysely<Database>, dialect: Dialect, description: string): Db {
  return {
    kysely,
    dialect,
    description,
    async ping(timeoutMs = 2000) {
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          sql`select 1`.execute(kysely).then(() => true),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(false), timeoutMs);
          }),
        ]);
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => kysely.destroy(),
  };
}
