import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { buildCsr } from '../../agent/src/serve/csr.js';
import { createVigil, type Vigil } from '../src/app.js';
import { systemContext } from '../src/audit/service.js';
import { loadConfig } from '../src/config/config.js';
import { openDb } from '../src/db/connection.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { ADMIN_PASSWORD, startHarness, type Harness } from '../../../test/support/harness.js';
import { CHECKDATA_FIXTURE as FIXTURE } from '../../../test/support/fixtures.js';

const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const csrFor = (name: string) => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return buildCsr(privateKey, name);
};

/** The fixture with a container and a service, and the given CPU figure. */
const documentWith = (cpu: number) => ({
  ...fixture,
  cpu: { ...(fixture.cpu as object), cpu_total_percentage: cpu },
  docker: [
    {
      id: 'c0ffee',
      name: 'web',
      image: 'nginx:1.27',
      state: 'running',
      status: 'Up 2 hours',
      cpu_percentage: 1.5,
      memory_used: 4096,
      memory_percentage: 2.5,
      network_rx: 10,
      network_tx: 20,
      disk_read: 30,
      disk_write: 40,
    },
  ],
  systemd_services: [
    {
      Name: 'ssh.service',
      Description: 'OpenBSD Secure Shell server',
      LoadState: 'loaded',
      ActiveState: 'active',
      SubState: 'running',
    },
  ],
});

