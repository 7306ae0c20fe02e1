import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { buildCsr } from '../../agent/src/serve/csr.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHttpsVigil, type HttpsVigil } from '../../../test/support/https-vigil.js';
import { httpsJson } from '../../../test/support/https.js';

// Host intelligence end to end: a native agent pushes documents and inventories over mutual
// TLS, and what changed between them is listed by `GET /api/v1/intelligence/events`.

const PASSWORD = 'intelligence test password';
const T0 = Date.now() - 3_600_000;

interface DocParts {
  at: number;
  uptime?: number;
  kernel?: string;
  ports?: { protocol: string; address: string; port: number; process?: string; pid?: number }[];
  accounts?: string[];
  units?: [string, string][];
}

/** A check-data document with the parts host intelligence reads. */
function doc(p: DocParts): Record<string, unknown> {
  return {
    agent: {
      last_updated_timestamp: Math.floor(p.at / 1000),
      agent_version: '0.1.0',
      ...(p.kernel !== undefined ? { kernel_version: p.kernel } : {}),
      ...(p.uptime !== undefined ? { system_uptime: p.uptime } : {}),
    },
    memory: { total: 1000, used: 400, free: 600, percent: 40 },
    ...(p.ports ? { listening_ports: p.ports } : {}),
    ...(p.accounts
      ? {
          accounts: p.accounts.map((name, i) => ({
            name,
            uid: i === 0 ? 0 : 1000 + i,
            gid: i === 0 ? 0 : 1000 + i,
            home: i === 0 ? '/root' : `/home/${name}`,
            shell: '/bin/bash',
          })),
        }
      : {}),
    ...(p.units
      ? {
          systemd_services: p.units.map(([Name, ActiveState]) => ({
            Name,
            Description: Name,
            LoadState: 'loaded',
            ActiveState,
            SubState: ActiveState === 'failed' ? 'failed' : 'running',
          })),
        }
      : {}),
  };
}

const SSH = { protocol: 'tcp', address: '0.0.0.0', port: 22, process: 'sshd', pid: 500 };
const SSH6 = { protocol: 'tcp', address: '::', port: 22, process: 'sshd', pid: 500 };
const DHCP = { protocol: 'udp', address: '0.0.0.0', port: 68 };
const HTTPS = { protocol: 'tcp', address: '0.0.0.0', port: 443, process: 'nginx', pid: 900 };
const UNITS: [string, string][] = [
  ['ssh.service', 'active'],
  ['cron.service', 'active'],
];

/** A package inventory as agents push it. */
const inventory = (packages: [string, string][], extra: Record<string, unknown> = {}) => ({
  Enabled: true,
  Pending: false,
  LastUpdate: Math.floor(Date.now() / 1000),
  Stats: {
    InstalledPackages: packages.length,
    UpgradablePackages: 0,
    SecurityUpdates: 0,
    RebootRequired: false,
    LastError: null,
    OperatingSystem: 'linux',
    PackageManager: 'apt',
    OsName: 'debian',
    OsVersion: '12',
    OsFamily: 'debian',
    AgentVersion: '0.1.0',
    Uptime: 100,
  },
  LinuxPackages: packages.map(([Name, Version]) => ({ Name, Version, Description: Name })),
  LinuxUpdates: [],
  WindowsApps: [],
  WindowsUpdates: [],
  MacosApps: [],
  MacosUpdates: [],
  ...extra,
});

