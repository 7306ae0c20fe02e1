import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';
import { CHECKDATA_FIXTURE as FIXTURE } from '../../../test/support/fixtures.js';

const promtool = spawnSync('promtool', ['--version']).status === 0;

/** Runs `promtool check metrics` on an exposition; returns its complaints. */
function promtoolCheck(text: string): { ok: boolean; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

const [sqlite] = await databaseKinds();

describe('GET /metrics', () => {
  let h: Harness;
  let token: string;
  before(async () => {
    if (!promtool && process.env.CI === 'true')
      throw new Error('promtool (Debian package prometheus) is required under CI');
    h = await startHarness(sqlite!, { env: { VIGIL_TELEMETRY_EXPOSE_HOST_METRICS: 'true' } });
    token = await h.login();
    await h.vigil.db.kysely
      .insertInto('hosts')
      .values({ id: 'host-m', name: 'm', address: null, created_at: 0, updated_at: 0 })
      .execute();
    await h.vigil.db.kysely
      .insertInto('agents')
      .values({
        id: 'agent-m',
        name: 'm',
        host_id: 'host-m',
        kind: 'native',
        approval: 'approved',
        interval_seconds: 10,
        registered_at: 0,
        updated_at: 0,
      })
      .execute();
    await h.vigil.telemetry.ingest(
      { agentId: 'agent-m', hostId: 'host-m' },
      Date.now(),
      JSON.parse(readFileSync(FIXTURE, 'utf8')),
    );
  });
  after(() => h.close());

  test("server health and the fleet's latest values, in valid exposition format", async (t) => {
    const res = await h.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
    for (const name of [
      'vigil_ingest_pushes_total 1',
      'vigil_ingest_samples_total',
      'vigil_ingest_queue_depth 0',
      'vigil_alert_evaluations_total 1',
      'vigil_logs_lines_total 0',
      'vigil_logs_queue_depth 0',
      'vigil_alert_evaluation_seconds_total',
      'vigil_db_commit_duration_seconds_bucket',
      'vigil_http_request_duration_seconds_count',
      'vigil_stream_clients 0',
      'vigil_agents{status="online"} 1',
      'vigil_host_cpu_usage_percent{host_id="host-m"}',
      'vigil_host_disk_usage_percent{host_id="host-m",mount="/"}',
      '# TYPE vigil_host_net_rx_bytes_total counter',
      'vigil_host_net_rx_bytes_total{host_id="host-m",interface="eth0"}',
    ])
      assert.ok(res.body.includes(name), `${name} is exposed`);
    if (!promtool) return t.skip('promtool is not installed (Debian package prometheus)');
    const check = promtoolCheck(res.body);
    assert.ok(check.ok, check.output);
  });

  test('a blocked event loop shows in nodejs_eventloop_delay_seconds', async () => {
    /** Ticks the loop ran later than 100 ms, and all ticks so far. */
    const late = async () => {
      const res = await h.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${token}` },
      });
      const value = (series: string) => {
        const m = new RegExp(`^nodejs_eventloop_delay_seconds${series} (\\d+)$`, 'm').exec(
          res.body,
        );
        assert.ok(m, `${series} is exposed`);
        return Number(m[1]);
      };
      const count = value('_count');
      return { over100ms: count - value('_bucket\\{le="0\\.1"\\}'), count };
    };
    // Some ticks first, so that the watch is running.
    await new Promise((r) => setTimeout(r, 100));
    const before = await late();
    assert.ok(before.count > 0);
    const until = performance.now() + 300;
    while (performance.now() < until); // holds the loop, as a long synchronous job would
    await new Promise((r) => setTimeout(r, 60));
    const after = await late();
    assert.ok(after.over100ms >= before.over100ms + 1, JSON.stringify({ before, after }));
  });

  test('needs metrics:read: 401 without a token', async () => {
    const res = await h.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 401);
  });
});
