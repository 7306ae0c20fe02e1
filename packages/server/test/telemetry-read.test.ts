// Over 500 lines: one suite per database kind, each on one server harness; split files would
// each start their own servers (and PostgreSQL databases) again.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { createVigil, type Vigil } from '../src/app.js';
import { systemContext } from '../src/audit/service.js';
import { loadConfig } from '../src/config/config.js';
import { openDb, type Db } from '../src/db/connection.js';
import { packValues, unpackValues } from '../src/telemetry/tsdb/format.js';
import { databaseKinds, type DatabaseKind } from '../../../test/support/databases.js';
import { ADMIN_PASSWORD, startHarness, type Harness } from '../../../test/support/harness.js';
import { CHECKDATA_FIXTURE as FIXTURE } from '../../../test/support/fixtures.js';

const fixture = () => JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

/** A document with the given CPU figure. */
function doc(cpu: number) {
  const base = fixture();
  return { ...base, cpu: { ...(base.cpu as object), cpu_total_percentage: cpu } };
}

/** The first time past what a JavaScript Date can hold. */
const PAST_DATES = 8_640_000_000_000_001;

/**
 * Server processes one after another on one database, as restarts leave it: the first on the
 * database as created, each later one on a connection of its own. `start` opens the next one,
 * `stop` closes the running one, `drop` closes it and removes the database.
 */