for (const kind of await databaseKinds()) {
  describe(`host intelligence on ${kind.name}`, () => {
    let h: HttpsVigil;
    let client: { ca: string; cert: string; key: string };
    let hostId: string;

    const api = async (method: string, url: string, payload?: unknown) => {
      const res = await h.vigil.http.inject({
        method: method as 'GET',
        url,
        headers: { authorization: `Bearer ${h.admin}` },
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
      return { status: res.statusCode, body: res.json() as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const push = async (p: DocParts) => {
      const res = await httpsJson(`${h.url}/api/v1/agents/intel-01/checkdata`, {
        ...client,
        body: { collected_at: p.at, checkdata: doc(p) },
      });
      assert.equal(res.status, 200, res.text);
    };
    const pushInventory = async (body: unknown) => {
      const res = await httpsJson(`${h.url}/api/v1/agents/intel-01/packages`, { ...client, body });
      assert.equal(res.status, 204, res.text);
    };
    /** Every event of the host, oldest first, as [kind, subject]. */
    const events = async (query = '') => {
      const res = await api(
        'GET',
        `/api/v1/intelligence/events?host_id=${hostId}&limit=200${query}`,
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return (res.body.events as { kind: string; subject: string; detail: unknown }[]).reverse();
    };
    const kinds = async (query = '') => (await events(query)).map((e) => `${e.kind} ${e.subject}`);

    before(async () => {
      h = await startHttpsVigil(kind, { password: PASSWORD });
      const agent = await api('POST', '/api/v1/agents', { id: 'intel-01', name: 'intel-01' });
      assert.equal(agent.status, 201);
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const enrolled = await h.vigil.http.inject({
        method: 'POST',
        url: '/api/v1/agents/enroll',
        payload: {
          token: agent.body.enrollment_token,
          csr: buildCsr(privateKey, 'intel-01'),
          hostname: 'intel-01',
        },
      });
      assert.equal(enrolled.statusCode, 201, enrolled.body);
      client = {
        ca: h.vigil.ca.caPem,
        cert: enrolled.json().certificate,
        key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      };
      hostId = (await h.vigil.agents.row('intel-01'))!.host_id!;
    });
    after(async () => {
      await h?.close();
    });

    test('the first document sets the state; a repeated one gives no events', async () => {
      const first = await api('GET', `/api/v1/intelligence/state/${hostId}`);
      assert.equal(first.status, 200);
      assert.equal(first.body.updated_at, null);
      assert.deepEqual(first.body.listening_ports, []);
      assert.deepEqual(first.body.packages, { count: 0, updated_at: null, items: [] });

      const base = {
        kernel: '6.1.0-20-amd64',
        ports: [SSH, SSH6, DHCP],
        accounts: ['root', 'daemon'],
        units: UNITS,
      };
      await push({ at: T0, uptime: 1_000, ...base });
      await push({ at: T0 + 30_000, uptime: 1_030, ...base });
      // The same sockets in another order, with other process ids, are the same set.
      await push({
        at: T0 + 60_000,
        uptime: 1_060,
        ...base,
        ports: [DHCP, { ...SSH6, pid: 501 }, SSH],
      });
      assert.deepEqual(await kinds(), []);

      const state = await api('GET', `/api/v1/intelligence/state/${hostId}`);
      assert.equal(state.status, 200);
      assert.equal(state.body.kernel, '6.1.0-20-amd64');
      assert.equal(state.body.boot_time, new Date(T0 - 1_000_000).toISOString());
      assert.deepEqual(
        state.body.listening_ports.map((p: { subject: string }) => p.subject),
        ['tcp/0.0.0.0:22', 'tcp/[::]:22', 'udp/0.0.0.0:68'],
      );
      assert.deepEqual(
        state.body.accounts.map((a: { name: string }) => a.name),
        ['daemon', 'root'],
      );
      assert.deepEqual(state.body.failed_units, []);
      assert.notEqual(state.body.updated_at, null);
    });

    test('a second document gives kernel, reboot, port, user and unit events', async () => {
      const at = T0 + 120_000;
      await push({
        at,
        uptime: 20,
        kernel: '6.1.0-21-amd64',
        ports: [SSH, SSH6, HTTPS],
        accounts: ['root', 'daemon', 'deploy'],
        units: [
          ['ssh.service', 'active'],
          ['cron.service', 'failed'],
        ],
      });
      const got = await events();
      assert.deepEqual(
        got.map((e) => `${e.kind} ${e.subject}`),
        [
          `host.rebooted ${new Date(at - 20_000).toISOString()}`,
          'kernel.changed 6.1.0-21-amd64',
          'port.closed udp/0.0.0.0:68',
          'port.opened tcp/0.0.0.0:443',
          'unit.failed cron.service',
          'user.added deploy',
        ],
      );
      const detail = (k: string) => got.find((e) => e.kind === k)!.detail;
      assert.deepEqual(detail('kernel.changed'), { from: '6.1.0-20-amd64', to: '6.1.0-21-amd64' });
      assert.deepEqual(detail('host.rebooted'), {
        boot_time: new Date(at - 20_000).toISOString(),
        previous_boot_time: new Date(T0 + 60_000 - 1_060_000).toISOString(),
      });
      assert.deepEqual(detail('port.opened'), { process: 'nginx', pid: 900 });
      assert.deepEqual(detail('port.closed'), {});
      assert.deepEqual(detail('user.added'), { uid: 1002, shell: '/bin/bash' });
      assert.deepEqual(detail('unit.failed'), { sub_state: 'failed' });
      const page = await api('GET', `/api/v1/intelligence/events?host_id=${hostId}`);
      assert.equal(page.body.events[0].host_name, 'intel-01');
      assert.equal(page.body.events[0].host_id, hostId);

      // The unit recovers; parts a document leaves out keep their state; an uptime that does not
      // advance with the clock (the boot time creeping) is no reboot.
      await push({ at: at + 200_000, uptime: 220, units: UNITS });
      for (let i = 1; i <= 5; i++) await push({ at: at + 200_000 + i * 60_000, uptime: 220 });
      await push({ at: at + 600_000, kernel: '6.1.0-21-amd64' });
      const later = (await kinds()).slice(6);
      assert.deepEqual(later, ['unit.recovered cron.service']);
      const state = await api('GET', `/api/v1/intelligence/state/${hostId}`);
      assert.equal(state.body.listening_ports.length, 3);
      assert.equal(state.body.accounts.length, 3);
    });

    test('inventories give package events; the first and pending ones only set or keep', async () => {
      await pushInventory(
        inventory([
          ['openssl', '3.0.11-1~deb12u1'],
          ['bash', '5.2.15-2+b2'],
          ['vim', '2:9.0.1378-2'],
        ]),
      );
      assert.deepEqual(await kinds('&kind=package'), []);
      await pushInventory({ ...inventory([]), Pending: true });
      await pushInventory({ ...inventory([]), Stats: null });
      assert.deepEqual(await kinds('&kind=package'), []);
      await pushInventory(
        inventory([
          ['openssl', '3.0.13-1~deb12u1'],
          ['bash', '5.2.15-2+b2'],
          ['curl', '7.88.1-10+deb12u5'],
        ]),
      );
      const got = await events('&kind=package');
      assert.deepEqual(
        got.map((e) => [e.kind, e.subject, e.detail]),
        [
          ['package.installed', 'curl', { version: '7.88.1-10+deb12u5' }],
          ['package.removed', 'vim', { version: '2:9.0.1378-2' }],
          ['package.upgraded', 'openssl', { from: '3.0.11-1~deb12u1', to: '3.0.13-1~deb12u1' }],
        ],
      );
      // The same inventory again changes nothing.
      await pushInventory(
        inventory([
          ['curl', '7.88.1-10+deb12u5'],
          ['openssl', '3.0.13-1~deb12u1'],
          ['bash', '5.2.15-2+b2'],
        ]),
      );
      assert.equal((await events('&kind=package')).length, 3);
      const state = await api('GET', `/api/v1/intelligence/state/${hostId}`);
      assert.equal(state.body.packages.count, 3);
      assert.deepEqual(state.body.packages.items[0], { name: 'bash', version: '5.2.15-2+b2' });
      // A pulled inventory goes through the same comparison.
      const pulled = await h.vigil.intake.recordPullInventory(
        (await h.vigil.agents.row('intel-01'))!,
        inventory([
          ['curl', '7.88.1-10+deb12u5'],
          ['openssl', '3.0.13-1~deb12u1'],
          ['bash', '5.2.15-2+b2'],
          ['htop', '3.2.2-2'],
        ]),
      );
      assert.equal(pulled, true);
      assert.deepEqual((await kinds('&kind=package')).slice(3), ['package.installed htop']);
    });

    test('a kind switched off records no events, the others still do', async () => {
      const off = await api('PUT', '/api/v1/system/intelligence/config', {
        changes: { ports: false, packages: false },
      });
      assert.equal(off.status, 200, JSON.stringify(off.body));
      assert.deepEqual(off.body.changes, {
        packages: false,
        kernel: true,
        reboot: true,
        ports: false,
        users: true,
        units: true,
      });
      assert.equal(off.body.facts.os, true);
      const before = (await events()).length;
      await push({
        at: T0 + 1_000_000,
        kernel: '6.1.0-22-amd64',
        ports: [SSH, SSH6, HTTPS, { protocol: 'tcp', address: '127.0.0.1', port: 5432 }],
      });
      await pushInventory(inventory([['bash', '5.2.15-2+b2']]));
      assert.deepEqual((await kinds()).slice(before), ['kernel.changed 6.1.0-22-amd64']);
      // The state moved on all the same: switching back on gives only new changes.
      const state = await api('GET', `/api/v1/intelligence/state/${hostId}`);
      assert.equal(state.body.listening_ports.length, 4);
      assert.equal(state.body.packages.count, 1);
      const bad = await api('PUT', '/api/v1/system/intelligence/config', {
        changes: { ports: 'yes' },
      });
      assert.equal(bad.status, 400);
      const unknown = await api('PUT', '/api/v1/system/intelligence/config', {
        changes: { bogus: true },
      });
      assert.equal(unknown.status, 400);
      const on = await api('PUT', '/api/v1/system/intelligence/config', {
        changes: { ports: true, packages: true },
      });
      assert.equal(on.body.changes.ports, true);
      await push({ at: T0 + 1_030_000, ports: [SSH, SSH6, HTTPS] });
      assert.deepEqual((await kinds()).slice(before + 1), ['port.closed tcp/127.0.0.1:5432']);
    });

    test('filters, prefixes, time ranges and the cursor', async () => {
      const all = await events();
      assert.ok(all.length >= 10);
      assert.deepEqual(
        (await kinds('&kind=port')).every((k) => k.startsWith('port.')),
        true,
      );
      assert.deepEqual(await kinds('&kind=port.opened'), ['port.opened tcp/0.0.0.0:443']);
      const none = await api('GET', '/api/v1/intelligence/events?host_id=no-such-host');
      assert.equal(none.status, 200);
      assert.deepEqual(none.body, { events: [], next_cursor: null });
      const pushed = await api('GET', `/api/v1/intelligence/events?host_id=${hostId}&limit=200`);
      const times = (pushed.body.events as { at: string }[]).map((e) => Date.parse(e.at));
      const mid = new Date(T0 + 130_000).toISOString();
      const since = await api(
        'GET',
        `/api/v1/intelligence/events?host_id=${hostId}&limit=200&since=${mid}`,
      );
      assert.equal(since.body.events.length, times.filter((t) => t >= T0 + 130_000).length);
      const until = await api(
        'GET',
        `/api/v1/intelligence/events?host_id=${hostId}&limit=200&until=${mid}`,
      );
      assert.equal(until.body.events.length, 6);
      assert.equal(since.body.events.length + until.body.events.length, times.length);

      // Pages of 4 walk the whole list once, newest first.
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
        const page = await api('GET', `/api/v1/intelligence/events?host_id=${hostId}&limit=4${q}`);
        assert.equal(page.status, 200);
        assert.ok(page.body.events.length <= 4);
        seen.push(...page.body.events.map((e: { id: string }) => e.id));
        cursor = page.body.next_cursor;
      } while (cursor);
      assert.deepEqual(
        seen,
        (pushed.body.events as { id: string }[]).map((e) => e.id),
      );
      assert.deepEqual(
        [...seen].sort((a, b) => Number(b) - Number(a)),
        seen,
      );
    });

    test('bad parameters are 400, an unknown host 404', async () => {
      for (const q of [
        'kind=bogus',
        'kind=package.bogus',
        'limit=0',
        'limit=201',
        'limit=many',
        'since=yesterday',
        'until=2026-13-40T00:00:00Z',
        'since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z',
        'cursor=not-a-cursor',
        'colour=blue',
      ]) {
        const res = await api('GET', `/api/v1/intelligence/events?${q}`);
        assert.equal(res.status, 400, `${q}: ${JSON.stringify(res.body)}`);
        assert.equal(typeof res.body.error?.code, 'string', q);
      }
      const missing = await api('GET', '/api/v1/intelligence/state/no-such-host');
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'host.not_found');
      const anonymous = await h.vigil.http.inject({
        method: 'GET',
        url: '/api/v1/intelligence/events',
      });
      assert.equal(anonymous.statusCode, 401);
    });
  });
}
