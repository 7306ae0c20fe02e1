// Over 500 lines: one suite per database kind, each on one server harness; split files would
// each start their own servers (and PostgreSQL databases) again.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import {
  SampleBuffer,
  normalize,
  normalizeInto,
  parseSeriesKey,
  seriesKey,
} from '../src/telemetry/ingest/normalize.js';
import { checkDataOf } from '@vigil/protocol/decode';
import { JsonWriter } from '../src/telemetry/query/history.js';
import type { Database } from '../src/db/schema.js';
import { migrate } from '../src/db/migrations/index.js';
import { createTelemetryService } from '../src/telemetry/service.js';
import { createTelemetryStore } from '../src/telemetry/store.js';
import { createTsdbStore } from '../src/telemetry/tsdb/store.js';
import { ROLLUPS, bucketOf } from '../src/telemetry/tsdb/format.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';
import { CHECKDATA_FIXTURE as FIXTURE } from '../../../test/support/fixtures.js';
import { rng } from '../../../test/support/random.js';

const fixture = () => JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('normalize', () => {
  test('the recorded document gives host-level and labelled series with their values', () => {
    const doc = fixture();
    const { keys, values } = normalize(doc);
    const get = (k: string) => values[keys.indexOf(k)];
    assert.equal(new Set(keys).size, keys.length, 'keys are unique');
    assert.equal(get('cpu_usage_percent'), 2.86);
    assert.equal(get('cpu_usage_percent{core="1"}'), 4.76);
    assert.equal(get('memory_total_bytes'), 25276026880);
    assert.equal(get('disk_usage_percent{mount="/"}'), 22.43);
    assert.equal(get('disk_usage_percent'), 22.43, 'the fullest file system');
    assert.equal(get('load5'), (doc.system_load as Record<string, number>)['1']);
    assert.equal(get('check_state{check="check_load"}'), 0);
    assert.equal(get('check_perfdata{check="check_load",label="load1"}'), 0.05);
    assert.equal(get('tcp_connections{state="time_wait"}'), 6);
    assert.equal(get('processes'), (doc.processes as unknown[]).length);
    assert.ok(!keys.some((k) => k.startsWith('process_')), 'no per-process series');
    // Every figure the agent measures is a series: per-core modes, counters since boot (times
    // in seconds), link state; collection times, limits and thresholds are not.
    assert.equal(get('cpu_idle_percent{core="1"}'), 95.24);
    assert.equal(get('cpu_system_percent{core="1"}'), 1.9);
    assert.equal(get('memory_shared_bytes'), 9166848);
    assert.equal(get('swap_in_bytes_total'), 0);
    assert.equal(get('diskio_read_bytes_total{device="vda"}'), 6543348736);
    assert.equal(get('diskio_read_time_seconds_total{device="vda"}'), 152.348);
    assert.equal(get('diskio_wait_seconds{device="vda"}'), 0.36 / 1000);
    assert.equal(get('diskio_write_size_bytes{device="vda"}'), 6210.06);
    assert.equal(get('net_rx_bytes_total{interface="eth0"}'), 888538690);
    assert.equal(get('net_tx_packets_total{interface="eth0"}'), 46720);
    assert.equal(get('net_up{interface="eth0"}'), 1);
    assert.equal(get('net_up{interface="ifb0"}'), 0);
    assert.equal(get('net_mtu_bytes{interface="eth0"}'), 1400);
    assert.ok(!keys.includes('net_speed_bytes_per_second{interface="eth0"}'), 'speed unknown');
    assert.equal(get('check_duration_seconds{check="check_load"}'), 0.021013395);
    assert.ok(!keys.some((k) => /timestamp|_min\b|_max\b/i.test(k)), 'no times or limits');
    assert.ok(keys.length > 50 && keys.length < 300, `${keys.length} series`);
  });

  test('failed or missing sections give no samples and no error', () => {
    // As ingest sees it: decoded, the section of the wrong type dropped.
    const { keys } = normalize(
      checkDataOf({
        cpu: { error: 'boom' },
        memory: { error: 'x' },
        disks: 'bad',
        net_stats: { error: 'no /sys/class/net' },
      })!.document,
    );
    assert.deepEqual(keys, []);
  });

  test('a link speed in megabits is kept in bytes per second', () => {
    const { keys, values } = normalize({
      net_stats: { eth0: { isup: true, duplex: 2, speed: 1000, mtu: 9000 } },
    });
    assert.deepEqual(keys, [
      'net_up{interface="eth0"}',
      'net_mtu_bytes{interface="eth0"}',
      'net_speed_bytes_per_second{interface="eth0"}',
    ]);
    assert.deepEqual(values, [1, 9000, 125_000_000]);
  });

  test('a series given twice keeps its first value, in each document of a reused buffer', () => {
    const sensors = (a: number, b: number) => ({
      sensors: {
        Temperatures: [
          { label: 'Core 0', current: a },
          { label: 'Core 0', current: b },
        ],
      },
      system_load: { 0: a, 1: a, 2: a },
    });
    const into = new SampleBuffer();
    for (const [a, b] of [
      [40, 60],
      [41, 61],
    ] as const) {
      const n = normalizeInto(sensors(a, b), into);
      assert.deepEqual(into.keys.slice(0, n), [
        'load1',
        'load5',
        'load15',
        'temperature_celsius{sensor="Core 0"}',
      ]);
      assert.deepEqual(Array.from(into.values.subarray(0, n)), [a, a, a, a]);
    }
    // A shorter document after a longer one: what the buffer held before is not part of it.
    assert.equal(normalizeInto({ system_load: { 0: 1 } }, into), 1);
    assert.deepEqual(normalize(sensors(5, 6)).values, [5, 5, 5, 5]);
  });

  test('series keys round-trip, quotes and backslashes included', () => {
    const key = seriesKey('temperature_celsius', [['sensor', 'Core "0" \\ A']]);
    assert.deepEqual(parseSeriesKey(key), {
      metric: 'temperature_celsius',
      labels: { sensor: 'Core "0" \\ A' },
    });
    assert.deepEqual(parseSeriesKey('load1'), { metric: 'load1', labels: {} });
  });
});

