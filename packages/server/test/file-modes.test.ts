import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { openDb } from '../src/db/connection.js';
import { masterKey } from '../src/secrets/master-key.js';
import { prepareDataDir } from '../src/serve.js';
import { ensureAutoTls } from '../src/tls/pki.js';

const modeOf = (file: string) => statSync(file).mode & 0o777;

let dir: string;
let umask: number;
before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-modes-'));
  // The usual umask, under which files are created 0644 and directories 0755.
  umask = process.umask(0o022);
});
after(() => {
  process.umask(umask);
  rmSync(dir, { recursive: true, force: true });
});

test('a new SQLite store and its WAL and shared-memory files are owner-only (0600)', async () => {
  const file = path.join(dir, 'fresh', 'vigil.db');
  const db = openDb({ sqliteFile: file });
  try {
    await sql`create table t (x integer)`.execute(db.kysely);
    await sql`insert into t values (1)`.execute(db.kysely);
    assert.equal(modeOf(path.dirname(file)), 0o700, 'directory');
    for (const f of [file, `${file}-wal`, `${file}-shm`])
      assert.equal(modeOf(f).toString(8), '600', path.basename(f));
  } finally {
    await db.close();
  }
});

test('an existing store made world-readable is tightened when it is opened', async () => {
  const file = path.join(dir, 'old', 'vigil.db');
  mkdirSync(path.dirname(file), { recursive: true });
  // An installation of an earlier version: files made under the umask, still open elsewhere so
  // that the WAL and shared-memory files exist.
  const old = new SQLite(file);
  old.pragma('journal_mode = WAL');
  old.exec('create table t (x integer); insert into t values (1);');
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    chmodSync(f, 0o644);
    assert.equal(modeOf(f), 0o644);
  }
  const db = openDb({ sqliteFile: file });
  try {
    for (const f of [file, `${file}-wal`, `${file}-shm`])
      assert.equal(modeOf(f).toString(8), '600', path.basename(f));
  } finally {
    await db.close();
    old.close();
  }
});

test('the data directory is made, or tightened, to 0700', () => {
  const fresh = path.join(dir, 'data-new');
  assert.equal(prepareDataDir(fresh), path.resolve(fresh));
  assert.equal(modeOf(fresh).toString(8), '700');
  const existing = path.join(dir, 'data-old');
  mkdirSync(existing, { mode: 0o755 });
  assert.equal(modeOf(existing), 0o755);
  prepareDataDir(existing);
  assert.equal(modeOf(existing).toString(8), '700');
});

test('keys and the initial password written 0644 by an earlier version are tightened at start', async () => {
  const data = path.join(dir, 'data-keys');
  const tls = path.join(data, 'tls');
  // A first start writes the material; then everything is loosened as an older version left it.
  prepareDataDir(data);
  await ensureAutoTls(tls);
  const key = path.join(data, 'master.key');
  masterKey(key);
  const password = path.join(data, 'initial-admin-password');
  writeFileSync(password, 'a password\n', { mode: 0o644 });
  const secrets = [key, password, path.join(tls, 'ca.key'), path.join(tls, 'server.key')];
  for (const file of secrets) chmodSync(file, 0o644);
  chmodSync(tls, 0o755);
  chmodSync(data, 0o755);

  prepareDataDir(data);
  await ensureAutoTls(tls);
  masterKey(key);
  for (const file of secrets) assert.equal(modeOf(file).toString(8), '600', file);
  assert.equal(modeOf(tls).toString(8), '700');
  assert.equal(modeOf(data).toString(8), '700');
  // Certificates are public.
  assert.equal(modeOf(path.join(tls, 'ca.crt')).toString(8), '644');
});
