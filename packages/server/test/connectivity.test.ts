import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';
import { sshdUnavailable, startSshd, type Sshd } from '../../../test/support/sshd.js';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

// A real OpenSSH server: without one these tests cannot run, and under CI that is a failure.
const missing = sshdUnavailable();
if (missing && process.env.CI === 'true') throw new Error(`CI needs sshd: ${missing}`);

let keyCounter = 0;
const key = () => `k-${process.pid}-${++keyCounter}`;

for (const kind of await databaseKinds()) {
  describe(`connectivity and discovery over SSH on ${kind.name}`, { skip: missing }, () => {
    let h: Harness;
    let admin: string;
    let sshd: Sshd;

    const call = (
      method: 'GET' | 'POST' | 'PUT',
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
    const newHost = async (hostname: string) => {
      const res = await call('POST', '/api/v1/hosts', {
        hostname,
        ip_address: sshd.host,
        port: sshd.port,
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id as string;
    };
    const credential = async (body: Record<string, unknown>) => {
      const res = await call('POST', '/api/v1/credentials', {
        name: 'ssh',
        username: sshd.username,
        ...body,
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id as string;
    };
    const check = async (hostId: string) => {
      const res = await call('POST', `/api/v1/hosts/${hostId}/connectivity:check`, undefined, {
        'idempotency-key': key(),
      });
      assert.equal(res.statusCode, 200, res.body);
      return res.json();
    };
    const discover = async (hostId: string) => {
      const res = await call('POST', `/api/v1/hosts/${hostId}/discovery:run`, undefined, {
        'idempotency-key': key(),
      });
      assert.equal(res.statusCode, 200, res.body);
      return res.json();
    };

    before(async () => {
      sshd = await startSshd();
      h = await startHarness(kind);
      admin = await h.login();
    });
    after(async () => {
      await h?.close();
      await sshd?.stop();
    });

    test('key authentication: reachable, the host key recorded, liveness kept', async () => {
      const hostId = await newHost('ssh-key');
      const credId = await credential({
        scope: 'host',
        host_id: hostId,
        auth_method: 'ssh_key',
        private_key: sshd.privateKey,
      });
      const r = await check(hostId);
      assert.equal(r.state, 'reachable', JSON.stringify(r));
      assert.equal(r.tcp.ok, true);
      assert.equal(r.tcp.port, sshd.port);
      assert.equal(r.ssh.attempted, true);
      assert.equal(r.ssh.ok, true);
      assert.equal(r.ssh.credential_id, credId);
      assert.match(r.ssh.host_key_fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
      assert.equal(typeof r.response_ms, 'number');
      const host = (await call('GET', `/api/v1/hosts/${hostId}`)).json();
      assert.equal(host.liveness.state, 'reachable');
      assert.equal(host.liveness.consecutive_failures, 0);
      assert.equal(host.liveness.checked_at, r.checked_at);
    });

    test('an encrypted key opened with its passphrase logs in', async () => {
      const hostId = await newHost('ssh-rsa');
      await credential({
        scope: 'host',
        host_id: hostId,
        auth_method: 'ssh_key',
        private_key: sshd.encryptedKey,
        private_key_passphrase: sshd.passphrase,
      });
      const r = await check(hostId);
      assert.equal(r.ssh.ok, true, JSON.stringify(r));
    });

    test('password authentication through a clone of a system credential', async () => {
      const hostId = await newHost('ssh-password');
      const system = await credential({
        scope: 'system',
        auth_method: 'password',
        password: sshd.password,
      });
      const res = await call('POST', `/api/v1/credentials/${system}:clone`, {
        scope: 'host',
        host_id: hostId,
      });
      assert.equal(res.statusCode, 201, res.body);
      const r = await check(hostId);
      assert.equal(r.state, 'reachable', JSON.stringify(r));
      assert.equal(r.ssh.credential_id, res.json().id);
    });

    test('a wrong password is unreachable by authentication, and counted', async () => {
      const hostId = await newHost('ssh-wrong');
      await credential({
        scope: 'host',
        host_id: hostId,
        auth_method: 'password',
        password: 'not-the-password',
      });
      const first = await check(hostId);
      assert.equal(first.state, 'unreachable');
      assert.equal(first.tcp.ok, true);
      assert.equal(first.ssh.ok, false);
      assert.equal(first.ssh.failure, 'auth_failed');
      assert.equal(first.consecutive_failures, 1);
      assert.equal((await check(hostId)).consecutive_failures, 2);
      const row = await h.vigil.db.kysely
        .selectFrom('host_liveness')
        .selectAll()
        .where('host_id', '=', hostId)
        .executeTakeFirstOrThrow();
      assert.equal(row.state, 'unreachable');
      assert.equal(Number(row.ssh_ok), 0);
      assert.match(row.error ?? '', /auth_failed/);
      // Discovery with it fails the same way and keeps nothing.
      const d = await discover(hostId);
      assert.equal(d.ok, false);
      assert.match(d.error, /^auth_failed/);
      assert.equal(d.facts, null);
      assert.equal((await call('GET', `/api/v1/hosts/${hostId}/system-info`)).statusCode, 404);
    });

    test('discovery parses the fixed commands into the host system-info', async () => {
      const hostId = await newHost('ssh-discover');
      await credential({
        scope: 'host',
        host_id: hostId,
        auth_method: 'both',
        private_key: sshd.privateKey,
        password: sshd.password,
      });
      const d = await discover(hostId);
      assert.equal(d.ok, true, JSON.stringify(d));
      const f = d.facts;
      for (const c of ['os_release', 'uname', 'nproc', 'meminfo', 'df', 'ip_addr'])
        assert.equal(f.commands[c].status, 'ok', `${c}: ${JSON.stringify(f.commands[c])}`);
      // The server runs on this machine: its facts are this machine's.
      assert.equal(f.os.kernel, os.release());
      assert.equal(f.os.architecture, execFileSync('uname', ['-m']).toString().trim());
      assert.equal(f.cpu.cores, Number(execFileSync('nproc').toString().trim()));
      assert.ok(f.memory.total_bytes > 0);
      assert.ok(f.disks.some((x: { mountpoint: string }) => x.mountpoint === '/'));
      const lo = f.interfaces.find((i: { name: string }) => i.name === 'lo');
      assert.ok(lo?.addresses.includes('127.0.0.1/8'), JSON.stringify(f.interfaces));
      const info = await call('GET', `/api/v1/hosts/${hostId}/system-info`);
      assert.equal(info.statusCode, 200, info.body);
      const s = info.json();
      assert.equal(s.source, 'discovery');
      assert.equal(s.agent_id, null);
      assert.equal(s.hostname, 'ssh-discover');
      assert.equal(s.os.kernel, os.release());
      assert.equal(s.cpu.cores, f.cpu.cores);
      assert.equal(s.memory.total_bytes, f.memory.total_bytes);

      // Fact groups not collected are skipped.
      const cfg = await call('PUT', '/api/v1/system/intelligence/config', {
        facts: { storage: false, network: false },
      });
      assert.equal(cfg.statusCode, 200, cfg.body);
      const narrow = (await discover(hostId)).facts;
      assert.equal(narrow.commands.df.status, 'skipped');
      assert.equal(narrow.commands.ip_addr.status, 'skipped');
      assert.deepEqual(narrow.disks, []);
      assert.equal(narrow.os.kernel, os.release());
      await call('PUT', '/api/v1/system/intelligence/config', {
        facts: { storage: true, network: true },
      });
    });

    test('the sweep queues every host with a credential and discovers them in the background', async () => {
      const hostId = await newHost('ssh-sweep');
      await credential({
        scope: 'host',
        host_id: hostId,
        auth_method: 'ssh_key',
        private_key: sshd.privateKey,
      });
      const res = await call('POST', '/api/v1/system/discovery/sweep', undefined, {
        'idempotency-key': key(),
      });
      assert.equal(res.statusCode, 202, res.body);
      assert.ok(res.json().host_ids.includes(hostId));
      let info = await call('GET', `/api/v1/hosts/${hostId}/system-info`);
      for (let i = 0; i < 200 && info.statusCode === 404; i++) {
        await new Promise((r) => setTimeout(r, 50));
        info = await call('GET', `/api/v1/hosts/${hostId}/system-info`);
      }
      assert.equal(info.statusCode, 200, info.body);
      assert.equal(info.json().source, 'discovery');
    });

    test('the worker probes every host with an address on its schedule', async () => {
      const hostId = await newHost('ssh-worker');
      await credential({
        scope: 'host',
        host_id: hostId,
        auth_method: 'ssh_key',
        private_key: sshd.privateKey,
      });
      const put = await call('PUT', '/api/v1/system/connectivity/config', {
        interval_seconds: 10,
        timeout_seconds: 9,
      });
      assert.equal(put.statusCode, 200, put.body);
      // The first sweep starts one interval after the server did, on a 5-second tick; on a
      // loaded machine a handshake may miss the timeout once, and the next sweep tries again.
      let host = (await call('GET', `/api/v1/hosts/${hostId}`)).json();
      for (let i = 0; i < 160 && host.liveness.state !== 'reachable'; i++) {
        await new Promise((r) => setTimeout(r, 250));
        host = (await call('GET', `/api/v1/hosts/${hostId}`)).json();
      }
      const row = await h.vigil.db.kysely
        .selectFrom('host_liveness')
        .selectAll()
        .where('host_id', '=', hostId)
        .executeTakeFirst();
      assert.equal(host.liveness.state, 'reachable', JSON.stringify(row));
      const status = (await call('GET', '/api/v1/system/connectivity/status')).json();
      assert.ok(status.last_sweep_started_at);
      assert.ok(status.next_sweep_at);
      await call('PUT', '/api/v1/system/connectivity/config', { enabled: false });
      assert.equal(
        (await call('GET', '/api/v1/system/connectivity/status')).json().state,
        'disabled',
      );
    });
  });
}