/** A document with the given CPU and memory figures and optionally a second disk. */
function doc(cpu: number, mem: number, extraDisk?: number) {
  const base = fixture();
  const d = (mountpoint: string, device: string, percent: number) => ({
    disk: { device, mountpoint, fstype: 'ext4', opts: [] },
    usage: { total: 100, used: percent, free: 100 - percent, percent },
  });
  const disks = [d('/', '/dev/a', 50)];
  if (extraDisk !== undefined) disks.push(d('/data', '/dev/b', extraDisk));
  return {
    cpu: { ...(base.cpu as object), cpu_total_percentage: cpu },
    memory: { ...(base.memory as object), percent: mem },
    disks,
  };
}

type Point = { ts: number; values: Record<string, number> };

/** avg/min/max/count of every series per bucket, computed the slow, obvious way. */
function bruteForce(points: Point[], size: number) {
  const out = new Map<string, { sum: number; min: number; max: number; count: number }>();
  for (const p of points)
    for (const [k, v] of Object.entries(p.values)) {
      const id = `${bucketOf(p.ts, size)}|${k}`;
      const a = out.get(id);
      if (!a) out.set(id, { sum: v, min: v, max: v, count: 1 });
      else {
        a.sum += v;
        a.min = Math.min(a.min, v);
        a.max = Math.max(a.max, v);
        a.count += 1;
      }
    }
  return out;
}

