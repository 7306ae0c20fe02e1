import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../../../test/support/databases.js';
import { CHECKDATA_FIXTURE as FIXTURE } from '../../../test/support/fixtures.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const fixture = () => JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;

/** A document with the given CPU figure, root file system usage and custom check results. */
function doc(cpu: number, rootPercent: number, checks: Record<string, unknown> = {}) {
  const base = fixture();
  return {
    cpu: { ...(base.cpu as object), cpu_total_percentage: cpu },
    disks: [
      {
        disk: { device: '/dev/a', mountpoint: '/', fstype: 'ext4', opts: [] },
        usage: { total: 100, used: rootPercent, free: 100 - rootPercent, percent: rootPercent },
      },
    ],
    ...(Object.keys(checks).length > 0 ? { customchecks: checks } : {}),
  };
}

const BUILTINS = [
  'builtin-cpu',
  'builtin-memory',
  'builtin-disk',
  'builtin-check',
  'builtin-check-flapping',
  'builtin-agent-offline',
  'builtin-cert-expiry',
  'builtin-host-unreachable',
  'builtin-disk-forecast',
];

for (const kind of await databaseKinds()) {
  describe(`alert rules on ${kind.name}`, () => {
    const start = Date.parse('2026-11-20T00:00:00Z');
    let clock = start;
    let h: Harness;
    let admin: string;

    const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
      h.inject({
        method,
        url,
        headers: bearer(admin),
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
    const addHost = async (id: string, tags: string[] = []) => {
      await h.vigil.db.kysely
        .insertInto('hosts')
        .values({
          id,
          name: id,
          address: null,
          created_at: start,
          updated_at: start,
          tags: JSON.stringify(tags),
        } as never)
        .execute();
      await h.vigil.db.kysely
        .insertInto('agents')
        .values({
          id: `a-${id}`,
          name: id,
          host_id: id,
          kind: 'native',
          approval: 'approved',
          interval_seconds: 10,
          registered_at: start,
          updated_at: start,
        })
        .execute();
    };
    const push = (hostId: string, at: number, body: Record<string, unknown>) => {
      clock = at;
      return h.vigil.telemetry.ingest({ agentId: `a-${hostId}`, hostId }, at, body);
    };
    const alertsOf = async (hostId: string, state = 'all') => {
      const res = await call('GET', `/api/v1/alerts?host_id=${hostId}&state=${state}`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json().items as {
        rule_id: string;
        rule_name: string | null;
        host_name: string | null;
        state: string;
        severity: string;
        labels: Record<string, string>;
        value: number | null;
      }[];
    };

    before(async () => {
      h = await startHarness(kind, {
        now: () => clock,
        env: {
          VIGIL_AGENTS_MAX_CLOCK_SKEW_SECONDS: '86400',
          VIGIL_AUTH_ACCESS_TOKEN_TTL_SECONDS: '86400',
        },
      });
      admin = await h.login();
      await addHost('web-1', ['web']);
      await addHost('db-1', ['db']);
    });
    after(() => h.close());

    test('the built-in rules are there and cannot be deleted, only tuned and disabled', async () => {
      const list = (await call('GET', '/api/v1/alerts/rules')).json();
      assert.deepEqual(list.items.map((r: { id: string }) => r.id).sort(), [...BUILTINS].sort());
      assert.ok(list.items.every((r: { builtin: boolean }) => r.builtin));
      const cert = list.items.find((r: { id: string }) => r.id === 'builtin-cert-expiry');
      assert.equal(cert.warning, 14);
      assert.equal(cert.critical, 3);
      const del = await call('DELETE', '/api/v1/alerts/rules/builtin-cpu');
      assert.equal(del.statusCode, 409);
      assert.equal(del.json().error.code, 'rule.builtin');
      const kindChange = await call('PATCH', '/api/v1/alerts/rules/builtin-cpu', {
        metric: 'load1',
      });
      assert.equal(kindChange.statusCode, 400, kindChange.body);
      assert.match(kindChange.json().error.human_message, /^metric:/);
      const off = await call('PATCH', '/api/v1/alerts/rules/builtin-memory', {
        enabled: false,
        for_seconds: 120,
      });
      assert.equal(off.statusCode, 200, off.body);
      assert.equal(off.json().enabled, false);
      assert.equal(off.json().for_seconds, 120);
      assert.equal(off.json().builtin, true);
    });

    test('CRUD, and every bad input a 400 naming its field', async () => {
      const bad = async (body: Record<string, unknown>, field: RegExp) => {
        const res = await call('POST', '/api/v1/alerts/rules', body);
        assert.equal(res.statusCode, 400, `${JSON.stringify(body)}: ${res.body}`);
        assert.match(res.json().error.human_message, field, JSON.stringify(body));
      };
      const ok = { name: 'Load', metric: 'load1', warning: 4 };
      await bad({ ...ok, metric: undefined }, /metric/);
      await bad({ ...ok, metric: 'load 1' }, /metric/);
      await bad({ ...ok, comparator: '=' }, /comparator/);
      await bad({ ...ok, warning: undefined }, /warning/);
      await bad({ ...ok, critical: 2 }, /critical/);
      await bad({ ...ok, matchers: { core: { op: '=~', value: '(' } } }, /matchers\.core/);
      await bad({ ...ok, scope: { hosts: ['x'] } }, /scope/);
      await bad({ ...ok, for_seconds: -5 }, /for_seconds/);
      await bad({ ...ok, kind: 'nope' }, /kind/);
      await bad({ ...ok, surprise: 1 }, /surprise|additional/i);
      await bad({ name: 'F', kind: 'disk_forecast', params: { hours: -1 } }, /params\.hours/);

      const created = await call('POST', '/api/v1/alerts/rules', {
        ...ok,
        critical: 8,
        matchers: { core: { op: '!=', value: '0' } },
      });
      assert.equal(created.statusCode, 201, created.body);
      const rule = created.json();
      assert.equal(rule.comparator, '>');
      assert.equal(rule.builtin, false);
      assert.deepEqual((await call('GET', `/api/v1/alerts/rules/${rule.id}`)).json(), rule);
      const patched = await call('PATCH', `/api/v1/alerts/rules/${rule.id}`, { warning: 9 });
      assert.equal(patched.statusCode, 400, 'warning past critical');
      const renamed = await call('PATCH', `/api/v1/alerts/rules/${rule.id}`, { name: 'Load 1' });
      assert.equal(renamed.json().name, 'Load 1');
      assert.equal((await call('DELETE', `/api/v1/alerts/rules/${rule.id}`)).statusCode, 204);
      assert.equal((await call('GET', `/api/v1/alerts/rules/${rule.id}`)).statusCode, 404);
      assert.equal((await call('DELETE', `/api/v1/alerts/rules/${rule.id}`)).statusCode, 404);
    });

    test('the rules need alerts:read to read and alerts:write to change', async () => {
      const viewer = await h.userWithRoles('rules-viewer', ['viewer']);
      const get = await h.inject({
        method: 'GET',
        url: '/api/v1/alerts/rules',
        headers: bearer(viewer),
      });
      const post = await h.inject({
        method: 'POST',
        url: '/api/v1/alerts/rules',
        headers: bearer(viewer),
        payload: { name: 'x', metric: 'load1', warning: 1 },
      });
      assert.equal(post.statusCode, 403, post.body);
      assert.ok([200, 403].includes(get.statusCode));
    });

    test('a threshold breach from real pushes opens an alert after `for`, and resolves it', async () => {
      const created = await call('POST', '/api/v1/alerts/rules', {
        name: 'Root full',
        metric: 'disk_usage_percent',
        matchers: { mount: '/' },
        warning: 80,
        critical: 90,
        recovery: 70,
        for_seconds: 60,
        scope: { host_ids: ['web-1'] },
      });
      assert.equal(created.statusCode, 201, created.body);
      const id = created.json().id as string;
      const mine = async () => (await alertsOf('web-1')).filter((a) => a.rule_id === id);
      let t = start + 1000;
      await push('web-1', (t += 10_000), doc(5, 95));
      await push('db-1', t, doc(5, 95));
      assert.deepEqual(await mine(), [], 'a single spike is no alert');
      await push('web-1', (t += 30_000), doc(5, 95));
      await push('web-1', (t += 30_000), doc(5, 95));
      let open = await mine();
      assert.equal(open.length, 1);
      assert.equal(open[0]!.state, 'active');
      assert.equal(open[0]!.severity, 'critical');
      assert.deepEqual(open[0]!.labels, { mount: '/' });
      assert.equal(open[0]!.value, 95);
      assert.equal(open[0]!.rule_name, 'Root full');
      assert.equal(open[0]!.host_name, 'web-1');
      assert.deepEqual(
        (await alertsOf('db-1')).filter((a) => a.rule_id === id),
        [],
        'out of scope',
      );
      await push('web-1', (t += 10_000), doc(5, 75));
      open = await mine();
      assert.equal(open[0]!.state, 'active', 'inside the hysteresis band');
      await push('web-1', t + 10_000, doc(5, 60));
      open = await mine();
      assert.equal(open.length, 1);
      assert.equal(open[0]!.state, 'resolved');
    });

    test('a custom check opens an alert once hard, never while soft, and resolves on OK', async () => {
      let t = start + 3_600_000;
      const check = (rc: number, at: number) => ({
        flip: {
          rc,
          stdout: rc ? 'CRITICAL - down' : 'OK - up',
          execution_unix_timestamp_sec: at / 1000,
        },
      });
      const byCheck = async () =>
        (await alertsOf('db-1')).filter(
          (a) => a.rule_id === 'builtin-check' && a.labels.check === 'flip',
        );
      await push('db-1', (t += 10_000), doc(5, 50, check(0, t)));
      await push('db-1', (t += 10_000), doc(5, 50, check(2, t)));
      assert.deepEqual(await byCheck(), [], 'a soft state fires nothing');
      for (let i = 0; i < 3; i++) await push('db-1', (t += 10_000), doc(5, 50, check(2, t)));
      const open = await byCheck();
      assert.equal(open.length, 1);
      assert.equal(open[0]!.severity, 'critical');
      assert.equal(open[0]!.state, 'active');
      await push('db-1', (t += 10_000), doc(5, 50, check(0, t)));
      assert.equal((await byCheck())[0]!.state, 'resolved');
    });

    test('preview answers which hosts breach now, from stored data; nothing is stored', async () => {
      const before = (await call('GET', '/api/v1/alerts/rules')).json().total;
      const t = start + 7_200_000;
      await push('web-1', t, doc(97, 50));
      await push('db-1', t, doc(85, 50));
      const res = await call('POST', '/api/v1/alerts/rules:preview', {
        metric: 'cpu_usage_percent',
        warning: 80,
        critical: 95,
        for_seconds: 600,
      });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.ok(body.evaluated_hosts >= 2);
      const got = Object.fromEntries(
        body.items.map((i: { host_id: string; severity: string; value: number }) => [
          i.host_id,
          `${i.severity} ${i.value}`,
        ]),
      );
      assert.deepEqual(got, { 'web-1': 'critical 97', 'db-1': 'warning 85' });
      const scoped = await call('POST', '/api/v1/alerts/rules:preview', {
        metric: 'cpu_usage_percent',
        warning: 80,
        scope: { tags: ['db'] },
      });
      assert.deepEqual(
        scoped.json().items.map((i: { host_id: string }) => i.host_id),
        ['db-1'],
      );
      const bad = await call('POST', '/api/v1/alerts/rules:preview', { metric: 'cpu usage' });
      assert.equal(bad.statusCode, 400);
      assert.equal((await call('GET', '/api/v1/alerts/rules')).json().total, before);
    });

    test('overrides through host vars and templates, and scopes by template', async () => {
      const tpl = await call('POST', '/api/v1/host-templates', {
        object_name: 'alert-quiet',
        vars: { alerts: { disk: { warning: 99, critical: 99.5 } } },
      });
      assert.equal(tpl.statusCode, 201, tpl.body);
      const rule = (
        await call('POST', '/api/v1/alerts/rules', {
          name: 'Root',
          metric: 'disk_usage_percent',
          matchers: { mount: '/' },
          warning: 90,
          critical: 99,
          enabled: false,
        })
      ).json();
      const cfg = await call('PATCH', '/api/v1/hosts/web-1/config', {
        imports: ['alert-quiet'],
        vars: { alerts: { rules: { [rule.id]: { critical: 96 } } } },
      });
      assert.equal(cfg.statusCode, 200, cfg.body);
      // Changes made through this server drop the hosts' cached configuration at once.
      const t = start + 10_800_000;
      await push('web-1', t, doc(5, 97));
      await push('db-1', t, doc(5, 97));
      const preview = async (body: Record<string, unknown>) => {
        const res = await call('POST', '/api/v1/alerts/rules:preview', body);
        assert.equal(res.statusCode, 200, res.body);
        return Object.fromEntries(
          res
            .json()
            .items.map((i: { host_id: string; severity: string }) => [i.host_id, i.severity]),
        );
      };
      const disk = {
        metric: 'disk_usage_percent',
        matchers: { mount: { op: '=~', value: '.+' } },
        params: { global: 'disk' },
      };
      assert.deepEqual(await preview(disk), { 'db-1': 'critical' }, "the template's disk levels");
      assert.deepEqual(
        await preview({ ...disk, scope: { templates: ['alert-quiet'] } }),
        {},
        'scoped to the template: web-1 only, which stays below its levels',
      );
      const own = {
        metric: 'disk_usage_percent',
        matchers: { mount: '/' },
        warning: 90,
        critical: 99,
      };
      assert.deepEqual(await preview(own), { 'db-1': 'warning', 'web-1': 'warning' });
      // The host's override applies to its rule, by id; enabled in the preview.
      const res = await call('PATCH', `/api/v1/alerts/rules/${rule.id as string}`, {
        enabled: true,
      });
      assert.equal(res.statusCode, 200);
      await push('web-1', t + 40_000, doc(5, 97));
      const open = (await alertsOf('web-1', 'active')).filter((a) => a.rule_id === rule.id);
      assert.equal(open.length, 1, 'fires with the host override');
      assert.equal(open[0]!.severity, 'critical', 'critical at 96 for this host');
      await push('db-1', t + 40_000, doc(5, 97));
      const other = (await alertsOf('db-1', 'active')).filter((a) => a.rule_id === rule.id);
      assert.equal(other[0]!.severity, 'warning');
    });

    test('a change of host vars or of the global thresholds applies at the next push', async () => {
      const rule = (
        await call('POST', '/api/v1/alerts/rules', {
          name: 'Load now',
          metric: 'load1',
          warning: 50,
          critical: 60,
          scope: { host_ids: ['db-1'] },
        })
      ).json();
      let t = start + 20_000_000;
      const load = (v: number) => ({ ...doc(5, 10), system_load: { 0: v, 1: v, 2: v } });
      await push('db-1', (t += 1000), load(8));
      const mine = async () =>
        (await alertsOf('db-1', 'active')).filter((a) => a.rule_id === rule.id);
      assert.deepEqual(await mine(), []);
      const cfg = await call('PATCH', '/api/v1/hosts/db-1/config', {
        vars: { alerts: { rules: { [rule.id as string]: { warning: 5, critical: 7 } } } },
      });
      assert.equal(cfg.statusCode, 200, cfg.body);
      await push('db-1', (t += 1000), load(8));
      const open = await mine();
      assert.equal(open.length, 1, 'the lowered levels apply one second later');
      assert.equal(open[0]!.severity, 'critical');
      // Tyto's global disk levels, lowered, reach the built-in disk rule (for 60 s) at once.
      const before = (await alertsOf('db-1', 'active')).filter((a) => a.rule_id === 'builtin-disk');
      assert.deepEqual(before, []);
      const set = await call('POST', '/api/v1/alerts/config', {
        disk: { warning: 5, critical: 6 },
      });
      assert.equal(set.statusCode, 200, set.body);
      await push('db-1', (t += 1000), load(8));
      await push('db-1', t + 61_000, load(8));
      const disk = (await alertsOf('db-1', 'active')).filter((a) => a.rule_id === 'builtin-disk');
      assert.ok(disk.length > 0, 'the built-in disk rule fires with the new global levels');
      await call('POST', '/api/v1/alerts/config', { disk: { warning: 80, critical: 90 } });
    });

    test('a disk predicted full within a day fires from stored pushes, rolled up or not', async () => {
      await addHost('fills');
      await addHost('steady');
      const t0 = start + 40_000_000;
      // Six hours every five minutes: one disk fills by 5 % an hour (full in some 6 h from the
      // last push), the other stays at 40 %.
      let t = t0;
      for (let i = 0; i <= 72; i++) {
        t = t0 + i * 300_000;
        await push('fills', t, doc(5, 40 + (i * 5) / 12));
        await push('steady', t, doc(5, 40));
      }
      // Most of the window is rolled up into minutes; the last pushes are not yet.
      clock = t - 120_000;
      while ((await h.vigil.telemetry.runRollups(1000)) > 0);
      clock = t + 30_000;
      await h.vigil.rules.evaluator.tick();
      const forecast = async (hostId: string) =>
        (await alertsOf(hostId, 'active')).filter((a) => a.rule_id === 'builtin-disk-forecast');
      const fills = await forecast('fills');
      assert.equal(fills.length, 1, 'the filling disk is predicted full');
      assert.deepEqual(fills[0]!.labels, { mount: '/' });
      // The fit: 70 % now, 5 % an hour, 24 hours ahead.
      assert.ok(Math.abs(fills[0]!.value! - 190) < 1, `predicted ${fills[0]!.value}`);
      assert.deepEqual(await forecast('steady'), [], 'a steady disk is not');
    });
  });
}
