import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../../../test/support/databases.js';
import { createLogRetention, RETENTION_BATCH } from '../src/logs/retention.js';
import { createLogStore } from '../src/logs/store.js';
import { batchId, line, startLogServer, type LogServer } from './logs-support.js';

// Retention of log lines by age and by total size, in bounded batches, on both databases.

for (const kind of await databaseKinds()) {
  describe(`logs: retention on ${kind.name}`, () => {
    let s: LogServer;
    const day = 86_400_000;
    before(async () => {
      s = await startLogServer(kind, { VIGIL_LOGS_RETENTION_DAYS: '14' });
    });
    after(async () => {
      await s?.close();
    });
    const store = () => createLogStore(s.vigil.db.kysely, s.vigil.db.dialect, s.vigil.db.sqlite);
    const messages = async (q: string) =>
      (await s.search({ q, limit: '1000' })).body.entries.map(
        (e: { message: string }) => e.message,
      );

    test('lines older than logs.retention_days go; newer ones and the totals stay right', async () => {
      const now = Date.now();
      const old = Array.from({ length: RETENTION_BATCH + 10 }, (_, i) =>
        line(`aged line ${i}`, { timestamp: now - 20 * day }),
      );
      for (let i = 0; i < old.length; i += 5000)
        assert.equal(
          (await s.push({ batch_id: batchId(), entries: old.slice(i, i + 5000) })).status,
          200,
        );
      await s.push({
        batch_id: batchId(),
        entries: [line('aged but kept', { timestamp: now - 13 * day }), line('fresh kept')],
      });
      const before = await store().stats();
      const run = await s.vigil.logs.retention.run();
      assert.equal(run.byAge, RETENTION_BATCH + 10);
      assert.equal(run.bySize, 0);
      assert.deepEqual(await messages('kept'), ['fresh kept', 'aged but kept']);
      assert.equal((await s.search({ q: 'aged line' })).body.total, 0);
      const afterStats = await store().stats();
      assert.equal(afterStats.entries, before.entries - (RETENTION_BATCH + 10));
      // The totals are those of the rows left.
      const rows = await s.vigil.db.kysely
        .selectFrom('log_entries')
        .select((eb) => [eb.fn.countAll().as('n'), eb.fn.sum('size').as('bytes')])
        .executeTakeFirstOrThrow();
      assert.equal(afterStats.entries, Number(rows.n));
      assert.equal(afterStats.bytes, Number(rows.bytes));
    });

    test('past max_bytes the oldest lines go first, until the total fits', async () => {
      const entries = Array.from({ length: 300 }, (_, i) =>
        line(`sized ${String(i).padStart(3, '0')} ${'z'.repeat(1000)}`),
      );
      assert.equal((await s.push({ batch_id: batchId(), entries })).status, 200);
      const { bytes } = await store().stats();
      const retention = createLogRetention({
        store: store(),
        now: Date.now,
        policy: { maxAgeMs: 14 * day, maxBytes: bytes - 100_000, batchMemoryMs: day },
      });
      const run = await retention.run();
      assert.ok(run.bySize >= 98 && run.bySize <= 101, String(run.bySize));
      const after = await store().stats();
      assert.ok(after.bytes <= bytes - 100_000);
      // The two lines of the first test were older: they went first.
      assert.deepEqual(await messages('kept'), []);
      const left = await messages('sized');
      assert.equal(left.length, 302 - run.bySize);
      // The newest are kept.
      assert.match(left[0]!, /^sized 299 /);
      assert.ok(left.every((m: string) => Number(m.slice(6, 9)) >= run.bySize - 2));
    });

    test('batch ids are forgotten after logs.batch_memory_hours', async () => {
      const body = { batch_id: batchId(), entries: [line('remembered batch')] };
      assert.equal((await s.push(body)).body.duplicate, false);
      assert.equal((await s.push(body)).body.duplicate, true);
      const later = createLogRetention({
        store: store(),
        now: () => Date.now() + 2 * day,
        policy: { maxAgeMs: 100 * day, maxBytes: 2 ** 40, batchMemoryMs: day },
      });
      assert.ok((await later.run()).batches >= 1);
      assert.equal((await s.push(body)).body.duplicate, false);
    });
  });
}
