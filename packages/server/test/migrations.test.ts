import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { openDb } from '../src/db/connection.js';
import { MIGRATIONS, migrate } from '../src/db/migrations/index.js';
import { readHeads } from '../src/telemetry/tsdb/store/heads.js';
import { HEAD_SERIES, packValues, unpackValues } from '../src/telemetry/tsdb/format.js';
import { databaseKinds } from '../../../test/support/databases.js';

for (const kind of await databaseKinds()) {
  describe(`migrations on ${kind.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    after(async () => {
      for (const c of cleanups) await c();
    });

    test('apply once, then nothing the second time', async () => {
      const { db, drop } = await kind.create();
      cleanups.push(drop);
      const first = await migrate(db);
      assert.deepEqual(
        first.applied.map((m) => m.version),
        MIGRATIONS.map((m) => m.version),
      );
      const second = await migrate(db);
      assert.deepEqual(second.applied, []);
      assert.equal(second.version, MIGRATIONS[MIGRATIONS.length - 1]!.version);
      const rows = await db.kysely.selectFrom('schema_migrations').selectAll().execute();
      assert.equal(rows.length, MIGRATIONS.length);
      // The tables exist and take writes.
      await db.kysely.insertInto('settings').values({ key: 'k', value: 'v' }).execute();
      const r = await sql<{ n: number }>`select count(*) as n from users`.execute(db.kysely);
      assert.equal(Number(r.rows[0]!.n), 0);
    });

    test('stored time series keep their rows under host keys, and heads are built from the rollups', async () => {
      const { db, drop } = await kind.create();
      cleanups.push(drop);
      await migrate(
        db,
        MIGRATIONS.filter((m) => m.version < 5),
      );
      // The tables as version 4 had them (hosts by id), not as typed now.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const k = db.kysely as Kysely<any>;
      const t = Date.parse('2026-11-20T00:00:00Z');
      await k
        .insertInto('hosts')
        .values({ id: 'h', name: 'h', address: null, created_at: t, updated_at: t })
        .execute();
      const ids: number[] = [];
      for (const key of [
        'memory_usage_percent',
        'disk_usage_percent{mount="/"}',
        'cpu_usage_percent',
      ]) {
        await k.insertInto('series').values({ host_id: 'h', key, created_at: t }).execute();
        const row = await k
          .selectFrom('series')
          .select('id')
          .where('key', '=', key)
          .executeTakeFirstOrThrow();
        ids.push(Number(row.id));
      }
      await k
        .insertInto('series_layouts')
        .values({ host_id: 'h', hash: 'x', series_ids: JSON.stringify(ids), created_at: t })
        .execute();
      const layout = await k.selectFrom('series_layouts').select('id').executeTakeFirstOrThrow();
      // Two 5m buckets: memory, disk, cpu each as sum, min, max, count.
      for (const [i, v] of [10, 20].entries())
        await k
          .insertInto('rollup_5m')
          .values({
            host_id: 'h',
            bucket: t + i * 300_000,
            layout_id: Number(layout.id),
            data: packValues([v * 30, v, v, 30, 1, 1, 1, 1, v * 60, v * 2, v * 2, 30]),
          })
          .execute();
      // Rolled up to 03:00: the chunk of 00:00–02:00 is complete, the next one is not.
      await k
        .insertInto('settings')
        .values({ key: 'rollup_watermark_5m', value: String(t + 3 * 3_600_000) })
        .execute();
      await k
        .insertInto('rollup_5m')
        .values({
          host_id: 'h',
          bucket: t + 2 * 3_600_000,
          layout_id: Number(layout.id),
          data: packValues([0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 1]),
        })
        .execute();
      // A raw sample and a dirty mark of another host: they keep their rows under its key.
      await k
        .insertInto('samples')
        .values({ host_id: 'g', ts: t, layout_id: Number(layout.id), vals: packValues([7]) })
        .execute();
      await k
        .insertInto('rollup_dirty')
        .values({ resolution: '1m', host_id: 'g', bucket: t })
        .execute();
      await migrate(db);
      const keys = await k.selectFrom('host_keys').select(['id', 'host_id']).execute();
      assert.deepEqual(keys.map((r) => r.host_id).sort(), ['g', 'h']);
      const g = Number(keys.find((r) => r.host_id === 'g')!.id);
      const sample = await k.selectFrom('samples').selectAll().executeTakeFirstOrThrow();
      assert.deepEqual([Number(sample.host_key), Number(sample.ts)], [g, t]);
      assert.deepEqual([...unpackValues(sample.vals)], [7]);
      const dirty = await k.selectFrom('rollup_dirty').selectAll().executeTakeFirstOrThrow();
      assert.deepEqual(
        [dirty.resolution, Number(dirty.host_key), Number(dirty.bucket)],
        ['1m', g, t],
      );
      assert.equal(
        Number(
          (await k.selectFrom('rollup_5m').select('host_key').executeTakeFirstOrThrow()).host_key,
        ),
        Number(keys.find((r) => r.host_id === 'h')!.id),
      );
      const watermark = await k
        .selectFrom('settings')
        .select('value')
        .where('key', '=', 'rollup_heads_watermark_5m')
        .executeTakeFirstOrThrow();
      assert.equal(Number(watermark.value), t + 2 * 3_600_000);
      const key = await k
        .selectFrom('host_keys')
        .select('id')
        .where('host_id', '=', 'h')
        .executeTakeFirstOrThrow();
      const hostKey = Number(key.id);
      assert.deepEqual(await readHeads(k, '5m', hostKey, t + 2 * 3_600_000, t + 3 * 3_600_000), []);
      const heads = await readHeads(k, '5m', hostKey, t, t + 600_000);
      assert.deepEqual(
        heads.map((x) => x.bucket),
        [t, t + 300_000],
      );
      const cpu = HEAD_SERIES.indexOf('cpu_usage_percent') * 4;
      const mem = HEAD_SERIES.indexOf('memory_usage_percent') * 4;
      assert.deepEqual([...heads[1]!.slot.subarray(cpu, cpu + 4)], [1200, 40, 40, 30]);
      assert.deepEqual([...heads[1]!.slot.subarray(mem, mem + 4)], [600, 20, 20, 30]);
      const swap = HEAD_SERIES.indexOf('swap_usage_percent') * 4;
      assert.equal(heads[0]!.slot[swap + 3], 0, 'a series the layout lacks has no count');
    });

    test('runs from separate connections (concurrent on PostgreSQL) apply each migration once', async () => {
      const { db, url, sqliteFile, drop } = await kind.create();
      cleanups.push(drop);
      const others = [0, 1, 2].map(() => openDb(url ? { url, poolMax: 2 } : { sqliteFile }));
      try {
        // better-sqlite3 is synchronous: two connections of one process would wait on each other
        // while blocking the only thread. Concurrent SQLite runs from separate processes are
        // covered by the end-to-end CLI test; here they run one after another.
        const all = [db, ...others];
        const reports =
          kind.name === 'postgres'
            ? await Promise.all(all.map((d) => migrate(d)))
            : await all.reduce<Promise<Awaited<ReturnType<typeof migrate>>[]>>(
                async (acc, d) => [...(await acc), await migrate(d)],
                Promise.resolve([]),
              );
        const applied = reports.flatMap((r) => r.applied.map((m) => m.version)).sort();
        assert.deepEqual(applied, MIGRATIONS.map((m) => m.version).sort());
        assert.ok(reports.every((r) => r.version === MIGRATIONS[MIGRATIONS.length - 1]!.version));
      } finally {
        for (const o of others) await o.close();
      }
    });

    test('a failing migration leaves nothing half-applied', async () => {
      const { db, drop } = await kind.create();
      cleanups.push(drop);
      const broken = [
        ...MIGRATIONS,
        {
          version: 9999,
          name: 'broken',
          async up(k: Kysely<never>) {
            await k.schema.createTable('half_done').addColumn('id', 'text').execute();
            throw new Error('boom');
          },
        },
      ];
      await assert.rejects(migrate(db, broken), /boom/);
      const tables = await sql<{ n: number }>`select count(*) as n from ${sql.raw(
        kind.name === 'sqlite'
          ? "sqlite_master where type = 'table' and name = 'half_done'"
          : "information_schema.tables where table_name = 'half_done'",
      )}`.execute(db.kysely);
      assert.equal(Number(tables.rows[0]!.n), 0);
      const ok = await migrate(db);
      assert.equal(ok.applied.length, MIGRATIONS.length);
    });
  });
}
