// `log_count` alert rules through the API and the real log store: lines matching a rule's filter
// within its window raise an alert on their host, more of them escalate it, fewer resolve it once the
// window has passed; a filter that matches nothing never fires; scopes, overrides, a disabled rule,
// the `<` comparator (lines that stop coming), the event-driven path; bad rule bodies are 400.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LogLevel } from '@vigil/protocol';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

interface AlertRow {
  rule_id: string;
  host_id: string;
  type: string;
  state: string;
  severity: string;
  value: number | null;
  threshold: number | null;
  message: string;
  labels: Record<string, string>;
}

for (const kind of await databaseKinds()) {
  describe(`log alert rules on ${kind.name}`, () => {
    const start = Date.parse('2026-12-04T00:00:00Z');
    let clock = start;
    let h: Harness;
    let admin: string;
    let web: string;
    let db: string;

    const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
      h.inject({
        method,
        url,
        headers: bearer(admin),
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
    const createRule = async (body: Record<string, unknown>) => {
      const res = await call('POST', '/api/v1/alerts/rules', body);
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: string; comparator: string; params: Record<string, unknown> };
    };
    const lines = (
      hostId: string | null,
      n: number,
      message: string,
      opts: { level?: LogLevel; at?: number; source_name?: string } = {},
    ) =>
      h.vigil.logs.service.append(
        Array.from({ length: n }, (_, i) => ({
          timestamp: (opts.at ?? clock) - i,
          host_id: hostId,
          agent_id: null,
          source: 'syslog' as const,
          source_name: opts.source_name ?? 'sshd',
          level: opts.level ?? 'warning',
          message,
          fields: {},
        })),
      );
    const tick = () => h.vigil.logRules.evaluator.tick();
    const alertsOf = async (ruleId: string, state = 'all') => {
      const res = await call('GET', `/api/v1/alerts?state=${state}&limit=100`);
      assert.equal(res.statusCode, 200, res.body);
      return (res.json().items as AlertRow[]).filter((a) => a.rule_id === ruleId);
    };

    before(async () => {
      h = await startHarness(kind, {
        now: () => clock,
        env: { VIGIL_AUTH_ACCESS_TOKEN_TTL_SECONDS: '86400' },
      });
      admin = await h.login();
      const host = async (hostname: string, tags: string[]) => {
        const res = await call('POST', '/api/v1/hosts', {
          hostname,
          ip_address: '192.0.2.1',
          tags,
        });
        assert.equal(res.statusCode, 201, res.body);
        return (res.json() as { id: string }).id;
      };
      web = await host('web-1', ['web']);
      db = await host('db-1', ['db']);
    });
    after(async () => {
      await h.vigil.logRules.evaluator.idle();
      await h.close();
    });

    test('N matching lines in the window raise an alert; more escalate; fewer resolve it after the window', async () => {
      const rule = await createRule({
        name: 'SSH brute force',
        kind: 'log_count',
        warning: 5,
        critical: 20,
        params: {
          q: '"failed password"',
          level: ['warning', 'error'],
          source: 'syslog',
          window_seconds: 300,
        },
      });
      assert.equal(rule.comparator, '>=');
      assert.equal(rule.params.window_seconds, 300);

      // Four lines: below the warning count. Lines that do not match (another level, other
      // words, another host) do not count.
      await lines(web, 4, 'Failed password for root from 203.0.113.9 port 22');
      await lines(web, 10, 'Failed password for root', { level: 'info' });
      await lines(web, 10, 'Accepted password for alice');
      await lines(null, 30, 'Failed password for root');
      await tick();
      assert.deepEqual(await alertsOf(rule.id), []);

      await lines(web, 1, 'Failed password for admin from 203.0.113.9 port 22');
      await tick();
      let open = await alertsOf(rule.id, 'active');
      assert.equal(open.length, 1);
      assert.equal(open[0]!.host_id, web);
      assert.equal(open[0]!.severity, 'warning');
      assert.equal(open[0]!.type, 'log_count');
      assert.equal(open[0]!.value, 5);
      assert.equal(open[0]!.threshold, 5);
      assert.deepEqual(open[0]!.labels, {});
      assert.match(
        open[0]!.message,
        /SSH brute force: 5 matching log lines on web-1 in the last 5 min/,
      );

      // Ticking again changes nothing: one alert per rule and host.
      await tick();
      assert.equal((await alertsOf(rule.id)).length, 1);

      clock += 60_000;
      await lines(web, 15, 'Failed password for root from 198.51.100.4');
      await tick();
      open = await alertsOf(rule.id, 'active');
      assert.equal(open.length, 1);
      assert.equal(open[0]!.severity, 'critical');
      assert.equal(open[0]!.value, 20);

      // The first lines leave the window: 15 remain, a warning again.
      clock += 250_000;
      await tick();
      assert.equal((await alertsOf(rule.id, 'active'))[0]!.severity, 'warning');

      // Past the window of the last lines: nothing left, resolved.
      clock += 300_000;
      await tick();
      assert.deepEqual(await alertsOf(rule.id, 'active'), []);
      const all = await alertsOf(rule.id);
      assert.equal(all.length, 1);
      assert.equal(all[0]!.state, 'resolved');
      await call('DELETE', `/api/v1/alerts/rules/${rule.id}`);
    });

    test('a filter that matches nothing never fires', async () => {
      const rule = await createRule({
        name: 'Never',
        kind: 'log_count',
        warning: 1,
        params: { q: 'xyzzy-never-logged', window_seconds: 3600 },
      });
      await lines(web, 50, 'Failed password for root');
      await lines(db, 50, 'xyzzy is not the whole phrase', { level: 'error' });
      await tick();
      assert.deepEqual(await alertsOf(rule.id), []);
      const other = await createRule({
        name: 'Never by source',
        kind: 'log_count',
        warning: 1,
        params: { source_name: 'no-such-program', source: 'syslog' },
      });
      await tick();
      assert.deepEqual(await alertsOf(other.id), []);
      await call('DELETE', `/api/v1/alerts/rules/${rule.id}`);
      await call('DELETE', `/api/v1/alerts/rules/${other.id}`);
    });

    test('scope, disabling, widening and deleting', async () => {
      const rule = await createRule({
        name: 'Errors on web',
        kind: 'log_count',
        critical: 3,
        scope: { tags: ['web'] },
        params: { level: ['error', 'critical'], window_seconds: 120 },
      });
      clock += 1_000;
      await lines(web, 3, 'segfault in worker', { level: 'error' });
      await lines(db, 10, 'segfault in worker', { level: 'error' });
      await tick();
      let open = await alertsOf(rule.id, 'active');
      assert.deepEqual(
        open.map((a) => [a.host_id, a.severity]),
        [[web, 'critical']],
      );
      // Disabled: its alert resolves at the next tick.
      assert.equal(
        (await call('PATCH', `/api/v1/alerts/rules/${rule.id}`, { enabled: false })).statusCode,
        200,
      );
      await tick();
      assert.deepEqual(await alertsOf(rule.id, 'active'), []);
      // Enabled and widened to every host: both fire; deleted: both resolve.
      await call('PATCH', `/api/v1/alerts/rules/${rule.id}`, { enabled: true, scope: {} });
      await tick();
      open = await alertsOf(rule.id, 'active');
      assert.deepEqual(open.map((a) => a.host_id).sort(), [web, db].sort());
      assert.equal((await call('DELETE', `/api/v1/alerts/rules/${rule.id}`)).statusCode, 204);
      await tick();
      assert.deepEqual(await alertsOf(rule.id, 'active'), []);
    });

    test('the < comparator fires while matching lines stay away', async () => {
      clock += 3_600_000;
      const rule = await createRule({
        name: 'Backup heartbeat missing',
        kind: 'log_count',
        comparator: '<',
        warning: 1,
        scope: { tags: ['db'] },
        params: { q: 'backup finished', source_name: 'backup', window_seconds: 3600 },
      });
      await tick();
      const open = await alertsOf(rule.id, 'active');
      assert.deepEqual(
        open.map((a) => [a.host_id, a.severity, a.value]),
        [[db, 'warning', 0]],
      );
      await lines(db, 1, 'backup finished in 42 s', { source_name: 'backup', level: 'info' });
      await tick();
      assert.deepEqual(await alertsOf(rule.id, 'active'), []);
      await call('DELETE', `/api/v1/alerts/rules/${rule.id}`);
    });

    test('stored lines that match a rule are evaluated without waiting for the tick', async () => {
      clock += 3_600_000;
      const rule = await createRule({
        name: 'OOM',
        kind: 'log_count',
        warning: 2,
        params: { q: 'oom killer', window_seconds: 600 },
      });
      // The first tick loads the rules; from then on stored lines are checked as they come.
      await tick();
      await lines(db, 2, 'Out of memory: the oom killer chose process 1234', { level: 'error' });
      const deadline = Date.now() + 5_000;
      let open: AlertRow[] = [];
      while (open.length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        open = await alertsOf(rule.id, 'active');
      }
      assert.deepEqual(
        open.map((a) => [a.host_id, a.severity, a.value]),
        [[db, 'warning', 2]],
      );
      await call('DELETE', `/api/v1/alerts/rules/${rule.id}`);
      await tick();
    });

    test('a log rule can be changed, and keeps its filter', async () => {
      const rule = await createRule({
        name: 'Kernel',
        kind: 'log_count',
        warning: 10,
        params: { source_name: 'kernel' },
      });
      const res = await call('PATCH', `/api/v1/alerts/rules/${rule.id}`, {
        warning: 3,
        critical: 6,
        params: { source_name: 'kernel', level: ['critical'], window_seconds: 600 },
      });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.equal(body.warning, 3);
      assert.deepEqual(body.params, {
        source_name: 'kernel',
        level: ['critical'],
        window_seconds: 600,
      });
      const bad = await call('PATCH', `/api/v1/alerts/rules/${rule.id}`, { critical: 1 });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.json().error.human_message, /^critical:/);
      await call('DELETE', `/api/v1/alerts/rules/${rule.id}`);
    });

    const BAD: [string, Record<string, unknown>, RegExp][] = [
      ['no threshold', {}, /^warning: a warning or a critical count is required/],
      ['a fractional count', { warning: 2.5 }, /^warning: a whole number/],
      ['a negative count', { critical: -1 }, /^critical: a whole number/],
      ['critical below warning', { warning: 10, critical: 5 }, /^critical: must be at least/],
      ['a comparator the schema refuses', { warning: 1, comparator: '==' }, /comparator/],
      ['an unknown param', { warning: 1, params: { query: 'x' } }, /^params\.query: unknown/],
      ['q not a string', { warning: 1, params: { q: 42 } }, /^params\.q: a query/],
      ['q without a word', { warning: 1, params: { q: '***' } }, /^params\.q: has no word/],
      ['q too long', { warning: 1, params: { q: 'a'.repeat(1001) } }, /^params\.q: a query/],
      ['an unknown level', { warning: 1, params: { level: ['loud'] } }, /^params\.level:/],
      ['levels not a list', { warning: 1, params: { level: 'error' } }, /^params\.level:/],
      ['an empty level list', { warning: 1, params: { level: [] } }, /^params\.level:/],
      ['an unknown source', { warning: 1, params: { source: 'snmp' } }, /^params\.source: one of/],
      [
        'an empty source_name',
        { warning: 1, params: { source_name: '' } },
        /^params\.source_name:/,
      ],
      [
        'a window too short',
        { warning: 1, params: { window_seconds: 10 } },
        /^params\.window_seconds:/,
      ],
      [
        'a window too long',
        { warning: 1, params: { window_seconds: 86_401 } },
        /^params\.window_seconds:/,
      ],
      [
        'a window not whole',
        { warning: 1, params: { window_seconds: 90.5 } },
        /^params\.window_seconds:/,
      ],
      ['a metric', { warning: 1, metric: 'cpu_usage_percent' }, /^metric: not used/],
      ['label matchers', { warning: 1, matchers: { mount: '/' } }, /^matchers: not used/],
      ['for_seconds', { warning: 1, for_seconds: 60 }, /^for_seconds: not used/],
      [
        'keep_firing_for_seconds',
        { warning: 1, keep_firing_for_seconds: 60 },
        /^keep_firing_for_seconds:/,
      ],
    ];
    for (const [name, body, message] of BAD)
      test(`a log rule with ${name} is 400`, async () => {
        const res = await call('POST', '/api/v1/alerts/rules', {
          name: 'bad',
          kind: 'log_count',
          ...body,
        });
        assert.equal(res.statusCode, 400, res.body);
        const error = res.json().error as { code: string; human_message: string };
        assert.match(error.human_message, message);
      });

    test('nothing was stored by the refused bodies', async () => {
      const rules = (await call('GET', '/api/v1/alerts/rules')).json().items as { kind: string }[];
      assert.deepEqual(
        rules.filter((r) => r.kind === 'log_count'),
        [],
      );
    });
  });
}