for (const kind of await databaseKinds()) {
  describe(`telemetry store on ${kind.name}`, () => {
    const start = Date.parse('2026-11-20T00:00:00Z');
    let clock = start;
    let h: Harness;
    let token: string;
    const hosts = ['h-one', 'h-two'];
    const generated = new Map<string, Point[]>(hosts.map((x) => [x, []]));

    /** A host with an approved agent `a-<host>`, created at `at` (on `db`, else the harness's). */
    const addHost = async (id: string, at: number, db: Kysely<Database> = h.vigil.db.kysely) => {
      await db
        .insertInto('hosts')
        .values({ id, name: id, address: null, created_at: at, updated_at: at })
        .execute();
      await db
        .insertInto('agents')
        .values({
          id: `a-${id}`,
          name: id,
          host_id: id,
          kind: 'native',
          approval: 'approved',
          interval_seconds: 10,
          registered_at: at,
          updated_at: at,
        })
        .execute();
    };

    before(async () => {
      // The tests push hours of documents ahead of the simulated clock before moving it on: an
      // agent clock that far ahead would otherwise be taken as the server's time.
      h = await startHarness(kind, {
        now: () => clock,
        env: { VIGIL_AGENTS_MAX_CLOCK_SKEW_SECONDS: '86400' },
      });
      token = await h.login();
      for (const id of hosts) await addHost(id, start);
    });
    after(() => h.close());

    test('rollups equal a brute-force reference on random data with gaps, drops and a layout change', async () => {
      const rand = rng(42);
      const jobs: Promise<unknown>[] = [];
      for (const hostId of hosts) {
        let cpu = 50;
        for (let ts = start; ts < start + 3 * 3_600_000; ts += 10_000) {
          if (rand() < 0.1) continue; // a gap
          cpu = rand() < 0.02 ? 0 : Math.max(0, Math.min(100, cpu + (rand() - 0.5) * 20)); // drops
          const mem = Math.round(rand() * 10000) / 100;
          // A second disk exists only during the second hour: the layout changes twice.
          const extra =
            ts >= start + 3_600_000 && ts < start + 7_200_000
              ? Math.round(rand() * 100)
              : undefined;
          const values: Record<string, number> = {
            cpu_usage_percent: cpu,
            memory_usage_percent: mem,
            'disk_usage_percent{mount="/"}': 50,
            disk_usage_percent: Math.max(50, extra ?? 0),
          };
          if (extra !== undefined) values['disk_usage_percent{mount="/data"}'] = extra;
          generated.get(hostId)!.push({ ts, values });
          jobs.push(
            h.vigil.telemetry.ingest({ agentId: `a-${hostId}`, hostId }, ts, doc(cpu, mem, extra)),
          );
          if (jobs.length >= 200) await Promise.all(jobs.splice(0));
        }
      }
      await Promise.all(jobs);
      clock = start + 4 * 3_600_000;
      while ((await h.vigil.telemetry.runRollups(1000)) > 0);

      for (const hostId of hosts) {
        const keys = new Set(generated.get(hostId)!.flatMap((p) => Object.keys(p.values)));
        const series = (await h.vigil.telemetry.series(hostId)).filter((s) => keys.has(s.key));
        const idOf = new Map(series.map((s) => [s.key, s.id]));
        assert.equal(idOf.size, keys.size);
        for (const [res, size] of Object.entries(ROLLUPS) as ['1m' | '5m' | '1h', number][]) {
          const expected = bruteForce(generated.get(hostId)!, size);
          const points = await h.vigil.telemetry.history(
            hostId,
            res,
            start,
            start + 3 * 3_600_000,
            [...idOf.values()],
          );
          let compared = 0;
          for (const p of points)
            for (const [key, id] of idOf) {
              const got = p.values.get(id);
              const want = expected.get(`${p.timestamp}|${key}`);
              assert.equal(!!got, !!want, `${res} ${key} at ${p.timestamp}: presence`);
              if (!got || !want) continue;
              assert.equal(got.count, want.count, `${res} ${key} count`);
              assert.equal(got.min, want.min, `${res} ${key} min`);
              assert.equal(got.max, want.max, `${res} ${key} max`);
              assert.ok(Math.abs(got.avg - want.sum / want.count) < 1e-9, `${res} ${key} avg`);
              compared += 1;
            }
          const wantBuckets = new Set([...expected.keys()].map((k) => k.split('|')[0]));
          assert.equal(points.length, wantBuckets.size, `${res}: every bucket with data`);
          assert.equal(compared, expected.size, `${res}: every series of every bucket`);
        }
      }
    });

    test('a series a host names twice in every push keeps its first value at every push', async () => {
      await addHost('h-twice', start);
      const sensors = (a: number, b: number) => ({
        sensors: {
          Temperatures: [
            { label: 'Core 0', current: a, high: 80, critical: 100 },
            { label: 'Core 0', current: b, high: 80, critical: 100 },
          ],
          Batteries: [],
        },
      });
      const pushes = [
        [40, 60],
        [41, 61],
        [42, 62],
      ] as const;
      for (const [i, [a, b]] of pushes.entries()) {
        const outcome = await h.vigil.telemetry.ingest(
          { agentId: 'a-h-twice', hostId: 'h-twice' },
          start + i * 10_000,
          sensors(a, b),
        );
        assert.equal(outcome.samples, 1);
      }
      const series = await h.vigil.telemetry.series('h-twice');
      assert.deepEqual(
        series.map((s) => s.key),
        ['temperature_celsius{sensor="Core 0"}'],
      );
      const points = await h.vigil.telemetry.history('h-twice', 'raw', start, start + 60_000, [
        series[0]!.id,
      ]);
      assert.deepEqual(
        points.map((p) => p.values.get(series[0]!.id)?.avg),
        [40, 41, 42],
      );
    });

    test('late pushes re-roll their buckets at every resolution, for every host they touch', async () => {
      const ts = start + 90 * 60_000 + 5_000; // inside buckets rolled up already
      for (const hostId of hosts) {
        if (generated.get(hostId)!.some((p) => p.ts === ts))
          throw new Error('the test needs a free time stamp');
        const r = await h.vigil.telemetry.ingest(
          { agentId: `a-${hostId}`, hostId },
          ts,
          doc(1000, 1),
        );
        assert.equal(r.duplicate, false);
        generated.get(hostId)!.push({
          ts,
          values: {
            cpu_usage_percent: 1000,
            memory_usage_percent: 1,
            'disk_usage_percent{mount="/"}': 50,
            disk_usage_percent: 50,
          },
        });
      }
      while ((await h.vigil.telemetry.runRollups(1000)) > 0);
      for (const hostId of hosts) {
        const cpuId = (await h.vigil.telemetry.series(hostId)).find(
          (s) => s.key === 'cpu_usage_percent',
        )!.id;
        for (const [res, size] of Object.entries(ROLLUPS) as ['1m' | '5m' | '1h', number][]) {
          const b = bucketOf(ts, size);
          const [p] = await h.vigil.telemetry.history(hostId, res, b, b + 1, [cpuId]);
          const want = bruteForce(generated.get(hostId)!, size).get(`${b}|cpu_usage_percent`)!;
          assert.equal(p?.values.get(cpuId)?.max, 1000, `${hostId} ${res} saw the late push`);
          assert.equal(p?.values.get(cpuId)?.count, want.count, `${hostId} ${res} count`);
          assert.ok(Math.abs(p!.values.get(cpuId)!.avg - want.sum / want.count) < 1e-9);
        }
      }
      const again = await h.vigil.telemetry.ingest(
        { agentId: 'a-h-one', hostId: 'h-one' },
        ts,
        doc(1000, 1),
      );
      assert.equal(again.duplicate, true, 'the same push twice is stored once');
      // A duplicate that shares its transaction with new pushes: the new ones are stored and
      // reported new all the same.
      const fresh = hosts.map((_, i) => ts + 1000 + i);
      const mixed = await Promise.all([
        h.vigil.telemetry.ingest({ agentId: 'a-h-one', hostId: 'h-one' }, ts, doc(1000, 1)),
        ...hosts.map((hostId, i) =>
          h.vigil.telemetry.ingest({ agentId: `a-${hostId}`, hostId }, fresh[i]!, doc(2000, 1)),
        ),
      ]);
      assert.deepEqual(
        mixed.map((r) => r.duplicate),
        [true, ...hosts.map(() => false)],
      );
      // The new pushes are data like any other: the reference has them, and they are rolled up
      // now rather than whenever the background rollup happens to run.
      for (const [i, hostId] of hosts.entries())
        generated.get(hostId)!.push({
          ts: fresh[i]!,
          values: {
            cpu_usage_percent: 2000,
            memory_usage_percent: 1,
            'disk_usage_percent{mount="/"}': 50,
            disk_usage_percent: 50,
          },
        });
      while ((await h.vigil.telemetry.runRollups(1000)) > 0);
      for (const [i, hostId] of hosts.entries()) {
        const cpuId = (await h.vigil.telemetry.series(hostId)).find(
          (s) => s.key === 'cpu_usage_percent',
        )!.id;
        const raw = await h.vigil.telemetry.history(hostId, 'raw', fresh[i]!, fresh[i]! + 1, [
          cpuId,
        ]);
        assert.equal(raw[0]?.values.get(cpuId)?.max, 2000, `${hostId}: the new push is stored`);
      }
    });

    test('history API: Tyto shape, resolutions, auto, and 400 for bad input', async () => {
      token = await h.login(); // The clock moved on: a fresh token.
      const get = (q: string) =>
        h.inject({ method: 'GET', url: `/api/v1/history?${q}`, headers: bearer(token) });
      const from = new Date(start).toISOString();
      const to = new Date(start + 3_600_000).toISOString();
      const oneMin = await get(
        `host_id=h-two&from=${from}&to=${to}&resolution=1m&metrics=cpu,memory`,
      );
      assert.equal(oneMin.statusCode, 200, oneMin.body);
      const body = oneMin.json();
      assert.equal(body.resolution, '1m');
      assert.equal(body.data.length, 60);
      assert.deepEqual(Object.keys(body.data[0]).sort(), ['cpu', 'memory', 'timestamp']);
      assert.deepEqual(Object.keys(body.data[0].cpu).sort(), ['avg', 'max', 'min']);
      // Every resolution's figures, late push included, equal the reference.
      const end = new Date(start + 3 * 3_600_000).toISOString();
      for (const [res, size] of Object.entries(ROLLUPS) as ['1m' | '5m' | '1h', number][]) {
        const want = bruteForce(generated.get('h-one')!, size);
        const got = await get(
          `host_id=h-one&from=${from}&to=${end}&resolution=${res}&metrics=cpu,memory,disk`,
        );
        assert.equal(got.statusCode, 200, got.body);
        const points = got.json().data as Record<
          string,
          { avg: number; min: number; max: number }
        >[];
        assert.equal(points.length, (3 * 3_600_000) / size, `${res}: one point per bucket`);
        let compared = 0;
        for (const p of points) {
          const t = Date.parse(p.timestamp as unknown as string);
          for (const [name, key] of [
            ['cpu', 'cpu_usage_percent'],
            ['memory', 'memory_usage_percent'],
            ['disk', 'disk_usage_percent'],
          ]) {
            const w = want.get(`${t}|${key}`)!;
            // Two decimal places.
            assert.equal(p[name]!.min, Math.round(w.min * 100) / 100, `${res} ${name} min`);
            assert.equal(p[name]!.max, Math.round(w.max * 100) / 100, `${res} ${name} max`);
            // (Sums in another order may round the other way at a half cent.)
            assert.ok(Math.abs(p[name]!.avg - w.sum / w.count) <= 0.005 + 1e-9, `${res} avg`);
            compared += 1;
          }
        }
        assert.equal(compared, points.length * 3);
      }
      const raw = await get(`host_id=h-two&from=${from}&to=${to}&resolution=raw&metrics=cpu`);
      assert.equal(
        raw.json().data.length,
        generated.get('h-two')!.filter((p) => p.ts < start + 3_600_000).length,
      );
      const week = new Date(start - 6 * 86_400_000).toISOString();
      const auto = await get(`host_id=h-two&from=${week}&to=${to}&resolution=auto`);
      assert.equal(auto.json().resolution, '1h');
      const ow = await h.inject({
        method: 'GET',
        url: `/api/v1/hosts/h-two/monitoring/history?from=${from}&to=${to}&resolution=5m`,
        headers: bearer(token),
      });
      assert.equal(ow.statusCode, 200);
      assert.equal(ow.json().data.length, 12);
      for (const [q, status] of [
        [`host_id=h-two&from=${to}&to=${from}`, 400],
        [`host_id=h-two&from=2020-01-01T00:00:00Z&to=${to}`, 400],
        [`host_id=h-two&metrics=cpu,bogus`, 400],
        [`host_id=h-two&from=yesterday`, 400],
        [`host_id=h-two&resolution=2m`, 400],
        [`host_id=nope`, 404],
        [`agent_id=nope`, 404],
        [``, 400],
      ] as const) {
        const res = await get(q);
        assert.equal(res.statusCode, status, `${q}: ${res.body}`);
        assert.ok(res.json().error.code);
      }
      const series = await h.inject({
        method: 'GET',
        url: '/api/v1/series?host_id=h-two',
        headers: bearer(token),
      });
      assert.ok(
        series
          .json()
          .series.some(
            (s: { key: string; labels: Record<string, string> }) => s.labels.mount === '/data',
          ),
      );
      const q = await h.inject({
        method: 'GET',
        url: `/api/v1/series/query?host_id=h-two&series=${encodeURIComponent('disk_usage_percent{mount="/data"}')}&from=${from}&to=${new Date(start + 3 * 3_600_000).toISOString()}&resolution=1h&aggregation=max`,
        headers: bearer(token),
      });
      assert.equal(q.statusCode, 200, q.body);
      assert.equal(q.json().series[0].points.length, 1, 'the /data disk existed in one hour');
      const unknown = await h.inject({
        method: 'GET',
        url: '/api/v1/series/query?host_id=h-two&series=nope',
        headers: bearer(token),
      });
      assert.equal(unknown.statusCode, 400);
    });

    test("agents' last contact: seen at once through the API, written in the background, never moved back", async () => {
      const stored = async () =>
        (
          await h.vigil.db.kysely
            .selectFrom('agents')
            .select('last_seen')
            .where('id', '=', 'a-h-one')
            .executeTakeFirstOrThrow()
        ).last_seen;
      await h.vigil.telemetry.writeContacts();
      const before = await stored();
      clock = start + 5 * 3_600_000;
      await h.vigil.telemetry.ingest({ agentId: 'a-h-one', hostId: 'h-one' }, clock, doc(1, 2));
      assert.equal(await stored(), before, 'not written with the push');
      const api = await h.inject({
        method: 'GET',
        url: '/api/v1/agents/a-h-one',
        headers: bearer(await h.login()),
      });
      assert.equal(api.statusCode, 200, api.body);
      assert.equal(api.json().last_seen, new Date(clock).toISOString());
      assert.equal(api.json().status, 'online');
      assert.equal(await h.vigil.telemetry.writeContacts(), 1);
      assert.equal(Number(await stored()), clock);
      assert.equal(await h.vigil.telemetry.writeContacts(), 0, 'nothing new to write');
      // Another server process that saw the agent earlier does not move its contact back.
      await createTelemetryStore(h.vigil.db.kysely).touchAgents([
        { agentId: 'a-h-one', at: clock - 60_000 },
      ]);
      assert.equal(Number(await stored()), clock);
    });

    test("a page of a bucket's rollup rows is read in index order, without sorting the bucket", async () => {
      // The rollup job's page query (store.rollupsPage): every host of a bucket shares its time,
      // so without the host in the index each page would sort the whole bucket again.
      const page = `SELECT k.host_id, r.bucket, r.layout_id, r.data FROM rollup_5m AS r
         CROSS JOIN host_keys AS k WHERE k.id = r.host_key
         AND r.bucket >= 0 AND r.bucket < 1 AND r.bucket >= 0
         AND (r.bucket > 0 OR (r.bucket = 0 AND r.host_key > 7))
         ORDER BY r.bucket, r.host_key LIMIT 200`;
      if (kind.name === 'sqlite') {
        const planOf = async (q: string) =>
          (
            await sql<{ detail: string }>`EXPLAIN QUERY PLAN ${sql.raw(q)}`.execute(
              h.vigil.db.kysely,
            )
          ).rows
            .map((r) => r.detail)
            .join('; ');
        const details = await planOf(page);
        assert.match(details, /USING INDEX rollup_5m_bucket_host/);
        assert.doesNotMatch(details, /TEMP B-TREE/);
        // The samples' page (store.samplesPage): samples first, through their time index, so
        // that a page stops after its rows instead of reading every host's range.
        const samples = await planOf(`SELECT k.host_id, s.ts, s.layout_id, s.vals FROM samples AS s
           CROSS JOIN host_keys AS k WHERE k.id = s.host_key
           AND s.ts >= 0 AND s.ts < 1 AND s.ts >= 0
           AND (s.ts > 0 OR (s.ts = 0 AND s.host_key > 7))
           ORDER BY s.ts, s.host_key LIMIT 200`);
        assert.match(samples, /^SEARCH s USING INDEX samples_ts/);
        assert.doesNotMatch(samples, /SCAN k/);
      } else {
        // Told to avoid scans and sorts wherever it can (the test's table is tiny), the planner
        // shows whether an index gives the order.
        const knobs = ['enable_seqscan', 'enable_bitmapscan', 'enable_sort'];
        const details = await h.vigil.db.kysely.connection().execute(async (c) => {
          for (const k of knobs) await sql`SET ${sql.raw(k)} = off`.execute(c);
          try {
            const plan = await sql<{ 'QUERY PLAN': string }>`EXPLAIN ${sql.raw(page)}`.execute(c);
            return plan.rows.map((r) => r['QUERY PLAN']).join('\n');
          } finally {
            for (const k of knobs) await sql`RESET ${sql.raw(k)}`.execute(c);
          }
        });
        assert.match(details, /rollup_5m_bucket_host/);
        assert.doesNotMatch(details, /Sort/);
      }
    });

    test('retention deletes exactly what is expired', async () => {
      const count = async (
        table: 'samples' | 'rollup_1m' | 'rollup_5m' | 'rollup_1h',
        column: 'ts' | 'bucket',
        before?: number,
      ) => {
        let q = h.vigil.db.kysely
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'));
        if (before !== undefined) q = q.where(column, '<', before);
        return Number((await q.executeTakeFirstOrThrow()).n);
      };
      // Raw is kept 48 h: move the clock so that exactly the first 90 minutes are older than that.
      clock = start + 48 * 3_600_000 + 90 * 60_000;
      const cut = clock - 48 * 3_600_000;
      const total = await count('samples', 'ts');
      const expired = await count('samples', 'ts', cut);
      assert.ok(expired > 0 && expired < total);
      const rollups1m = await count('rollup_1m', 'bucket');
      // Small batches: each call does bounded work; repeated, they delete everything expired.
      // A batch takes the 7 oldest rows and any others sharing the last one's time stamp.
      let calls = 0;
      for (let n; (n = await h.vigil.telemetry.runRetention(7, 3)) > 0; calls += 1)
        assert.ok(n <= 3 * (7 + hosts.length), `one call deleted ${n} rows`);
      assert.ok(calls > 1, 'the work was split into several bounded calls');
      assert.equal(await count('samples', 'ts', cut), 0);
      assert.equal(await count('samples', 'ts'), total - expired);
      assert.equal(await count('rollup_1m', 'bucket'), rollups1m, '1m rollups are kept 14 days');
    });

    // The rollup passes below run on a database of their own: the harness's rollup job works
    // on its database every 5 s, and its watermarks would move under these tests' feet.
    describe('rollup passes', () => {
      let own: Awaited<ReturnType<typeof kind.create>>;
      before(async () => {
        own = await kind.create();
        await migrate(own.db);
      });
      after(() => own.drop());

      /** Marks everything before `t` as rolled up at every resolution. */
      const rolledUpTo = async (t: number) => {
        for (const r of ['1m', '5m', '1h'])
          await own.db.kysely
            .insertInto('settings')
            .values({ key: `rollup_watermark_${r}`, value: String(t) })
            .onConflict((oc) => oc.column('key').doUpdateSet({ value: String(t) }))
            .execute();
      };

      /** A telemetry service of its own on this suite's database, over `tsdb`, at `now`. */
      const serviceOn = (tsdb: ReturnType<typeof createTsdbStore>, now: () => number) =>
        createTelemetryService({
          store: createTelemetryStore(own.db.kysely),
          tsdb,
          now,
          policy: {
            retention: {
              raw: 48 * 3_600_000,
              '1m': 14 * 86_400_000,
              '5m': 90 * 86_400_000,
              '1h': 730 * 86_400_000,
            },
            commitDelayMs: 1,
            maxBatch: 100,
            documentFlushMs: 60_000,
            rollupGraceMs: 15_000,
            maxCheckAttempts: 3,
          },
        });

      test('a bucket whose rollup write fails is rolled up by the next pass, not skipped', async () => {
        const db = own.db.kysely;
        const hostId = 'h-retry';
        const t0 = Date.parse('2026-12-01T00:00:00Z');
        let t = t0;
        await addHost(hostId, t0, own.db.kysely);
        // Everything before t0 counts as rolled up, so that the next pass starts at t0.
        await rolledUpTo(t0);
        // The database refuses the first rollup write (a full disk, say), then recovers.
        const real = createTsdbStore(db);
        let failures = 1;
        const tsdb: typeof real = {
          ...real,
          writeRollups(...args) {
            if (failures-- > 0) return Promise.reject(new Error('disk I/O error'));
            return real.writeRollups(...args);
          },
        };
        const service = serviceOn(tsdb, () => t);
        try {
          for (let i = 0; i < 6; i++, t += 10_000)
            await service.ingest({ agentId: `a-${hostId}`, hostId }, t, fixture());
          t = t0 + 60_000 + 15_000 + 1;
          await assert.rejects(service.runRollups(), /disk I\/O error/);
          await service.runRollups();
          const row = await db
            .selectFrom('rollup_1m as r')
            .innerJoin('host_keys as k', 'k.id', 'r.host_key')
            .select(['r.bucket'])
            .where('k.host_id', '=', hostId)
            .execute();
          assert.deepEqual(
            row.map((r) => Number(r.bucket)),
            [t0],
            'the first minute is rolled up once the database recovers',
          );
          const cpu = (await service.series(hostId)).filter((s) => s.key === 'cpu_usage_percent');
          const points = await service.history(
            hostId,
            '1m',
            t0,
            t0 + 60_000,
            cpu.map((s) => s.id),
          );
          assert.equal([...points[0]!.values.values()][0]!.count, 6, 'with all six pushes in it');
        } finally {
          await service.close();
        }
      });

      test("the first minute's recent averages are kept with turns of the event loop", async () => {
        const db = own.db.kysely;
        const t1 = Date.parse('2026-12-02T00:00:00Z');
        let t = t1;
        const fleet = Array.from({ length: 120 }, (_, i) => `h-turns-${i}`);
        for (const id of fleet) await addHost(id, t1, own.db.kysely);
        await rolledUpTo(t1);
        // Counts the head-position lookups (a query of series keys each) within one turn.
        const real = createTsdbStore(db);
        let inTurn = 0;
        let most = 0;
        const tsdb: typeof real = {
          ...real,
          seriesKeys(...args) {
            most = Math.max(most, ++inTurn);
            return real.seriesKeys(...args);
          },
        };
        const service = serviceOn(tsdb, () => t);
        let ticking = true;
        const tick = () => {
          inTurn = 0;
          if (ticking) setImmediate(tick);
        };
        try {
          await Promise.all(
            fleet.map((id) =>
              service.ingest({ agentId: `a-${id}`, hostId: id }, t + 5_000, fixture()),
            ),
          );
          t = t1 + 60_000 + 15_000 + 1;
          most = 0;
          tick();
          await service.runRollups();
          assert.ok(most >= 1, 'the head positions were looked up');
          assert.ok(most <= 50, `${most} lookups in one turn of the event loop`);
        } finally {
          ticking = false;
          await service.close();
        }
      });
    });
  });
}

