import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PASSWORD, startHarness, type Harness } from '../../../test/support/harness.js';
import { databaseKinds } from '../../../test/support/databases.js';

// The Cockpit face's `GET /api/dashboard` (hosts by state, open alerts by severity, agents,
// failing checks) through an OAuth access token, and the activity feed `GET /api/v1/activity`.

for (const kind of await databaseKinds()) {
  describe(`dashboard and activity on ${kind.name}`, () => {
    let h: Harness;
    let admin: string;
    let clock = Date.parse('2026-06-01T12:00:00Z');

    const call = (method: string, url: string, token: string, payload?: object) =>
      h.inject({
        method: method as 'GET',
        url,
        headers: { authorization: `Bearer ${token}` },
        ...(payload ? { payload } : {}),
      });
    const newHost = async (name: string): Promise<string> => {
      const res = await call('POST', '/api/v1/hosts', admin, {
        hostname: name,
        ip_address: '127.0.0.1',
        port: 22,
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id as string;
    };
    const addAgent = (id: string, hostId: string, approval: 'approved' | 'pending') =>
      h.vigil.db.kysely
        .insertInto('agents')
        .values({
          id,
          name: id,
          host_id: hostId,
          kind: 'native',
          approval,
          interval_seconds: 10,
          registered_at: clock,
          updated_at: clock,
        })
        .execute();
    /** A document whose custom check `name` ran at `at` and exited `rc`. */
    const checkDoc = (checks: Record<string, number>, at: number) => ({
      agent: { last_updated_timestamp: Math.floor(at / 1000) },
      customchecks: Object.fromEntries(
        Object.entries(checks).map(([name, rc]) => [
          name,
          { rc, stdout: `${name} says ${rc}`, execution_unix_timestamp_sec: Math.floor(at / 1000) },
        ]),
      ),
    });

    before(async () => {
      h = await startHarness(kind, {
        now: () => clock,
        env: { VIGIL_AUTH_ACCESS_TOKEN_TTL_SECONDS: '86400' },
      });
      admin = await h.login();
    });
    after(() => h.close());

    test('GET /api/dashboard counts hosts, alerts, agents and failing checks', async () => {
      const web = await newHost('web-1');
      const db = await newHost('db-1');
      const spare = await newHost('spare-1');
      await addAgent('a-web', web, 'approved');
      await addAgent('a-db', db, 'pending');
      // Three runs of a failing check make it HARD (max_check_attempts 3); another stays SOFT.
      for (let i = 0; i < 3; i++) {
        clock += 10_000;
        await h.vigil.telemetry.ingest(
          { agentId: 'a-web', hostId: web },
          clock,
          checkDoc({ check_disk: 2, check_load: i === 2 ? 1 : 0, check_ntp: 0 }, clock),
        );
      }
      const maintenance = await call('POST', `/api/v1/hosts/${spare}/maintenance`, admin, {
        enabled: true,
        reason: 'moving racks',
      });
      assert.equal(maintenance.statusCode, 200, maintenance.body);
      const signal = {
        labels: {},
        type: 'cpu',
        message: 'cpu high',
        value: 97,
        threshold: 95,
        agentId: null,
        at: clock,
      };
      await h.vigil.alerts.sink.fire({
        ...signal,
        ruleId: 'r1',
        hostId: web,
        severity: 'critical',
      });
      await h.vigil.alerts.sink.fire({ ...signal, ruleId: 'r2', hostId: db, severity: 'warning' });
      await h.vigil.alerts.sink.fire({ ...signal, ruleId: 'r3', hostId: db, severity: 'warning' });
      const open = (await call('GET', `/api/v1/alerts?host_id=${db}`, admin)).json().items as {
        id: string;
      }[];
      const ack = await call('POST', `/api/v1/alerts/${open[0]!.id}:acknowledge`, admin, {});
      assert.equal(ack.statusCode, 200, ack.body);

      // A Cockpit client: an OAuth client, a user whose role holds api:access and dashboard:view.
      const role = await call('POST', '/api/v1/roles', admin, {
        name: 'Dashboard reader',
        permissions: ['api:access', 'dashboard:view'],
      });
      assert.equal(role.statusCode, 201, role.body);
      await h.userWithRoles('portal', ['Dashboard reader']);
      const client = await call('POST', '/api/v1/oauth/clients', admin, {
        client_id: 'itsm-portal',
        allow_password: true,
      });
      assert.equal(client.statusCode, 201, client.body);
      const secret = client.json().client_secret as string;
      const token = await h.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: {
          authorization: `Basic ${Buffer.from(`itsm-portal:${secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        payload: `grant_type=password&scope=public-api&username=portal&password=${encodeURIComponent(ADMIN_PASSWORD)}`,
      });
      assert.equal(token.statusCode, 200, token.body);
      const bearer = token.json().access_token as string;

      const res = await h.inject({
        method: 'GET',
        url: '/api/dashboard',
        headers: { authorization: `Bearer ${bearer}`, 'cache-control': 'no-cache' },
      });
      assert.equal(res.statusCode, 200, res.body);
      const d = res.json();
      assert.equal(d.generated_at, new Date(clock).toISOString());
      assert.deepEqual(d.hosts, {
        total: 3,
        online: 1,
        offline: 0,
        pending: 1,
        unknown: 1,
        maintenance: 1,
      });
      // The built-in check rule raised one more: check_disk is CRITICAL and HARD.
      assert.deepEqual(d.alerts, { open: 4, critical: 2, warning: 2, info: 0, unacknowledged: 3 });
      assert.deepEqual(d.agents, { total: 2, online: 1, offline: 0, pending: 1 });
      assert.deepEqual(d.top_failing_checks, [
        { name: 'check_disk', failing_hosts: 1, warning: 0, critical: 1, unknown: 0 },
      ]);

      // Resolving an alert and deleting a host change the counts.
      await call('POST', `/api/v1/alerts/${open[0]!.id}:resolve`, admin, {});
      assert.equal((await call('DELETE', `/api/v1/hosts/${web}`, admin)).statusCode, 204);
      const later = (await call('GET', '/api/dashboard', bearer)).json();
      assert.equal(later.alerts.warning, 1);
      assert.equal(later.hosts.total, 2);
      assert.deepEqual(later.top_failing_checks, []);
    });

    test('the dashboard needs dashboard:view and a valid token', async () => {
      const none = await h.inject({ method: 'GET', url: '/api/dashboard' });
      assert.equal(none.statusCode, 401, none.body);
      const role = await call('POST', '/api/v1/roles', admin, {
        name: 'Audit only',
        permissions: ['audit:read'],
      });
      assert.equal(role.statusCode, 201, role.body);
      const auditor = await h.userWithRoles('only-audit', ['Audit only']);
      const denied = await call('GET', '/api/dashboard', auditor);
      assert.equal(denied.statusCode, 403, denied.body);
      assert.equal(denied.json().error.code, 'auth.forbidden');
      // The built-in viewer holds dashboard:view.
      const viewer = await h.userWithRoles('dash-viewer', ['viewer']);
      assert.equal((await call('GET', '/api/dashboard', viewer)).statusCode, 200);
    });

    test('the activity feed merges alert transitions and notable audit events', async () => {
      const host = await newHost('feed-1');
      clock += 60_000;
      await h.vigil.alerts.sink.fire({
        ruleId: 'feed-rule',
        hostId: host,
        labels: {},
        type: 'memory',
        severity: 'critical',
        message: 'memory 97 %',
        value: 97,
        threshold: 95,
        agentId: null,
        at: clock,
      });
      clock += 1000;
      const [alert] = (await call('GET', `/api/v1/alerts?host_id=${host}`, admin)).json().items;
      await call('POST', `/api/v1/alerts/${alert.id}:acknowledge`, admin, { reason: 'on it' });
      clock += 1000;
      await call('POST', `/api/v1/hosts/${host}/maintenance`, admin, { enabled: true });

      const feed = await call('GET', `/api/v1/activity?host_id=${host}`, admin);
      assert.equal(feed.statusCode, 200, feed.body);
      const items = feed.json().items as {
        kind: string;
        action: string;
        summary: string;
        at: string;
      }[];
      assert.deepEqual(
        items.map((i) => [i.kind, i.action]),
        [
          ['change', 'host.maintenance'],
          ['alert', 'alert.acknowledged'],
          ['alert', 'alert.opened'],
          ['change', 'host.create'],
        ],
      );
      assert.match(items[1]!.summary, /acknowledged on feed-1 by admin/);
      assert.match(items[2]!.summary, /^critical alert opened on feed-1: memory 97 %/);

      // Pages follow each other without gaps or repeats.
      const all = (await call('GET', '/api/v1/activity?limit=200', admin)).json().items as {
        id: string;
      }[];
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
        const page = (await call('GET', `/api/v1/activity?limit=2${q}`, admin)).json();
        seen.push(...(page.items as { id: string }[]).map((i) => i.id));
        cursor = page.next_cursor;
      } while (cursor);
      assert.deepEqual(
        seen,
        all.map((i) => i.id),
      );
      const kinds = (await call('GET', '/api/v1/activity?kind=alert', admin)).json().items as {
        kind: string;
      }[];
      assert.ok(kinds.length >= 2 && kinds.every((i) => i.kind === 'alert'));
    });

    test('the activity feed refuses bad filters with 400', async () => {
      for (const q of [
        'kind=weather',
        'limit=0',
        'limit=201',
        'since=yesterday',
        'since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z',
        'cursor=forged',
        'colour=red',
      ]) {
        const res = await call('GET', `/api/v1/activity?${q}`, admin);
        assert.equal(res.statusCode, 400, `${q}: ${res.body}`);
        assert.equal(typeof res.json().error.human_message, 'string');
      }
      const viewer = await h.userWithRoles('feed-viewer', ['viewer']);
      assert.equal((await call('GET', '/api/v1/activity', viewer)).statusCode, 200);
    });
  });
}
