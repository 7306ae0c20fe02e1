import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { sql } from 'kysely';
import { openDb } from '../src/db/connection.js';

// SQLite's one connection goes to waiting queries in order of arrival, transactions included.

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-sqlite-fifo-'));
const db = openDb({ sqliteFile: path.join(dir, 'fifo.db') });
after(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

test('queries waiting for the connection get it in the order they asked, none lost', async () => {
  await sql`create table t (n integer not null)`.execute(db.kysely);
  const done: number[] = [];
  // A transaction holds the connection while 300 queries queue behind it.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const tx = db.kysely.transaction().execute(async (trx) => {
    await sql`insert into t (n) values (-1)`.execute(trx);
    await held;
    // Inside the transaction its own queries run at once, on the held connection.
    const r = await sql<{ c: number }>`select count(*) as c from t`.execute(trx);
    assert.equal(r.rows[0]!.c, 1);
  });
  const queries = Array.from({ length: 300 }, (_, i) =>
    sql`insert into t (n) values (${i})`.execute(db.kysely).then(() => done.push(i)),
  );
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(done, [], 'nothing passes the open transaction');
  release();
  await Promise.all([tx, ...queries]);
  assert.deepEqual(
    done,
    Array.from({ length: 300 }, (_, i) => i),
  );
  const rows = await sql<{ n: number }>`select n from t order by rowid`.execute(db.kysely);
  assert.deepEqual(
    rows.rows.map((r) => r.n),
    [-1, ...done],
  );
});

test('a failed transaction passes the connection on', async () => {
  const failed = db.kysely.transaction().execute(async (trx) => {
    await sql`insert into t (n) values (1000)`.execute(trx);
    throw new Error('boom');
  });
  const after1 = sql<{ c: number }>`select count(*) as c from t where n = 1000`.execute(db.kysely);
  await assert.rejects(failed, /boom/);
  assert.equal((await after1).rows[0]!.c, 0);
});
