// Over 500 lines: one end-to-end scenario with a real server and real agent processes, whose
// tests build on each other (enrollment, push, commands, outage, revocation).
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as x509 from '@peculiar/x509';
import SQLite from 'better-sqlite3';
import { eventually, httpsJson } from '../support/https.js';
import { freePort } from '../support/postgres.js';
import {
  ROOT,
  runAgent,
  startAgentRun,
  startServe,
  type AgentRun,
  type Served,
} from '../support/process.js';

const PASSWORD = 'agents end to end password';
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
x509.cryptoProvider.set(webcrypto as never);

/**
 * Issues, with the server's own CA key, a certificate for the agent's key that is 60 days old
 * and has 1 day left, and installs it as the agent's certificate (as if time had passed).
 */
async function agedCertificate(dataDir: string, agentDir: string, id: string) {
  const caPem = readFileSync(path.join(dataDir, 'tls', 'ca.crt'), 'utf8');
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    x509.PemConverter.decode(readFileSync(path.join(dataDir, 'tls', 'ca.key'), 'utf8'))[0]!,
    ALG,
    false,
    ['sign'],
  );
  const spki = createPublicKey(
    createPrivateKey(readFileSync(path.join(agentDir, 'vigil-agent.key'))),
  ).export({ type: 'spki', format: 'der' });
  const publicKey = await webcrypto.subtle.importKey('spki', spki, ALG, true, ['verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '0a1b2c3d',
    subject: `CN=${id}`,
    issuer: new x509.X509Certificate(caPem).subject,
    notBefore: new Date(now - 60 * 86_400_000),
    notAfter: new Date(now + 86_400_000),
    signingAlgorithm: ALG,
    publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ],
  });
  const pem = cert.toString('pem');
  writeFileSync(path.join(agentDir, 'vigil-agent.crt'), pem, { mode: 0o600 });
  return new X509Certificate(pem);
}

/**
 * A config.ini for a test agent: 1 s interval, its web server on a free loopback port, package
 * scans off unless `packages` (then without the slow update check).
 */
async function agentDir(extra = '', packages = false): Promise<{ dir: string; config: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-e2e-'));
  const config = path.join(dir, 'config.ini');
  const scans = packages ? 'enabled = true\nenable-update-check = false' : 'enabled = false';
  writeFileSync(
    config,
    `[default]\ninterval = 1\naddress = 127.0.0.1\nport = ${await freePort()}\n\n[packagemanager]\n${scans}\n${extra}`,
  );
  return { dir, config };
}

/** The Vigil CA of a server's data directory and an admin access token from that server. */
async function adminSession(base: string, dataDir: string): Promise<{ ca: string; token: string }> {
  const ca = readFileSync(path.join(dataDir, 'tls', 'ca.crt'), 'utf8');
  const login = await httpsJson(`${base}/api/v1/auth/login`, {
    ca,
    body: { username: 'admin', password: PASSWORD },
  });
  // Over HTTPS the browser session cookies are Secure.
  const cookies = [login.headers['set-cookie'] ?? []].flat();
  assert.equal(cookies.length, 2);
  for (const c of cookies) assert.match(c, /; Secure(;|$)/);
  assert.match(
    cookies.find((c) => c.startsWith('vigil_session='))!,
    /; HttpOnly;/,
  );
  return { ca, token: login.body.access_token };
}

/** The collection times of an agent's stored pushes, in the order the server stored them. */
function storedPushes(dataDir: string, agentId: string): number[] {
  const db = new SQLite(path.join(dataDir, 'vigil.db'), { readonly: true });
  try {
    return (
      db
        .prepare(
          `select s.ts as ts from samples s join host_keys k on k.id = s.host_key
            join agents a on a.host_id = k.host_id where a.id = ? order by s.rowid`,
        )
        .all(agentId) as { ts: number }[]
    ).map((r) => r.ts);
  } finally {
    db.close();
  }
}