for (const kind of await databaseKinds()) {
  describe(`the fleet overview and host sections on ${kind.name}`, () => {
    // Half past a minute: pushes a few seconds before it fall in the current minute.
    let clock = Date.parse('2026-12-03T10:00:30Z');
    let h: Harness;
    let admin: string;
    let hostId: string;
    let agentId: string;

    const enroll = async (hostname: string) => {
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/agents/enroll',
        remoteAddress: '10.1.0.1',
        payload: { csr: csrFor(hostname), hostname },
      });
      assert.equal(res.statusCode, 202, res.body);
      return (res.json() as { agent_id?: string; id?: string }).agent_id!;
    };
    const approve = async (id: string) => {
      const res = await h.inject({
        method: 'POST',
        url: `/api/v1/agents/pending/${id}/approve`,
        headers: bearer(admin),
      });
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as { host_id: string };
    };

    before(async () => {
      h = await startHarness(kind, {
        env: { VIGIL_SERVER_TLS: 'auto' },
        now: () => clock,
      });
      admin = await h.login();
      agentId = await enroll('web-1');
      hostId = (await approve(agentId)).host_id;
      await h.vigil.telemetry.ingest({ agentId, hostId }, clock - 5000, documentWith(42.5));
    });
    after(() => h.close());

    test('GET /hosts lists the host online with its system, figures and sparklines', async () => {
      const res = await h.inject({ url: '/api/v1/hosts', headers: bearer(admin) });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.equal(body.total, 1);
      const [host] = body.items;
      assert.equal(host.id, hostId);
      assert.equal(host.name, 'web-1');
      assert.equal(host.status, 'online');
      assert.deepEqual(
        host.agents.map((a: { id: string; status: string }) => [a.id, a.status]),
        [[agentId, 'online']],
      );
      assert.deepEqual(host.os, {
        name: 'debian',
        family: 'debian',
        version: '12',
        kernel: '6.18.44-fc-v782',
        architecture: 'amd64',
      });
      assert.equal(host.uptime_seconds, 22590);
      assert.equal(host.latest.cpu_percent, 42.5);
      assert.equal(typeof host.latest.memory_percent, 'number');
      // The fixture's two custom checks are OK.
      assert.deepEqual(host.checks, { ok: 2, warning: 0, critical: 0, unknown: 0 });
      for (const line of ['cpu', 'memory', 'disk', 'network']) {
        assert.equal(host.sparklines[line].length, 30, line);
        assert.deepEqual(host.sparklines[line].slice(0, 29), Array(29).fill(null), line);
      }
      assert.equal(host.sparklines.cpu[29], 42.5);
    });

    test('a rolled-up minute stays on the sparkline, one point further back', async () => {
      clock += 60_000;
      await h.vigil.telemetry.ingest({ agentId, hostId }, clock - 5000, documentWith(10));
      clock += 30_000;
      await h.vigil.telemetry.runRollups();
      const host = (
        await h.inject({ url: `/api/v1/hosts/${hostId}`, headers: bearer(admin) })
      ).json();
      assert.deepEqual(host.sparklines.cpu.slice(27), [42.5, 10, null]);
      assert.equal(host.latest.cpu_percent, 10);
    });

    test('q, status and limit filter; bad values are 400 in the native envelope', async () => {
      const other = await enroll('db-1');
      const list = async (query: string) => {
        const res = await h.inject({ url: `/api/v1/hosts${query}`, headers: bearer(admin) });
        assert.equal(res.statusCode, 200, res.body);
        return res.json() as { items: { name: string; status: string }[]; total: number };
      };
      // A pending agent has no host yet: it is not in the list.
      assert.deepEqual(
        (await list('')).items.map((x) => x.name),
        ['web-1'],
      );
      await approve(other);
      assert.deepEqual(
        (await list('')).items.map((x) => x.name),
        ['db-1', 'web-1'],
      );
      assert.deepEqual(
        (await list('?q=WEB')).items.map((x) => x.name),
        ['web-1'],
      );
      assert.deepEqual(
        (await list('?status=offline')).items.map((x) => x.name),
        ['db-1'],
      );
      const limited = await list('?limit=1');
      assert.equal(limited.items.length, 1);
      assert.equal(limited.total, 2);
      for (const bad of ['?limit=0', '?limit=5001', '?limit=x', '?status=asleep']) {
        const res = await h.inject({ url: `/api/v1/hosts${bad}`, headers: bearer(admin) });
        assert.equal(res.statusCode, 400, bad);
        assert.equal(res.json().error.fault, 'client', bad);
        assert.equal(res.json().error.code, 'validation_failed', bad);
      }
    });

    test('unknown hosts are 404 host.not_found on every host route', async () => {
      for (const sub of ['', '/processes', '/containers', '/services', '/packages']) {
        const res = await h.inject({ url: `/api/v1/hosts/nope${sub}`, headers: bearer(admin) });
        assert.equal(res.statusCode, 404, sub);
        assert.equal(res.json().error.code, 'host.not_found', sub);
      }
      // An id no host can have is refused before any read.
      for (const sub of ['', '/processes', '/packages']) {
        const res = await h.inject({
          url: `/api/v1/hosts/${'x'.repeat(129)}${sub}`,
          headers: bearer(admin),
        });
        assert.equal(res.statusCode, 400, sub);
        assert.equal(res.json().error.fault, 'client', sub);
      }
    });

    test('processes, containers and services come from the newest document', async () => {
      const get = async (sub: string) => {
        const res = await h.inject({
          url: `/api/v1/hosts/${hostId}/${sub}`,
          headers: bearer(admin),
        });
        assert.equal(res.statusCode, 200, res.body);
        return res.json();
      };
      const processes = await get('processes');
      assert.equal(processes.agent_id, agentId);
      assert.equal(processes.items.length, 63);
      const init = processes.items.find((p: { pid: number }) => p.pid === 1);
      assert.ok(init, 'pid 1 is listed');
      assert.equal(typeof init.name, 'string');
      assert.ok(init.rss_bytes === null || typeof init.rss_bytes === 'number');
      const containers = await get('containers');
      assert.deepEqual(containers.items, [
        {
          id: 'c0ffee',
          name: 'web',
          image: 'nginx:1.27',
          state: 'running',
          status: 'Up 2 hours',
          cpu_percent: 1.5,
          memory_used_bytes: 4096,
          memory_percent: 2.5,
          network_rx_bytes: 10,
          network_tx_bytes: 20,
          disk_read_bytes: 30,
          disk_write_bytes: 40,
        },
      ]);
      const services = await get('services');
      assert.deepEqual(services.items, [
        {
          name: 'ssh.service',
          description: 'OpenBSD Secure Shell server',
          load_state: 'loaded',
          active_state: 'active',
          sub_state: 'running',
          unit_file_state: null,
        },
      ]);
    });

    test('packages: the stored inventory, filtered by q', async () => {
      const empty = await h.inject({
        url: `/api/v1/hosts/${hostId}/packages`,
        headers: bearer(admin),
      });
      assert.equal(empty.statusCode, 200, empty.body);
      assert.deepEqual(empty.json().installed, []);
      assert.equal(empty.json().summary.installed, null);
      await h.vigil.telemetry.ingestInventory(agentId, {
        Enabled: true,
        Pending: false,
        LastUpdate: 1_796_000_000,
        Stats: {
          InstalledPackages: 2,
          UpgradablePackages: 1,
          SecurityUpdates: 1,
          RebootRequired: false,
          LastError: null,
          OperatingSystem: 'linux',
          PackageManager: 'apt',
          OsName: 'Debian GNU/Linux',
          OsVersion: '12',
          OsFamily: 'debian',
          AgentVersion: '0.1.0',
          Uptime: 100,
        },
        LinuxPackages: [
          { Name: 'openssl', Version: '3.0.15', Description: 'Secure Sockets Layer toolkit' },
          { Name: 'bash', Version: '5.2.15', Description: 'GNU Bourne Again SHell' },
        ],
        LinuxUpdates: [
          {
            Name: 'openssl',
            CurrentVersion: '3.0.15',
            AvailableVersion: '3.0.16',
            IsSecurityUpdate: true,
            IsPatch: false,
          },
        ],
        WindowsApps: [],
        WindowsUpdates: [],
        MacosApps: [],
        MacosUpdates: [],
      });
      const res = await h.inject({
        url: `/api/v1/hosts/${hostId}/packages?q=SSL`,
        headers: bearer(admin),
      });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.deepEqual(body.summary, {
        installed: 2,
        upgradable: 1,
        security_updates: 1,
        reboot_required: false,
        last_update: new Date(1_796_000_000_000).toISOString(),
      });
      assert.deepEqual(body.installed, [
        { name: 'openssl', version: '3.0.15', description: 'Secure Sockets Layer toolkit' },
      ]);
      assert.deepEqual(body.updates, [
        { name: 'openssl', current_version: '3.0.15', new_version: '3.0.16', security: true },
      ]);
    });

    test('a viewer reads the hosts; anonymous callers get 401 except for the CA', async () => {
      const viewer = await h.userWithRoles('watcher', ['viewer']);
      const urls = ['/api/v1/hosts', `/api/v1/hosts/${hostId}`, `/api/v1/hosts/${hostId}/packages`];
      for (const url of urls) {
        assert.equal((await h.inject({ url, headers: bearer(viewer) })).statusCode, 200, url);
        assert.equal((await h.inject({ url })).statusCode, 401, url);
      }
      const ca = await h.inject({ url: '/api/v1/tls/ca' });
      assert.equal(ca.statusCode, 200, ca.body);
      const body = ca.json();
      assert.equal(body.fingerprint_sha256, h.vigil.ca.fingerprint);
      assert.match(body.certificate, /^-----BEGIN CERTIFICATE-----/);
      assert.ok(Date.parse(body.not_before) < Date.parse(body.not_after));
      assert.match(body.subject, /CN=/);
      const pem = await h.inject({ url: '/api/v1/tls/ca?format=pem' });
      assert.equal(pem.statusCode, 200);
      assert.match(String(pem.headers['content-type']), /^application\/x-pem-file/);
      assert.equal(pem.body, h.vigil.ca.caPem);
      assert.equal((await h.inject({ url: '/api/v1/tls/ca?format=der' })).statusCode, 400);
    });
  });

  test(`after a restart on ${kind.name}, the sparklines hold what the process before rolled up`, async () => {
    const created = await kind.create();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-hosts-restart-'));
    const config = loadConfig({
      file: path.join(dir, 'absent.toml'),
      fileRequired: false,
      env: { VIGIL_STORAGE_DATA_DIR: dir, VIGIL_SERVER_TLS: 'off' },
    });
    let clock = Date.parse('2026-12-03T12:00:30Z');
    const now = () => clock;
    const logger = pino({ level: 'silent' });
    let second: Vigil | undefined;
    try {
      const first = await createVigil({ config, logger, db: created.db, now });
      await first.identity.ensureFirstAdmin(ADMIN_PASSWORD, systemContext('test'));
      await created.db.kysely
        .insertInto('hosts')
        .values({ id: 'h1', name: 'restarted', address: null, created_at: 0, updated_at: 0 })
        .execute();
      await created.db.kysely
        .insertInto('agents')
        .values({
          id: 'a1',
          name: 'a1',
          host_id: 'h1',
          kind: 'native',
          approval: 'approved',
          interval_seconds: 30,
          registered_at: 0,
          updated_at: 0,
        })
        .execute();
      await first.telemetry.ingest({ agentId: 'a1', hostId: 'h1' }, clock - 5000, documentWith(33));
      clock += 60_000;
      await first.telemetry.runRollups();
      await first.close();

      clock += 60_000;
      second = await createVigil({
        config,
        logger,
        db: created.sqliteFile
          ? openDb({ sqliteFile: created.sqliteFile })
          : openDb({ url: created.url!, poolMax: 5 }),
        now,
      });
      const login = await second.http.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'admin', password: ADMIN_PASSWORD },
      });
      const res = await second.http.inject({
        url: '/api/v1/hosts/h1',
        headers: bearer(login.json().access_token as string),
      });
      assert.equal(res.statusCode, 200, res.body);
      const host = res.json();
      // Two minutes on: the rolled-up minute is third from the end; nothing pushed since.
      assert.deepEqual(host.sparklines.cpu.slice(26), [null, 33, null, null]);
      assert.equal(host.latest.cpu_percent, 33, 'the newest minute stands in for the newest push');
      assert.equal(host.status, 'offline');
      // The system as the agent row holds it until the host reports again.
      assert.equal(host.os.name, 'linux');
      assert.equal(host.os.architecture, 'amd64');
    } finally {
      await second?.close();
      await created.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
