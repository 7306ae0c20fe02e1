import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { buildCsr } from '../../agent/src/serve/csr.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { CHECKDATA_FIXTURE } from '../../../test/support/fixtures.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const fixture = JSON.parse(readFileSync(CHECKDATA_FIXTURE, 'utf8')) as Record<string, unknown>;

interface Host {
  id: string;
  name: string;
  hostname: string;
  display_name: string | null;
  ip_address: string | null;
  port: number | null;
  environment: string | null;
  tags: string[];
  description: string | null;
  group_id: string | null;
  username: string | null;
  maintenance: { enabled: boolean; until: string | null; reason: string | null };
  liveness: {
    state: string;
    checked_at: string | null;
    consecutive_failures: number;
    response_ms: number | null;
  };
  compliance: {
    framework: string | null;
    passing: number;
    failing: number;
    errors: number;
    not_applicable: number;
    total: number;
    score: number | null;
    evaluated_at: string | null;
  };
  created_at: string;
  status: string;
}

for (const kind of await databaseKinds()) {
  describe(`hosts as configuration on ${kind.name}`, () => {
    let h: Harness;
    let admin: string;

    const call = async (
      method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT',
      url: string,
      payload?: unknown,
      headers: Record<string, string> = {},
    ) =>
      h.inject({
        method,
        url,
        headers: { ...bearer(admin), ...headers },
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
    const create = async (body: Record<string, unknown>): Promise<Host> => {
      const res = await call('POST', '/api/v1/hosts', body);
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as Host;
    };
    const list = async (query = '') => {
      const res = await call('GET', `/api/v1/hosts${query}`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as { items: Host[]; total: number; next_cursor: string | null };
    };

    before(async () => {
      // Native agents enroll only with TLS on.
      h = await startHarness(kind, { env: { VIGIL_SERVER_TLS: 'auto' } });
      admin = await h.login();
    });
    after(() => h.close());

    test('POST creates a host with every field; GET lists it with honest empties', async () => {
      const host = await create({
        hostname: 'web-01.example.com',
        ip_address: '192.0.2.10',
        port: 2222,
        display_name: 'Web 1',
        description: 'front',
        environment: 'prod',
        tags: ['web', 'eu'],
        group_id: 'g1',
        username: 'deploy',
      });
      assert.equal(host.name, 'web-01.example.com');
      assert.equal(host.hostname, 'web-01.example.com');
      assert.equal(host.ip_address, '192.0.2.10');
      assert.equal(host.port, 2222);
      assert.equal(host.display_name, 'Web 1');
      assert.equal(host.environment, 'prod');
      assert.deepEqual(host.tags, ['web', 'eu']);
      assert.equal(host.group_id, 'g1');
      assert.equal(host.username, 'deploy');
      assert.equal(host.status, 'unknown');
      assert.deepEqual(host.maintenance, { enabled: false, until: null, reason: null });
      assert.deepEqual(host.liveness, {
        state: 'never_probed',
        checked_at: null,
        consecutive_failures: 0,
        response_ms: null,
      });
      assert.deepEqual(host.compliance, {
        framework: null,
        passing: 0,
        failing: 0,
        errors: 0,
        not_applicable: 0,
        total: 0,
        score: null,
        evaluated_at: null,
      });
      assert.ok(Number.isFinite(Date.parse(host.created_at)));
      const got = (await call('GET', `/api/v1/hosts/${host.id}?framework=cis`)).json() as Host;
      assert.equal(got.compliance.framework, 'cis');
      const all = await list();
      assert.ok(all.items.some((x) => x.id === host.id));
    });

    test('a host name in use is 409 host.duplicate, whatever the environment', async () => {
      await create({ hostname: 'dup-1', ip_address: '192.0.2.11', environment: 'prod' });
      for (const environment of ['prod', 'staging']) {
        const res = await call('POST', '/api/v1/hosts', {
          hostname: 'dup-1',
          ip_address: '192.0.2.12',
          environment,
        });
        assert.equal(res.statusCode, 409, res.body);
        assert.equal(res.json().error.code, 'host.duplicate');
      }
    });

    test('bad input is 400 naming the field, never 500; unknown hosts are 404', async () => {
      const bad: [string, unknown][] = [
        ['ip_address', { hostname: 'x1' }],
        ['hostname', { ip_address: '192.0.2.1' }],
        ['hostname', { hostname: 'bad name!', ip_address: '192.0.2.1' }],
        ['ip_address', { hostname: 'x2', ip_address: 'not an address!' }],
        ['port', { hostname: 'x3', ip_address: '192.0.2.1', port: 0 }],
        ['port', { hostname: 'x4', ip_address: '192.0.2.1', port: 70000 }],
        ['tags', { hostname: 'x5', ip_address: '192.0.2.1', tags: 'web' }],
        ['tags', { hostname: 'x6', ip_address: '192.0.2.1', tags: [' '] }],
        ['additional properties', { hostname: 'x7', ip_address: '192.0.2.1', colour: 'red' }],
      ];
      for (const [field, body] of bad) {
        const res = await call('POST', '/api/v1/hosts', body);
        assert.equal(res.statusCode, 400, `${JSON.stringify(body)}: ${res.body}`);
        assert.match(res.json().error.human_message, new RegExp(field), res.body);
      }
      const id = (await create({ hostname: 'x8', ip_address: '192.0.2.1' })).id;
      for (const [url, body] of [
        [`/api/v1/hosts/${id}`, { port: 'ssh' }],
        [`/api/v1/hosts/${id}`, { ip_address: '' }],
        [`/api/v1/hosts/${id}/maintenance`, { enabled: 'yes' }],
        [`/api/v1/hosts/${id}/maintenance`, { enabled: true, until: 'tomorrow' }],
        [`/api/v1/hosts/${id}/maintenance`, { enabled: true, until: '2001-01-01T00:00:00Z' }],
      ] as const) {
        const res = await call(url.endsWith('maintenance') ? 'POST' : 'PATCH', url, body);
        assert.equal(res.statusCode, 400, `${url} ${JSON.stringify(body)}: ${res.body}`);
      }
      for (const [method, url, body] of [
        ['PATCH', '/api/v1/hosts/nope', { environment: 'x' }],
        ['DELETE', '/api/v1/hosts/nope', undefined],
        ['POST', '/api/v1/hosts/nope/maintenance', { enabled: false }],
      ] as const) {
        const res = await call(method, url, body);
        assert.equal(res.statusCode, 404, `${method} ${url}`);
        assert.equal(res.json().error.code, 'host.not_found');
      }
      for (const q of ['?limit=-1e999', '?limit=1e999', '?limit=0']) {
        const res = await call('GET', `/api/v1/hosts${q}`);
        assert.equal(res.statusCode, 400, `${q}: ${res.body}`);
      }
      const cursor = await call('GET', '/api/v1/hosts?cursor=garbage');
      assert.equal(cursor.statusCode, 400);
      assert.match(cursor.json().error.human_message, /cursor/);
    });

    test('environment, tag and q filter; the cursor walks every page once', async () => {
      for (let i = 0; i < 5; i++)
        await create({
          hostname: `page-${i}`,
          ip_address: `198.51.100.${i + 1}`,
          environment: i % 2 ? 'lab' : 'edge',
          tags: i < 2 ? ['gpu'] : [],
          display_name: `Pager ${i}`,
        });
      assert.deepEqual(
        (await list('?environment=lab')).items.map((x) => x.name),
        ['page-1', 'page-3'],
      );
      assert.deepEqual(
        (await list('?tag=gpu')).items.map((x) => x.name),
        ['page-0', 'page-1'],
      );
      assert.deepEqual(
        (await list('?q=pager%203')).items.map((x) => x.name),
        ['page-3'],
      );
      assert.deepEqual(
        (await list('?q=198.51.100.5')).items.map((x) => x.name),
        ['page-4'],
      );
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await list(
          `?q=page-&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        assert.equal(page.total, 5);
        seen.push(...page.items.map((x) => x.name));
        cursor = page.next_cursor;
        pages++;
      } while (cursor);
      assert.equal(pages, 3);
      assert.deepEqual(seen, ['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    });

    test('PATCH changes fields; null clears them', async () => {
      const host = await create({
        hostname: 'patch-1',
        ip_address: '192.0.2.20',
        environment: 'prod',
        tags: ['a'],
      });
      const res = await call('PATCH', `/api/v1/hosts/${host.id}`, {
        ip_address: 'patch-1.example.com',
        environment: null,
        tags: ['b', 'c'],
        port: 2200,
      });
      assert.equal(res.statusCode, 200, res.body);
      const got = res.json() as Host;
      assert.equal(got.ip_address, 'patch-1.example.com');
      assert.equal(got.environment, null);
      assert.deepEqual(got.tags, ['b', 'c']);
      assert.equal(got.port, 2200);
    });

    test('maintenance turns on until a time or until turned off, and off again', async () => {
      const host = await create({ hostname: 'maint-1', ip_address: '192.0.2.30' });
      const until = new Date(Date.now() + 3_600_000).toISOString();
      let res = await call('POST', `/api/v1/hosts/${host.id}/maintenance`, {
        enabled: true,
        until,
        reason: 'kernel update',
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json().maintenance, { enabled: true, until, reason: 'kernel update' });
      res = await call('POST', `/api/v1/hosts/${host.id}/maintenance`, { enabled: true });
      assert.deepEqual(res.json().maintenance, { enabled: true, until: null, reason: null });
      res = await call('POST', `/api/v1/hosts/${host.id}/maintenance`, { enabled: false });
      assert.deepEqual(res.json().maintenance, { enabled: false, until: null, reason: null });
    });

    test('DELETE hides the host everywhere; creating the name again brings it back reset', async () => {
      const host = await create({
        hostname: 'gone-1',
        ip_address: '192.0.2.40',
        environment: 'prod',
        tags: ['old'],
      });
      const del = await call('DELETE', `/api/v1/hosts/${host.id}`);
      assert.equal(del.statusCode, 204);
      assert.equal(del.body, '');
      for (const sub of ['', '/system-info', '/processes', '/packages']) {
        const res = await call('GET', `/api/v1/hosts/${host.id}${sub}`);
        assert.equal(res.statusCode, 404, sub);
      }
      assert.equal((await call('DELETE', `/api/v1/hosts/${host.id}`)).statusCode, 404);
      assert.equal(
        (
          await call('POST', `/api/v1/hosts/${host.id}/connectivity:check`, undefined, {
            'idempotency-key': 'gone-1',
          })
        ).statusCode,
        404,
      );
      assert.ok(!(await list()).items.some((x) => x.name === 'gone-1'));
      // The row is kept with deleted_at set.
      const row = await h.vigil.db.kysely
        .selectFrom('hosts')
        .select(['deleted_at'])
        .where('id', '=', host.id)
        .executeTakeFirstOrThrow();
      assert.ok(Number(row.deleted_at) > 0);
      const again = await create({ hostname: 'gone-1', ip_address: '192.0.2.41' });
      assert.equal(again.id, host.id);
      assert.equal(again.ip_address, '192.0.2.41');
      assert.equal(again.environment, null);
      assert.deepEqual(again.tags, []);
    });

    test('an agent reporting for a deleted host brings it back', async () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const enroll = await h.inject({
        method: 'POST',
        url: '/api/v1/agents/enroll',
        remoteAddress: '10.9.0.1',
        payload: { csr: buildCsr(privateKey, 'revived-1'), hostname: 'revived-1' },
      });
      assert.equal(enroll.statusCode, 202, enroll.body);
      const agentId = (enroll.json() as { agent_id: string }).agent_id;
      const approved = await call('POST', `/api/v1/agents/pending/${agentId}/approve`);
      assert.equal(approved.statusCode, 200, approved.body);
      const hostId = (approved.json() as { host_id: string }).host_id;
      assert.equal((await call('DELETE', `/api/v1/hosts/${hostId}`)).statusCode, 204);
      assert.equal((await call('GET', `/api/v1/hosts/${hostId}`)).statusCode, 404);
      await h.vigil.telemetry.ingest({ agentId, hostId }, Date.now(), fixture);
      let status = 404;
      for (let i = 0; i < 100 && status === 404; i++) {
        await new Promise((r) => setTimeout(r, 20));
        status = (await call('GET', `/api/v1/hosts/${hostId}`)).statusCode;
      }
      assert.equal(status, 200);
      const events = await call('GET', `/api/v1/audit/events?action=host.revive`);
      assert.equal(events.json().items[0].resource_id, hostId);
    });

    test('connectivity:check, discovery:run and the sweep need an Idempotency-Key', async () => {
      const host = await create({ hostname: 'idem-1', ip_address: '127.0.0.1', port: 1 });
      for (const url of [
        `/api/v1/hosts/${host.id}/connectivity:check`,
        `/api/v1/hosts/${host.id}/discovery:run`,
        '/api/v1/system/discovery/sweep',
      ]) {
        const res = await call('POST', url);
        assert.equal(res.statusCode, 400, url);
        assert.equal(res.json().error.code, 'idempotency.key_required', url);
      }
    });

    test('a refused port is recorded unreachable, failures counted, and replayed by key', async () => {
      const host = await create({ hostname: 'closed-1', ip_address: '127.0.0.1', port: 1 });
      const check = (key: string) =>
        call('POST', `/api/v1/hosts/${host.id}/connectivity:check`, undefined, {
          'idempotency-key': key,
        });
      const first = await check('closed-1-a');
      assert.equal(first.statusCode, 200, first.body);
      const r = first.json();
      assert.equal(r.state, 'unreachable');
      assert.equal(r.tcp.ok, false);
      assert.match(r.tcp.error, /^refused/);
      assert.equal(r.ssh.attempted, false);
      assert.equal(r.consecutive_failures, 1);
      const replay = await check('closed-1-a');
      assert.equal(replay.headers['idempotent-replayed'], 'true');
      assert.equal((await check('closed-1-b')).json().consecutive_failures, 2);
      const got = (await call('GET', `/api/v1/hosts/${host.id}`)).json() as Host;
      assert.equal(got.liveness.state, 'unreachable');
      assert.equal(got.liveness.consecutive_failures, 2);
      assert.ok(got.liveness.checked_at);
      // Discovery needs a credential: none resolves.
      const disc = await call('POST', `/api/v1/hosts/${host.id}/discovery:run`, undefined, {
        'idempotency-key': 'closed-1-d',
      });
      assert.equal(disc.statusCode, 404);
      assert.equal(disc.json().error.code, 'credential.unresolved');
    });

    test('system configuration: defaults, partial changes, 400 naming the field, permissions', async () => {
      const get = async (section: string) => {
        const res = await call('GET', `/api/v1/system/${section}/config`);
        assert.equal(res.statusCode, 200, res.body);
        return res.json();
      };
      assert.deepEqual(await get('connectivity'), {
        enabled: true,
        interval_seconds: 300,
        timeout_seconds: 10,
        concurrency: 10,
      });
      assert.deepEqual(await get('discovery'), {
        enabled: false,
        interval_seconds: 86400,
        concurrency: 5,
      });
      assert.deepEqual(await get('intelligence'), {
        interval_seconds: 86400,
        facts: { os: true, hardware: true, storage: true, network: true },
        changes: {
          packages: true,
          kernel: true,
          reboot: true,
          ports: true,
          users: true,
          units: true,
        },
      });
      let res = await call('PUT', '/api/v1/system/connectivity/config', {
        interval_seconds: 60,
        concurrency: 3,
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(await get('connectivity'), {
        enabled: true,
        interval_seconds: 60,
        timeout_seconds: 10,
        concurrency: 3,
      });
      res = await call('PUT', '/api/v1/system/intelligence/config', { facts: { network: false } });
      assert.equal(res.json().facts.network, false);
      assert.equal(res.json().facts.os, true);
      const bad: [string, string, unknown][] = [
        ['connectivity', 'interval_seconds', { interval_seconds: 5 }],
        ['connectivity', 'timeout_seconds', { timeout_seconds: 0 }],
        ['connectivity', 'timeout_seconds', { timeout_seconds: 100, interval_seconds: 60 }],
        ['connectivity', 'concurrency', { concurrency: 1000 }],
        ['connectivity', 'enabled', { enabled: 'yes' }],
        ['connectivity', 'interval_seconds', { interval_seconds: 'often' }],
        ['discovery', 'interval_seconds', { interval_seconds: 1.5 }],
        ['discovery', 'concurrency', { concurrency: 0 }],
        ['discovery', 'additional properties', { bogus: 1 }],
        ['intelligence', 'interval_seconds', { interval_seconds: 1 }],
        ['intelligence', 'os', { facts: { os: 1 } }],
        ['intelligence', 'additional properties', { facts: { packages: true } }],
      ];
      for (const [section, field, body] of bad) {
        const r = await call('PUT', `/api/v1/system/${section}/config`, body);
        assert.equal(r.statusCode, 400, `${section} ${JSON.stringify(body)}: ${r.body}`);
        assert.match(r.json().error.human_message, new RegExp(field), r.body);
      }
      // Nothing bad was stored.
      assert.equal((await get('connectivity')).interval_seconds, 60);
      const status = await call('GET', '/api/v1/system/connectivity/status');
      assert.equal(status.statusCode, 200, status.body);
      assert.equal(status.json().state, 'idle');
      assert.equal(typeof status.json().queue, 'number');
      const viewer = await h.userWithRoles('cfg-viewer', ['viewer']);
      const put = await h.inject({
        method: 'PUT',
        url: '/api/v1/system/discovery/config',
        headers: bearer(viewer),
        payload: { enabled: true },
      });
      assert.equal(put.statusCode, 403);
      const create403 = await h.inject({
        method: 'POST',
        url: '/api/v1/hosts',
        headers: bearer(viewer),
        payload: { hostname: 'nope', ip_address: '192.0.2.1' },
      });
      assert.equal(create403.statusCode, 403);
    });
  });
}