describe('history figures', () => {
  test('dec2 writes two decimal places exactly as JSON would the rounded number', () => {
    const rand = rng(7);
    const cases = [0, 1, -1, 0.005, -0.005, 0.1, 99.999, 1e12 + 0.37, -47.8666, 1e300, 123.456];
    for (let i = 0; i < 2000; i++) cases.push((rand() - 0.5) * 10 ** Math.floor(rand() * 12));
    // One writer for all: its buffer grows as it fills, and every figure must come out whole.
    const w = new JsonWriter(16);
    const expected: string[] = [];
    for (const v of cases) {
      w.dec2(v).text(' ');
      expected.push(JSON.stringify(Math.round(v * 100) / 100));
    }
    w.dec2(NaN).text(' ').dec2(-Infinity).text(' ');
    expected.push('null', 'null');
    const written = w.result().toString('utf8').trimEnd().split(' ');
    assert.equal(written.length, expected.length);
    written.forEach((t, i) => assert.equal(t, expected[i], `${cases[i]}`));
  });
});

describe('history time stamps', () => {
  test('bucket times are written as toISOString does, across days and years', () => {
    const w = new JsonWriter(16);
    const rand = rng(3);
    const times: number[] = [];
    for (let t = Date.parse('2025-12-31T22:00:00Z'), i = 0; i < 5000; i++)
      times.push((t += Math.floor(rand() * 3600) * 1000));
    times.push(Date.parse('2026-01-01T00:00:00.250Z'));
    for (const t of times) w.time(t).text(',');
    assert.deepEqual(
      JSON.parse(`[${w.result().toString('utf8').slice(0, -1)}]`),
      times.map((t) => new Date(t).toISOString()),
    );
  });
});