describe('native agents: enrollment, mutual-TLS push, commands, revocation', () => {
  let dataDir: string;
  let port: number;
  let server: Served;
  let ca: string;
  let fingerprint: string;
  let token: string;
  let base: string;
  let enrolled: { dir: string; config: string };
  let agent: AgentRun | undefined;
  const dirs: string[] = [];

  const env = () => ({
    VIGIL_STORAGE_DATA_DIR: dataDir,
    VIGIL_SERVER_LISTEN: `127.0.0.1:${port}`,
    VIGIL_ADMIN_PASSWORD: PASSWORD,
  });
  const api = (p: string, body?: unknown, method?: string) =>
    httpsJson(`${base}${p}`, { ca, token, body, method });
  const reports = () =>
    storedPushes(dataDir, 'e2e-native').map((collected_at) => ({ collected_at }));

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-agents-e2e-'));
    port = await freePort();
    server = await startServe(env());
    base = `https://127.0.0.1:${port}`;
    ({ ca, token } = await adminSession(base, dataDir));
    fingerprint = /CA SHA-256 fingerprint: ([0-9A-F:]{95})/.exec(server.stderr())![1]!;
    // The package scan of this machine is pushed too (dpkg or rpm, where there is one).
    enrolled = await agentDir('', true);
    dirs.push(enrolled.dir);
  });
  after(async () => {
    await agent?.stop();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('enroll refuses a server whose CA does not match the pinned fingerprint', async () => {
    const created = await api('/api/v1/agents', { id: 'e2e-native', name: 'End to end' });
    assert.equal(created.status, 201, created.text);
    const wrong = 'AB'.repeat(32);
    const r = await runAgent([
      'enroll',
      '--server',
      base,
      '--token',
      created.body.enrollment_token,
      '--ca-fingerprint',
      wrong,
      '--config',
      enrolled.config,
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /do not match --ca-fingerprint: refusing to enroll/);
    assert.ok(!existsSync(path.join(enrolled.dir, 'vigil-server.json')));
    assert.ok(!existsSync(path.join(enrolled.dir, 'vigil-agent.key')));
    // The token was not spent on the refused attempt: use it now, pinning the fingerprint written
    // in lower case without colons.
    const ok = await runAgent([
      'enroll',
      '--server',
      base,
      '--token',
      created.body.enrollment_token,
      '--ca-fingerprint',
      fingerprint.replace(/:/g, '').toLowerCase(),
      '--config',
      enrolled.config,
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /enrolled as agent e2e-native/);
    for (const f of ['vigil-server.json', 'vigil-agent.key', 'vigil-agent.crt', 'vigil-ca.crt'])
      assert.equal(statSync(path.join(enrolled.dir, f)).mode & 0o777, 0o600, f);
    const again = await runAgent([
      'enroll',
      '--server',
      base,
      '--token',
      created.body.enrollment_token,
      '--ca-fingerprint',
      fingerprint,
      '--config',
      path.join(enrolled.dir, 'other.ini'),
    ]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /invalid, expired or already used/);
  });

  test('run pushes over mutual TLS: the agent is online with its facts', async () => {
    agent = await startAgentRun(['--config', enrolled.config]);
    assert.match(agent.stderr(), /pushing to https:\/\/127\.0\.0\.1:\d+ \(agent e2e-native\)/);
    const view = await eventually('the agent online', async () => {
      const r = await api('/api/v1/agents/e2e-native');
      return r.body.status === 'online' ? r.body : undefined;
    });
    assert.equal(view.hostname, os.hostname());
    assert.equal(view.os, 'linux');
    assert.ok(view.certificate.fingerprint);
    assert.ok(view.host_id);
    await eventually('three documents', async () => reports().length >= 3);
    // The finished package scan arrives over the native push and is the host's inventory.
    if (['/usr/bin/dpkg-query', '/usr/bin/rpm'].some((f) => existsSync(f))) {
      const packages = await eventually('the package inventory', async () => {
        const r = await api(`/api/v1/hosts/${view.host_id}/packages`);
        return r.body.installed?.length > 0 ? r.body : undefined;
      });
      assert.equal(packages.agent_id, 'e2e-native');
      assert.equal(packages.summary.installed, packages.installed.length);
      assert.match(agent.stderr(), /package inventory sent/);
    }
  });

  test('process detail and signals reach a real process through the agent', async () => {
    const child = spawn('sleep', ['300'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)));
    try {
      const detail = await api(`/api/v1/processes/${child.pid}?agent_id=e2e-native`);
      assert.equal(detail.status, 200, detail.text);
      assert.equal(detail.body.pid, child.pid);
      assert.equal(detail.body.name, 'sleep');
      assert.equal(detail.body.cmdline, 'sleep 300');
      assert.equal(detail.body.user, os.userInfo().username);
      assert.ok(Date.parse(detail.body.startTime) > Date.now() - 120_000);

      const bad = await api(`/api/v1/processes/${child.pid}/signal`, {
        signal: 11,
        agent_id: 'e2e-native',
      });
      assert.equal(bad.status, 400);
      const init = await api('/api/v1/processes/1/signal', { signal: 15, agent_id: 'e2e-native' });
      assert.equal(init.status, 403, init.text);
      assert.equal(init.body.error.code, 'process.protected');

      const sig = await api(`/api/v1/processes/${child.pid}/signal`, {
        signal: 15,
        agent_id: 'e2e-native',
      });
      assert.equal(sig.status, 200, sig.text);
      assert.deepEqual(sig.body, {
        pid: child.pid,
        signal: 15,
        agent_id: 'e2e-native',
        delivered: true,
      });
      assert.equal(await exited, 'SIGTERM');
      const gone = await api(`/api/v1/processes/${child.pid}/signal`, {
        signal: 15,
        agent_id: 'e2e-native',
      });
      assert.equal(gone.status, 404, gone.text);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('server down for a while: buffered documents all arrive, in order, without duplicates', async () => {
    const before = reports().length;
    const stoppedAt = Date.now();
    assert.equal(await server.stop(), 0);
    await new Promise((r) => setTimeout(r, 5000));
    server = await startServe(env());
    const downMs = Date.now() - stoppedAt;
    // Wait until documents collected after the restart arrive.
    const restartedAt = Date.now();
    await eventually(
      'documents from after the restart',
      async () => reports().some((r) => r.collected_at > restartedAt + 1000),
      60_000,
    );
    const rows = reports();
    assert.ok(rows.length - before >= Math.floor(downMs / 1000) - 1, 'the outage was covered');
    for (let i = 1; i < rows.length; i++) {
      const gap = rows[i]!.collected_at - rows[i - 1]!.collected_at;
      assert.ok(gap > 0, `in order and without duplicates at ${i}`);
      assert.ok(gap < 3000, `no document missing at ${i} (gap ${gap} ms)`);
    }
    assert.match(agent!.stderr(), /buffering on disk/);
    assert.match(agent!.stderr(), /takes documents again/);
  });

  test('a certificate in the last third of its life is renewed automatically', async () => {
    await agent!.stop();
    const aged = await agedCertificate(dataDir, enrolled.dir, 'e2e-native');
    const db = new SQLite(path.join(dataDir, 'vigil.db'));
    try {
      db.prepare(
        'update agents set cert_fingerprint = ?, cert_serial = ?, cert_not_after = ? where id = ?',
      ).run(aged.fingerprint256, aged.serialNumber, Date.parse(aged.validTo), 'e2e-native');
    } finally {
      db.close();
    }
    agent = await startAgentRun(['--config', enrolled.config]);
    const renewed = await eventually('the renewed certificate', async () => {
      const c = new X509Certificate(readFileSync(path.join(enrolled.dir, 'vigil-agent.crt')));
      return c.fingerprint256 !== aged.fingerprint256 ? c : undefined;
    });
    assert.ok(Date.parse(renewed.validTo) > Date.now() + 80 * 86_400_000);
    assert.match(agent.stderr(), /certificate renewed/);
    const view = await eventually('the agent on its new certificate', async () => {
      const r = await api('/api/v1/agents/e2e-native');
      return r.body.certificate.fingerprint === renewed.fingerprint256 &&
        Date.parse(r.body.last_seen) > Date.now() - 3000
        ? r.body
        : undefined;
    });
    assert.equal(view.status, 'online');
    // Nothing was cut short or refused on the way (the push and the command long poll under
    // way when the certificate changed finish, or go again with the new one).
    assert.doesNotMatch(agent.stderr(), /socket hang up|not current|buffering on disk/);
    const events = await api('/api/v1/audit/events?action=agent.certificate.renew');
    assert.equal(events.body.items.length, 1);
    assert.equal(events.body.items[0].actor_type, 'agent');
    assert.equal(events.body.items[0].actor_id, 'e2e-native');
  });

  test('revoke: the very next mutual-TLS request of the agent is refused', async () => {
    const cert = readFileSync(path.join(enrolled.dir, 'vigil-agent.crt'), 'utf8');
    const key = readFileSync(path.join(enrolled.dir, 'vigil-agent.key'), 'utf8');
    const push = () =>
      httpsJson(`${base}/api/v1/agents/e2e-native/checkdata`, {
        ca,
        cert,
        key,
        body: { collected_at: 1, checkdata: {} },
      });
    assert.equal((await push()).status, 200);
    // The agent logs the first failure of an outage only: wait until it pushes without one, so
    // that its refusal is logged. Two more stored pushes: the agent sends one at a time, so the
    // first one's answer has been read.
    const stored = reports().length;
    await eventually('the agent pushing normally', async () => {
      const said = agent!.stderr();
      const outage = said.lastIndexOf('; buffering on disk');
      return (
        reports().length >= stored + 2 &&
        (outage < 0 || said.lastIndexOf('takes documents again') > outage)
      );
    });
    const logged = agent!.stderr().length;
    const revokedAt = Date.now();
    const r = await api('/api/v1/agents/e2e-native/revoke', {});
    assert.equal(r.status, 200, r.text);
    const refused = await push();
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'agent.revoked');
    // The agent sends one document at a time: once it has been refused, a push of its that was
    // in flight when the revocation landed has been answered (and, with a 200, stored).
    await eventually('the agent refused', async () => {
      const said = agent!.stderr().slice(logged);
      if (/; buffering on disk/.test(said)) return true;
      throw new Error(`the agent wrote since the revocation: ${said.slice(-400) || 'nothing'}`);
    });
    const count = reports().length;
    await new Promise((r) => setTimeout(r, 2500));
    // Nothing the agent collected after the revocation was taken. (A document collected just
    // before it has been seen stored after this point in rare runs.)
    const late = reports()
      .slice(count)
      .filter((x) => x.collected_at >= revokedAt);
    assert.deepEqual(late, [], 'nothing more was taken from the revoked agent');
    const noCert = await httpsJson(`${base}/api/v1/agents/e2e-native/checkdata`, {
      ca,
      body: { collected_at: 1, checkdata: {} },
    });
    assert.equal(noCert.status, 401);
    await agent!.stop();
    agent = undefined;
  });

  test('without a token: pending until an operator approves, then run pushes', async () => {
    const second = await agentDir();
    dirs.push(second.dir);
    const r = await runAgent([
      'enroll',
      '--server',
      base,
      '--id',
      'e2e-pending',
      '--ca-fingerprint',
      fingerprint,
      '--config',
      second.config,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pending an operator's approval/);
    const pending = await api('/api/v1/agents/pending');
    assert.ok(pending.body.agents.some((a: { id: string }) => a.id === 'e2e-pending'));
    const run = await startAgentRun(['--config', second.config]);
    try {
      await new Promise((res) => setTimeout(res, 1500));
      assert.equal((await api('/api/v1/agents/e2e-pending')).body.status, 'pending');
      const ok = await api('/api/v1/agents/pending/e2e-pending/approve', {});
      assert.equal(ok.status, 200, ok.text);
      await eventually(
        'the approved agent online',
        async () => (await api('/api/v1/agents/e2e-pending')).body.status === 'online',
        30_000,
      );
      assert.match(run.stderr(), /enrollment approved/);
    } finally {
      await run.stop();
    }
  });
});

describe('pull agents: Auto-TLS, mutual TLS, commands, a deleted certificate', () => {
  let dataDir: string;
  let server: Served;
  let ca: string;
  let token: string;
  let base: string;
  let agentConf: { dir: string; config: string };
  let agentPort: number;
  let agent: AgentRun | undefined;

  const api = (p: string, body?: unknown, method?: string) =>
    httpsJson(`${base}${p}`, { ca, token, body, method });
  const reportCount = () => storedPushes(dataDir, 'pulled').length;

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-pull-e2e-'));
    const port = await freePort();
    server = await startServe({
      VIGIL_STORAGE_DATA_DIR: dataDir,
      VIGIL_SERVER_LISTEN: `127.0.0.1:${port}`,
      VIGIL_ADMIN_PASSWORD: PASSWORD,
    });
    base = `https://127.0.0.1:${port}`;
    ({ ca, token } = await adminSession(base, dataDir));
    agentConf = await agentDir();
    agentPort = Number(/port = (\d+)/.exec(readFileSync(agentConf.config, 'utf8'))![1]);
    writeFileSync(
      agentConf.config,
      readFileSync(agentConf.config, 'utf8').replace(
        '[default]\n',
        '[default]\ntry-autossl = True\n',
      ),
    );
    agent = await startAgentRun(['--config', agentConf.config]);
  });
  after(async () => {
    await agent?.stop();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(agentConf.dir, { recursive: true, force: true });
  });

  test('the server runs Auto-TLS at first contact, then pulls over mutual TLS only', async () => {
    const created = await api('/api/v1/agents', {
      id: 'pulled',
      name: 'Pulled',
      address: `127.0.0.1:${agentPort}`,
      interval_seconds: 1,
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.enrollment_token, undefined);
    const view = await eventually(
      'the pull agent online over mutual TLS',
      async () => {
        const r = await api('/api/v1/agents/pulled');
        return r.body.status === 'online' && r.body.pull.tls === 'mtls' ? r.body : undefined;
      },
      30_000,
    );
    assert.equal(view.kind, 'pull');
    assert.ok(view.certificate.fingerprint);
    for (const f of ['agent.crt', 'agent.key', 'server_ca.crt'])
      assert.ok(existsSync(path.join(agentConf.dir, f)), f);
    assert.match(agent!.stderr(), /mutual TLS/);
    // The agent now refuses plain HTTP and clients without the Vigil CA's certificate.
    await assert.rejects(httpsJson(`https://127.0.0.1:${agentPort}/`, { ca, timeoutMs: 5000 }));
    const n = reportCount();
    await eventually('more pulled documents', async () => reportCount() >= n + 2);
  });

  test('a signal reaches a real process through the pull channel', async () => {
    const child = spawn('sleep', ['300'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)));
    try {
      const sig = await api(`/api/v1/processes/${child.pid}/signal?agent_id=pulled`, {
        signal: 9,
      });
      assert.equal(sig.status, 200, sig.text);
      assert.equal(sig.body.delivered, true);
      assert.equal(await exited, 'SIGKILL');
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('an agent that answers plain HTTP later is flagged "certificate deleted" and not trusted', async () => {
    await agent!.stop();
    for (const f of ['agent.crt', 'agent.key', 'server_ca.crt', 'agent.csr'])
      rmSync(path.join(agentConf.dir, f), { force: true });
    agent = await startAgentRun(['--config', agentConf.config]);
    assert.match(agent.stderr(), /serving http:/);
    const view = await eventually(
      'the certificate-deleted flag',
      async () => {
        const r = await api('/api/v1/agents/pulled');
        return r.body.pull.tls === 'certificate_deleted' ? r.body : undefined;
      },
      30_000,
    );
    assert.match(view.last_error, /certificate deleted on agent/);
    const n = reportCount();
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(reportCount(), n, 'nothing pulled over plain HTTP was stored');
    assert.ok(!existsSync(path.join(agentConf.dir, 'agent.crt')), 'no new Auto-TLS was attempted');
  });
});

describe('openITCOCKPIT push mode against Vigil', () => {
  let dataDir: string;
  let server: Served;
  let ca: string;
  let token: string;
  let base: string;
  let conf: { dir: string; config: string };
  let agent: AgentRun | undefined;
  const api = (p: string, body?: unknown) => httpsJson(`${base}${p}`, { ca, token, body });

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-oitc-e2e-'));
    const port = await freePort();
    server = await startServe({
      VIGIL_STORAGE_DATA_DIR: dataDir,
      VIGIL_SERVER_LISTEN: `127.0.0.1:${port}`,
      VIGIL_ADMIN_PASSWORD: PASSWORD,
      VIGIL_AGENTS_OITC_API_KEY: 'agent-api-key-1',
    });
    base = `https://127.0.0.1:${port}`;
    ({ ca, token } = await adminSession(base, dataDir));
    conf = await agentDir(
      `\n[oitc]\nenabled = True\nurl = ${base}\nverify-server-certificate = False\ntimeout = 10\napikey = agent-api-key-1\n`,
    );
  });
  after(async () => {
    await agent?.stop();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(conf.dir, { recursive: true, force: true });
  });

  test('registers, waits for approval with documents buffered, then delivers them all', async () => {
    const startedAt = Date.now();
    agent = await startAgentRun(['--config', conf.config], { webServer: false });
    const authFile = path.join(conf.dir, 'agent.auth');
    await eventually(
      'the auth file',
      async () => existsSync(authFile) && statSync(authFile).size > 0,
    );
    const auth = await eventually('the password', async () => {
      const a = JSON.parse(readFileSync(authFile, 'utf8')) as { uuid: string; password: string };
      return a.password ? a : undefined;
    });
    assert.equal(statSync(authFile).mode & 0o777, 0o600);
    assert.match(auth.password, /^[0-9a-f]{128}$/);
    const pending = await api('/api/v1/agents/pending');
    const mine = pending.body.agents.find((a: { id: string }) => a.id === auth.uuid);
    assert.equal(mine.kind, 'oitc');
    assert.equal(mine.hostname, os.hostname());
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await api(`/api/v1/agents/pending/${auth.uuid}/approve`, {})).status, 200);
    const approvedAt = Date.now();
    await eventually(
      'the buffered documents delivered',
      async () => {
        const rows = storedPushes(dataDir, auth.uuid);
        return rows.length >= Math.floor((approvedAt - startedAt) / 1000) - 1 &&
          rows.every((ts, i) => i === 0 || ts > rows[i - 1]!)
          ? rows
          : undefined;
      },
      30_000,
    );
    assert.equal((await api(`/api/v1/agents/${auth.uuid}`)).body.status, 'online');
    assert.match(agent.stderr(), /waiting for the server to approve it/);
    // openITCOCKPIT's agent has no web server in push mode unless enable-webserver is set.
    const port = Number(/port = (\d+)/.exec(readFileSync(conf.config, 'utf8'))![1]);
    await assert.rejects(
      new Promise((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => resolve(s.end()));
        s.on('error', reject);
      }),
    );
  });
});

describe('npm start: a newcomer sees their own machine', () => {
  test('the local agent is enrolled through the native path at first start and reports at once', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-start-e2e-'));
    const port = await freePort();
    const env = {
      ...process.env,
      VIGIL_STORAGE_DATA_DIR: dataDir,
      VIGIL_SERVER_LISTEN: `127.0.0.1:${port}`,
      VIGIL_ADMIN_PASSWORD: PASSWORD,
      VIGIL_AGENT_LOCAL_PORT: String(await freePort()),
    };
    const start = () => {
      const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'start.mjs')], {
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (c) => (err += c));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      return { child, stderr: () => err, exited };
    };
    const base = `https://127.0.0.1:${port}`;
    let run = start();
    try {
      await eventually('the server', async () => /^Vigil https:/m.test(run.stderr()), 60_000);
      // `npm start` prints the console's URL first (the admin password is the configured one:
      // no initial password file to point to).
      assert.match(run.stderr(), /^Vigil console: https:\/\/\S+\/\n/);
      assert.doesNotMatch(run.stderr(), /Initial admin password/);
      const { ca, token } = await adminSession(base, dataDir);
      const local = await eventually(
        'the local agent online',
        async () => {
          const r = await httpsJson(`${base}/api/v1/agents`, { ca, token });
          return r.body.agents.find(
            (a: { kind: string; status: string }) => a.kind === 'native' && a.status === 'online',
          );
        },
        60_000,
      );
      assert.equal(local.hostname, os.hostname());
      assert.ok(!existsSync(path.join(dataDir, 'agent', 'enrollment-token')), 'token spent');
      run.child.kill('SIGTERM');
      assert.equal(await run.exited, 0);

      // A second start reuses the enrollment: still one agent, online again.
      run = start();
      await eventually('the server again', async () => /^Vigil https:/m.test(run.stderr()), 60_000);
      const before = Date.now();
      await eventually(
        'the same agent reporting again',
        async () => {
          const r = await httpsJson(`${base}/api/v1/agents`, { ca, token });
          return (
            r.body.agents.length === 1 && Date.parse(r.body.agents[0].last_seen) > before && r.body
          );
        },
        60_000,
      );
      assert.doesNotMatch(run.stderr(), /WARNING/);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