async function restartable(kind: DatabaseKind, now: () => number) {
  const created = await kind.create();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-restart-'));
  const config = loadConfig({
    file: path.join(dir, 'absent.toml'),
    fileRequired: false,
    env: { VIGIL_STORAGE_DATA_DIR: dir, VIGIL_SERVER_TLS: 'off' },
  });
  let running: Vigil | undefined;
  let started = 0;
  return {
    async start(): Promise<{ vigil: Vigil; token: string }> {
      const db: Db =
        started++ === 0
          ? created.db
          : created.sqliteFile
            ? openDb({ sqliteFile: created.sqliteFile })
            : openDb({ url: created.url!, poolMax: 5 });
      const vigil = await createVigil({ config, logger: pino({ level: 'silent' }), db, now });
      running = vigil;
      await vigil.identity.ensureFirstAdmin(ADMIN_PASSWORD, systemContext('test'));
      const login = await vigil.http.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'admin', password: ADMIN_PASSWORD },
      });
      return { vigil, token: login.json().access_token as string };
    },
    async stop() {
      await running?.close();
      running = undefined;
    },
    async drop() {
      await running?.close().catch(() => undefined);
      await created.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

for (const kind of await databaseKinds()) {
  /** A host named `name` with approved native agents `agents`. */
  const addHost = async (
    h: { vigil: Vigil },
    id: string,
    name: string,
    agents: string[],
    at = 0,
  ) => {
    const db = h.vigil.db.kysely;
    await db
      .insertInto('hosts')
      .values({ id, name, address: null, created_at: at, updated_at: at })
      .execute();
    for (const agent of agents)
      await db
        .insertInto('agents')
        .values({
          id: agent,
          name: agent,
          host_id: id,
          kind: 'native',
          approval: 'approved',
          interval_seconds: 10,
          registered_at: at,
          updated_at: at,
        })
        .execute();
  };

  describe(`reading stored telemetry of any shape on ${kind.name}`, () => {
    const t = Date.parse('2026-12-02T10:00:00Z');
    let h: Harness;
    let token: string;
    // What a time column may hold after older versions or hand edits: past the Date range,
    // on SQLite also a huge float and text.
    const badTimes: unknown[] =
      kind.name === 'sqlite'
        ? [PAST_DATES, 1e300, 'yesterday']
        : [PAST_DATES, '9223372036854775807'];

    before(async () => {
      h = await startHarness(kind, { now: () => t + 60_000 });
      token = await h.login();
      const db = h.vigil.db.kysely;
      await addHost(h, 'good', 'Good, "quoted" host', ['a-good']);
      await addHost(h, 'odd', 'Odd host', ['a-odd', 'a-odd2']);
      await addHost(h, 'only-bad', 'Only bad', ['a-only-bad']);
      await h.vigil.telemetry.ingest({ agentId: 'a-good', hostId: 'good' }, t, doc(12.5));
      // The other hosts' rows are written straight into the database, as a process that never
      // saw them would find them.
      const sample = await db
        .selectFrom('samples')
        .select(['layout_id', 'vals'])
        .executeTakeFirstOrThrow();
      const vals = Float64Array.from(unpackValues(sample.vals));
      vals[0] = NaN;
      vals[1] = Infinity;
      vals[2] = 1e300;
      const document = await db
        .selectFrom('agent_documents')
        .select('document')
        .executeTakeFirstOrThrow();
      for (const hostId of ['odd', 'only-bad']) {
        const key = Number(
          (
            await db
              .insertInto('host_keys')
              .values({ host_id: hostId })
              .returning('id')
              .executeTakeFirstOrThrow()
          ).id,
        );
        const rows = badTimes.map((ts) => ({ ts, vals: sample.vals }));
        if (hostId === 'odd') rows.push({ ts: t - 10_000, vals: packValues(vals) });
        for (const r of rows)
          await db
            .insertInto('samples')
            .values({
              host_key: key,
              ts: r.ts as number,
              layout_id: Number(sample.layout_id),
              vals: r.vals,
            })
            .execute();
      }
      const documents: [string, unknown, unknown, string][] = [
        ['a-odd', badTimes[0], badTimes[1], 'not JSON {'],
        ['a-odd2', t - 20_000, t - 19_000, document.document],
        ['a-only-bad', badTimes[badTimes.length - 1], badTimes[0], '[1, 2]'],
      ];
      for (const [agent, collected, received, text] of documents)
        await db
          .insertInto('agent_documents')
          .values({
            agent_id: agent,
            collected_at: collected as number,
            received_at: received as number,
            document: text,
          })
          .execute();
      await db
        .insertInto('check_states')
        .values({
          host_id: 'odd',
          name: 'check_load',
          state: 0,
          state_type: 'hard',
          attempt: 1,
          hard_state: 0,
          last_check: PAST_DATES,
          last_state_change: t,
          last_hard_change: t,
          output: 'OK',
          perfdata: 'not a list',
        })
        .execute();
    });
    after(() => h.close());

    const get = (url: string) => h.inject({ method: 'GET', url, headers: bearer(token) });

    test('the metrics export answers in full, each row with its host name, whatever is stored', async () => {
      const json = await get('/api/v1/export/metrics');
      assert.equal(json.statusCode, 200);
      const body = JSON.parse(json.body) as {
        hosts: {
          host_id: string;
          host_name: string;
          agent_id: string | null;
          timestamp: string | null;
          metrics: Record<string, number | null>;
        }[];
      };
      assert.deepEqual(
        body.hosts.map((x) => [x.host_id, x.host_name]),
        [
          ['good', 'Good, "quoted" host'],
          ['odd', 'Odd host'],
        ],
        'a host whose only samples have no usable time is left out',
      );
      const [good, odd] = body.hosts;
      assert.equal(good!.timestamp, new Date(t).toISOString());
      assert.equal(good!.metrics.cpu_usage_percent, 12.5);
      // The newest sample with a time a Date can hold; figures that are not finite are null.
      assert.equal(odd!.timestamp, new Date(t - 10_000).toISOString());
      const figures = Object.values(odd!.metrics);
      assert.deepEqual(figures.slice(0, 3), [null, null, 1e300]);

      const csv = await get('/api/v1/export/metrics?format=csv');
      assert.equal(csv.statusCode, 200);
      const lines = csv.body.trimEnd().split('\r\n');
      assert.equal(lines[0], 'host_id,host_name,agent_id,timestamp,series,metric,value');
      assert.ok(
        lines[1]!.startsWith(`good,"Good, ""quoted"" host",a-good,${new Date(t).toISOString()},`),
      );
      const oddLines = lines.filter((l) => l.startsWith('odd,Odd host,'));
      assert.equal(oddLines.length, figures.length);
      assert.deepEqual(
        oddLines.slice(0, 3).map((l) => l.slice(l.lastIndexOf(',') + 1)),
        ['', '', '1e+300'],
      );

      const one = await get('/api/v1/export/metrics?host_id=odd');
      assert.equal(one.statusCode, 200);
      assert.equal(JSON.parse(one.body).hosts[0].host_name, 'Odd host');
    });

    test('system facts come from the newest document with a usable time; odd ones read as null', async () => {
      const odd = await get('/api/v1/hosts/odd/system-info');
      assert.equal(odd.statusCode, 200, odd.body);
      assert.equal(odd.json().agent_id, 'a-odd2');
      assert.equal(odd.json().collected_at, new Date(t - 20_000).toISOString());
      assert.equal(
        odd.json().hostname,
        ((fixture().agent as Record<string, unknown>).hostname as string) ?? null,
      );

      const bad = await get('/api/v1/hosts/only-bad/system-info');
      assert.equal(bad.statusCode, 200, bad.body);
      assert.equal(bad.json().agent_id, 'a-only-bad');
      assert.equal(bad.json().collected_at, null);
      assert.equal(bad.json().received_at, null);
      assert.equal(bad.json().hostname, null, 'a document that is not an object has no facts');
      assert.deepEqual(bad.json().disks, []);
    });

    test("a check's stored times and perfdata that cannot be read are null and empty", async () => {
      const res = await get('/api/v1/hosts/odd/checks');
      assert.equal(res.statusCode, 200, res.body);
      const [c] = res.json().checks;
      assert.equal(c.last_check, null);
      assert.equal(c.last_state_change, new Date(t).toISOString());
      assert.deepEqual(c.perfdata, []);
    });

    test('a time a Date holds, however far ahead, is shown as it is', async () => {
      // Year 2100 is a time a Date holds: it is shown as it is.
      const year2100 = Date.parse('2100-01-01T00:00:00Z');
      await h.vigil.db.kysely
        .updateTable('agent_documents')
        .set({ collected_at: year2100 })
        .where('agent_id', '=', 'a-good')
        .execute();
      const res = await get('/api/v1/hosts/good/system-info');
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().collected_at, '2100-01-01T00:00:00.000Z');
    });
  });

  test(`a stored document damaged far into the future gives way to the next push on ${kind.name}`, async () => {
    const t = Date.parse('2026-12-02T10:00:00Z');
    const h = await startHarness(kind, {
      now: () => t + 60_000,
      env: { VIGIL_TELEMETRY_DOCUMENT_FLUSH_SECONDS: '0' },
    });
    try {
      await addHost(h, 'damaged', 'Damaged', ['a-damaged']);
      await h.vigil.telemetry.ingest({ agentId: 'a-damaged', hostId: 'damaged' }, t, doc(1));
      // A time written before ingest refused such times: past the Date range.
      await h.vigil.db.kysely
        .updateTable('agent_documents')
        .set({ collected_at: PAST_DATES })
        .where('agent_id', '=', 'a-damaged')
        .execute();
      await h.vigil.telemetry.ingest(
        { agentId: 'a-damaged', hostId: 'damaged' },
        t + 30_000,
        doc(2),
      );
      const res = await h.inject({
        method: 'GET',
        url: '/api/v1/hosts/damaged/system-info',
        headers: { authorization: `Bearer ${await h.login()}` },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().collected_at, new Date(t + 30_000).toISOString());
    } finally {
      await h.close();
    }
  });

  describe(`history with buckets not rolled up yet on ${kind.name}`, () => {
    const hour = Date.parse('2026-12-02T10:00:00Z');
    // Pushes are taken up to the present: the clock starts after the last one.
    let clock = hour + 25 * 60_000;
    let h: Harness;
    let token: string;
    const cpuAt = (i: number) => 10 + (i % 7);

    before(async () => {
      h = await startHarness(kind, { now: () => clock });
      await addHost(h, 'live', 'Live', ['a-live'], hour);
      // 25 minutes of pushes every 10 s, the last at 10:24:50.
      await Promise.all(
        Array.from({ length: 150 }, (_, i) =>
          h.vigil.telemetry.ingest(
            { agentId: 'a-live', hostId: 'live' },
            hour + i * 10_000,
            doc(cpuAt(i)),
          ),
        ),
      );
      token = await h.login();
    });
    after(() => h.close());

    type Point = {
      timestamp: string;
      partial?: true;
      cpu?: { avg: number; min: number; max: number };
    };
    const history = async (q: string): Promise<{ resolution: string; data: Point[] }> => {
      const res = await h.inject({
        method: 'GET',
        url: `/api/v1/history?host_id=live&${q}`,
        headers: bearer(token),
      });
      assert.equal(res.statusCode, 200, res.body);
      return res.json();
    };
    const all = Array.from({ length: 150 }, (_, i) => cpuAt(i));
    const round2 = (v: number) => Math.round(v * 100) / 100;

    test('the open bucket is in the answer, marked partial, with the figures so far', async () => {
      // A week: `auto` picks 1h, and the hour still open is its last point.
      const week = await history(
        `from=${new Date(clock - 7 * 86_400_000).toISOString()}&resolution=auto`,
      );
      assert.equal(week.resolution, '1h');
      const last = week.data[week.data.length - 1]!;
      assert.equal(last.timestamp, new Date(hour).toISOString());
      assert.equal(last.partial, true);
      assert.deepEqual(last.cpu, {
        avg: round2(all.reduce((a, b) => a + b, 0) / all.length),
        min: Math.min(...all),
        max: Math.max(...all),
      });
      const fine = await history(`from=${new Date(hour).toISOString()}&resolution=1m`);
      assert.equal(fine.data.length, 25, 'a point per minute with pushes');
      assert.ok(fine.data.every((p) => p.partial === true));
      const raw = await history(`from=${new Date(hour).toISOString()}&resolution=raw`);
      assert.ok(
        raw.data.every((p) => !('partial' in p)),
        'raw points are never partial',
      );
    });

    test('once buckets are rolled up they are stored points, and none is given twice', async () => {
      // With the 15 s grace: the 1m buckets to 10:24 are rolled up, the 5m ones to 10:20.
      clock = hour + 25 * 60_000 + 5_000;
      while ((await h.vigil.telemetry.runRollups(1000)) > 0);
      token = await h.login();
      for (const [res, size] of [
        ['1m', 60_000],
        ['5m', 300_000],
        ['1h', 3_600_000],
      ] as const) {
        const got = await history(`from=${new Date(hour).toISOString()}&resolution=${res}`);
        const times = got.data.map((p) => Date.parse(p.timestamp));
        assert.deepEqual(
          times,
          Array.from({ length: Math.ceil((25 * 60_000) / size) }, (_, i) => hour + i * size),
          `${res}: every bucket once, in order`,
        );
        // Rolled up: 24 buckets of 1m, 4 of 5m; the hour is still open.
        const rolled = res === '1m' ? 24 : res === '5m' ? 4 : 0;
        assert.deepEqual(
          got.data.map((p) => p.partial === true),
          times.map((_, i) => i >= rolled),
          `${res}: partial exactly where not rolled up`,
        );
        for (const [i, p] of got.data.entries()) {
          const values = all.slice((i * size) / 10_000, ((i + 1) * size) / 10_000);
          assert.equal(p.cpu!.max, Math.max(...values), `${res} ${p.timestamp} max`);
          assert.equal(p.cpu!.min, Math.min(...values), `${res} ${p.timestamp} min`);
        }
      }
    });

    test('a long recent window: rolled-up minutes at their middles, raw points around them', async () => {
      // As the last test left it: the 1m buckets to 10:24 are rolled up.
      const cpu = (await h.vigil.telemetry.series('live')).find(
        (s) => s.key === 'cpu_usage_percent',
      )!;
      // A host's series of some metrics only: the metric itself, or with labels.
      const every = await h.vigil.telemetry.series('live');
      const some = ['cpu_usage_percent', 'disk_used_bytes', 'load'];
      const narrowed = await h.vigil.telemetry.series('live', some);
      assert.deepEqual(
        narrowed,
        every.filter((s) => some.some((m) => s.key === m || s.key.startsWith(`${m}{`))),
      );
      assert.ok(narrowed.some((s) => s.key.startsWith('disk_used_bytes{')));
      assert.ok(!narrowed.some((s) => s.key.startsWith('load1')), 'load1 is another metric');
      assert.deepEqual(await h.vigil.telemetry.series('live', []), []);
      const points = await h.vigil.telemetry.recentHistory('live', hour + 30_000, clock, [cpu.id]);
      const got = points.map((p) => [p.timestamp - hour, p.values.get(cpu.id)!.avg]);
      const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
      const want = [
        // Raw: the half minute before the first whole bucket.
        ...[3, 4, 5].map((i) => [i * 10_000, all[i]!]),
        // Rolled up: 10:01 to 10:23, each at its middle with the minute's average.
        ...Array.from({ length: 23 }, (_, k) => [
          (k + 1) * 60_000 + 30_000,
          mean(all.slice((k + 1) * 6, (k + 2) * 6)),
        ]),
        // Raw: the minute not rolled up yet.
        ...[144, 145, 146, 147, 148, 149].map((i) => [i * 10_000, all[i]!]),
      ];
      assert.equal(got.length, want.length);
      for (const [n, [t, v]] of want.entries()) {
        assert.equal(got[n]![0], t, `point ${n}: time`);
        assert.ok(Math.abs(got[n]![1]! - v!) < 1e-9, `point ${n}: ${got[n]![1]} is not ${v}`);
      }
    });
  });

  describe(`reads after a server restart on ${kind.name}`, () => {
    const hour = Date.parse('2026-12-02T10:00:00Z');
    let clock = hour + 3 * 60_000;
    let servers: Awaited<ReturnType<typeof restartable>>;
    let second: { vigil: Vigil; token: string };
    /** CPU figures of the pushes before the restart, every 10 s from 10:00:00 to 10:02:50. */
    const earlier = Array.from({ length: 18 }, (_, i) => 10 + (i % 5));
    const iso = (ms: number) => new Date(ms).toISOString();
    const round2 = (v: number) => Math.round(v * 100) / 100;
    const figures = (v: number[]) => ({
      avg: round2(v.reduce((a, b) => a + b, 0) / v.length),
      min: Math.min(...v),
      max: Math.max(...v),
    });

    before(async () => {
      servers = await restartable(kind, () => clock);
      const first = await servers.start();
      await addHost(first, 'carry', 'Carry', ['a-carry'], hour);
      await addHost(first, 'pair', 'Pair', ['a-pair1', 'a-pair2'], hour);
      await addHost(first, 'quiet', 'Quiet', ['a-quiet1', 'a-quiet2'], hour);
      const telemetry = first.vigil.telemetry;
      await Promise.all(
        earlier.map((cpu, i) =>
          telemetry.ingest({ agentId: 'a-carry', hostId: 'carry' }, hour + i * 10_000, doc(cpu)),
        ),
      );
      // Of two agents, the one that reported last is the host's.
      await telemetry.ingest({ agentId: 'a-pair1', hostId: 'pair' }, hour, doc(1));
      await telemetry.ingest({ agentId: 'a-pair2', hostId: 'pair' }, hour + 60_000, doc(2));
      await telemetry.ingest({ agentId: 'a-quiet1', hostId: 'quiet' }, hour, doc(3));
      // The 1m buckets to 10:02 are rolled up; no 5m or 1h bucket has ended.
      while ((await telemetry.runRollups(1000)) > 0);
      await servers.stop();
      clock = hour + 4 * 60_000;
      second = await servers.start();
      // A host whose agents' documents are gone: its agent heard from last is the one named.
      await second.vigil.db.kysely
        .deleteFrom('agent_documents')
        .where('agent_id', 'like', 'a-quiet%')
        .execute();
    });
    after(() => servers.drop());

    const get = (url: string) =>
      second.vigil.http.inject({ method: 'GET', url, headers: bearer(second.token) });
    type Point = {
      timestamp: string;
      partial?: true;
      cpu?: { avg: number; min: number; max: number };
    };
    const push = (at: number, cpu: number) =>
      second.vigil.telemetry.ingest({ agentId: 'a-carry', hostId: 'carry' }, at, doc(cpu));
    const history = async (q: string): Promise<Point[]> => {
      const res = await get(`/api/v1/history?host_id=carry&metrics=cpu&from=${iso(hour)}&${q}`);
      assert.equal(res.statusCode, 200, res.body);
      return (res.json() as { data: Point[] }).data;
    };

    test('the metrics export names the agent that reported for each host', async () => {
      const json = await get('/api/v1/export/metrics');
      assert.equal(json.statusCode, 200);
      assert.deepEqual(
        (
          JSON.parse(json.body) as { hosts: { host_id: string; agent_id: string | null }[] }
        ).hosts.map((x) => [x.host_id, x.agent_id]),
        [
          ['carry', 'a-carry'],
          ['pair', 'a-pair2'],
          ['quiet', 'a-quiet1'],
        ],
      );
      const csv = await get('/api/v1/export/metrics?format=csv');
      const lines = csv.body.trimEnd().split('\r\n').slice(1);
      assert.ok(lines.length > 3);
      for (const line of lines)
        assert.match(line, /^(carry,Carry,a-carry|pair,Pair,a-pair2|quiet,Quiet,a-quiet1),/);
      const one = await get('/api/v1/export/metrics?host_id=pair');
      assert.equal(JSON.parse(one.body).hosts[0].agent_id, 'a-pair2');
    });

    test('buckets begun before the restart hold what was stored before it, partial', async () => {
      for (const resolution of ['5m', '1h'])
        assert.deepEqual(
          await history(`resolution=${resolution}`),
          [{ timestamp: iso(hour), cpu: figures(earlier), partial: true }],
          resolution,
        );
      // Minutes: two rolled up before the restart, the third not.
      assert.deepEqual(await history('resolution=1m'), [
        { timestamp: iso(hour), cpu: figures(earlier.slice(0, 6)) },
        { timestamp: iso(hour + 60_000), cpu: figures(earlier.slice(6, 12)) },
        { timestamp: iso(hour + 120_000), cpu: figures(earlier.slice(12)), partial: true },
      ]);
    });

    test('pushes after the restart, a late one too, are counted once, before and after rollup', async () => {
      const later = [50, 51, 52, 53, 54, 55];
      clock = hour + 5 * 60_000 - 1_000;
      for (const [i, cpu] of later.entries()) await push(hour + 4 * 60_000 + i * 10_000, cpu);
      // Into a minute the first process had rolled up.
      await push(hour + 5_000, 90);
      const all = [...earlier, ...later, 90];
      for (const resolution of ['5m', '1h'])
        assert.deepEqual(
          await history(`resolution=${resolution}`),
          [{ timestamp: iso(hour), cpu: figures(all), partial: true }],
          resolution,
        );

      clock = hour + 5 * 60_000 + 20_000;
      while ((await second.vigil.telemetry.runRollups(1000)) > 0);
      assert.deepEqual(await history('resolution=5m'), [
        { timestamp: iso(hour), cpu: figures(all) },
      ]);
      assert.deepEqual(await history('resolution=1h'), [
        { timestamp: iso(hour), cpu: figures(all), partial: true },
      ]);
      const minutes = await history('resolution=1m');
      assert.deepEqual(
        minutes[0],
        { timestamp: iso(hour), cpu: figures([...earlier.slice(0, 6), 90]) },
        'the late push reached the minute it belongs to',
      );
      assert.ok(minutes.every((p) => !p.partial));
    });

    test('a late push first thing after a restart marks its rolled-up bucket for another pass', async () => {
      await servers.stop();
      second = await servers.start();
      await push(hour + 15_000, 95);
      while ((await second.vigil.telemetry.runRollups(1000)) > 0);
      const all = [...earlier, 50, 51, 52, 53, 54, 55, 90, 95];
      assert.deepEqual((await history('resolution=1m'))[0], {
        timestamp: iso(hour),
        cpu: figures([...earlier.slice(0, 6), 90, 95]),
      });
      assert.deepEqual(await history('resolution=5m'), [
        { timestamp: iso(hour), cpu: figures(all) },
      ]);
      assert.deepEqual(await history('resolution=1h'), [
        { timestamp: iso(hour), cpu: figures(all), partial: true },
      ]);
    });
  });

  describe(`process requests without agent_id on ${kind.name}`, () => {
    let h: Harness;
    let token: string;

    before(async () => {
      h = await startHarness(kind, { env: { VIGIL_AGENTS_COMMAND_TIMEOUT_SECONDS: '2' } });
      token = await h.login();
    });
    after(() => h.close());

    const api = (method: 'GET' | 'POST', url: string, payload?: object) =>
      h.inject({ method, url, headers: bearer(token), payload });

    test('none approved: 400 saying so', async () => {
      const res = await api('GET', '/api/v1/processes/42');
      assert.equal(res.statusCode, 400, res.body);
      assert.match(res.json().error.human_message, /agent_id is required.*no agent is approved/);
    });

    test('one approved agent: it is the one asked, for the detail and for a signal', async () => {
      await addHost(h, 'solo-host', 'Solo', ['solo']);
      const row = (await h.vigil.agents.row('solo'))!;
      const detail = api('GET', '/api/v1/processes/42');
      const [cmd] = await h.vigil.commands.waitCommands(row, 2000, new AbortController().signal);
      assert.deepEqual(
        { kind: cmd?.kind, pid: (cmd as { pid?: number })?.pid },
        {
          kind: 'process.get',
          pid: 42,
        },
      );
      h.vigil.commands.completeCommand(row, cmd!.id, {
        ok: false,
        failure: 'no_such_process',
        message: 'no such process',
      });
      assert.equal((await detail).statusCode, 404);

      const signal = api('POST', '/api/v1/processes/43/signal', { signal: 15 });
      const [sig] = await h.vigil.commands.waitCommands(row, 2000, new AbortController().signal);
      assert.equal(sig?.kind, 'process.signal');
      h.vigil.commands.completeCommand(row, sig!.id, { ok: true });
      const res = await signal;
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().agent_id, 'solo');
    });

    test('several approved agents: 400 listing them; naming one still works', async () => {
      await addHost(h, 'duo-host', 'Duo', ['duo']);
      for (const [method, url, payload] of [
        ['GET', '/api/v1/processes/42', undefined],
        ['POST', '/api/v1/processes/42/signal', { signal: 15 }],
      ] as const) {
        const res = await api(method, url, payload);
        assert.equal(res.statusCode, 400, res.body);
        assert.equal(res.json().error.code, 'validation_failed');
        assert.match(res.json().error.human_message, /agent_id is required/);
        assert.match(res.json().error.human_message, /\bsolo\b/);
        assert.match(res.json().error.human_message, /\bduo\b/);
      }
    });
  });
}
