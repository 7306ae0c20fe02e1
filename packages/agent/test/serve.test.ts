import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { PackageInventory, type AgentCommand } from '@vigil/protocol';
import { parseAgentConfig, type AgentConfig } from '../src/config.js';
import { pendingInventory } from '../src/inventory/packages.js';
import { startAgentServer, type AgentServer } from '../src/serve/server.js';
import { createTestCa, csrNames } from './ca.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: () => any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** One request to the agent's server. */
function request(
  url: string,
  opts: { method?: string; body?: string; auth?: string; tls?: https.RequestOptions } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http;
    const headers: Record<string, string> = {};
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.auth) headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    const req = lib.request(
      url,
      { method: opts.method ?? 'GET', headers, agent: false, ...opts.tls },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body,
            json: () => JSON.parse(body),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The metrics page the test server's `node_exporter` has. */
const METRICS = '# HELP node_load1 1m load average.\n# TYPE node_load1 gauge\nnode_load1 0.21\n';

/** A temporary agent directory with config.ini (and customchecks.ini) and a server on it. */
async function serverWith(
  configText: string,
  custom?: string,
): Promise<{
  dir: string;
  config: () => AgentConfig;
  server: AgentServer;
  url: string;
  reloads: () => number;
  commands: AgentCommand[];
  setDocument: (d: Record<string, unknown>) => void;
  close: () => Promise<void>;
}> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-serve-'));
  const file = path.join(dir, 'config.ini');
  writeFileSync(file, configText);
  if (custom !== undefined) writeFileSync(path.join(dir, 'customchecks.ini'), custom);
  const load = () => ({
    ...parseAgentConfig(readFileSync(file, 'utf8'), file),
    address: '127.0.0.1',
    port: 0,
  });
  let config = load();
  let doc: Record<string, unknown> | undefined;
  let reloads = 0;
  const commands: AgentCommand[] = [];
  const server = await startAgentServer({
    config: () => config,
    document: () => doc,
    packages: () => JSON.stringify(pendingInventory(true)),
    prometheus: () => ({
      names: () => ['node_exporter', 'mysqld_exporter'],
      metrics: (name: string) => (name === 'node_exporter' ? METRICS : undefined),
    }),
    reload: async () => {
      reloads++;
      config = load();
    },
    command: (c) => {
      commands.push(c);
      return { ok: true };
    },
  });
  return {
    dir,
    config: () => config,
    server,
    get url() {
      return `${server.tls ? 'https' : 'http'}://127.0.0.1:${server.port}`;
    },
    reloads: () => reloads,
    commands,
    setDocument: (d) => (doc = d),
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('GET /, errors and Basic auth', () => {
  let s: Awaited<ReturnType<typeof serverWith>>;
  before(async () => (s = await serverWith('[default]\nauth = admin:s3cret pass\n')));
  after(() => s.close());

  test('{} before the first cycle, then the latest document', async () => {
    assert.deepEqual((await request(`${s.url}/`, { auth: 'admin:s3cret pass' })).json(), {});
    s.setDocument({ system_load: { '0': 1, '1': 2, '2': 3 } });
    const a = await request(`${s.url}/`, { auth: 'admin:s3cret pass' });
    assert.equal(a.status, 200);
    assert.equal(a.headers['content-type'], 'application/json');
    assert.deepEqual(a.json(), { system_load: { '0': 1, '1': 2, '2': 3 } });
  });

  test('no credentials or wrong ones are 403, as openITCOCKPIT answers', async () => {
    assert.equal((await request(`${s.url}/`)).status, 403);
    assert.equal((await request(`${s.url}/`, { auth: 'admin:wrong' })).status, 403);
    assert.equal((await request(`${s.url}/`, { auth: 'other:s3cret pass' })).status, 403);
  });

  test('unknown path 404, wrong method 405 with Allow', async () => {
    const nf = await request(`${s.url}/nope`, { auth: 'admin:s3cret pass' });
    assert.equal(nf.status, 404);
    assert.ok(nf.json().error);
    const m = await request(`${s.url}/`, { method: 'DELETE', auth: 'admin:s3cret pass' });
    assert.equal(m.status, 405);
    assert.equal(m.headers.allow, 'GET');
  });

  test('/config is 403 while config-update-mode is off', async () => {
    assert.equal((await request(`${s.url}/config`, { auth: 'admin:s3cret pass' })).status, 403);
    assert.equal(
      (await request(`${s.url}/config`, { method: 'POST', body: '{}', auth: 'admin:s3cret pass' }))
        .status,
      403,
    );
    // Without mutual TLS there is no command channel.
    const cmd = await request(`${s.url}/vigil/command`, {
      method: 'POST',
      auth: 'admin:s3cret pass',
      body: JSON.stringify({ id: 'c1', kind: 'process.signal', pid: 1234, signal: 9 }),
    });
    assert.equal(cmd.status, 403);
    assert.equal(s.commands.length, 0);
  });

  test("GET /prometheus: the exporter names, or one exporter's metrics as text", async () => {
    const auth = 'admin:s3cret pass';
    const list = await request(`${s.url}/prometheus`, { auth });
    assert.equal(list.status, 200);
    assert.equal(list.headers['content-type'], 'application/json');
    assert.deepEqual(list.json(), ['node_exporter', 'mysqld_exporter']);
    const one = await request(`${s.url}/prometheus?exporter=node_exporter`, { auth });
    assert.equal(one.status, 200);
    assert.equal(one.headers['content-type'], 'text/plain');
    assert.equal(one.body, METRICS);
    // As the openITCOCKPIT agent: an exporter without metrics is a 200 with this text.
    for (const name of ['mysqld_exporter', 'nope']) {
      const none = await request(`${s.url}/prometheus?exporter=${name}`, { auth });
      assert.deepEqual([none.status, none.body], [200, 'Unknown exporter']);
    }
    assert.equal((await request(`${s.url}/prometheus`)).status, 403);
  });

  test('GET /packages answers the inventory shape (Pending before the first scan)', async () => {
    const a = await request(`${s.url}/packages`, { auth: 'admin:s3cret pass' });
    assert.equal(a.status, 200);
    assert.ok(Value.Check(PackageInventory, a.json()));
    assert.equal(a.json().Pending, true);
  });
});

describe('GET/POST /config with config-update-mode', () => {
  const CONFIG = '[default]\nconfig-update-mode = True\ninterval = 30\n';
  const CHECKS = '[check_a]\ncommand = /bin/true\ninterval = 60\ntimeout = 5\n';
  let s: Awaited<ReturnType<typeof serverWith>>;
  before(async () => (s = await serverWith(CONFIG, CHECKS)));
  after(() => s.close());
  const b64 = (t: string) => Buffer.from(t).toString('base64');
  const files = () => [
    readFileSync(path.join(s.dir, 'config.ini'), 'utf8'),
    readFileSync(path.join(s.dir, 'customchecks.ini'), 'utf8'),
  ];

  test('GET returns the files in base64 (no exporter file yet: empty)', async () => {
    const a = await request(`${s.url}/config`);
    assert.equal(a.status, 200);
    assert.equal(Buffer.from(a.json().configuration, 'base64').toString(), CONFIG);
    assert.equal(Buffer.from(a.json().customcheck_configuration, 'base64').toString(), CHECKS);
    assert.equal(a.json().prometheus_exporter, '');
  });

  for (const [name, body, pattern] of [
    ['invalid JSON', '{"configuration":', /not valid JSON/],
    ['not an object', '[1]', /JSON object/],
    [
      'bad base64',
      JSON.stringify({ configuration: '%%%not base64%%%' }),
      /configuration is not valid base64/,
    ],
    [
      'unknown key',
      JSON.stringify({ configuration: b64('[default]\ncolour = red\n') }),
      /unknown key/,
    ],
    [
      'bad boolean',
      JSON.stringify({ configuration: b64('[default]\ncpustats = perhaps\n') }),
      /True or False/,
    ],
    [
      'bad custom checks',
      JSON.stringify({
        configuration: b64(CONFIG),
        customcheck_configuration: b64('[c]\ncommand = x\ninterval = 5\ntimeout = 10\n'),
      }),
      /customcheck_configuration: .*timeout \(10 s\) is longer than the interval/,
    ],
    [
      'bad exporters',
      JSON.stringify({
        configuration: b64(CONFIG),
        prometheus_exporter: b64('[node_exporter]\nenabled = True\nport = 9100\n'),
      }),
      /prometheus_exporter: exporter \[node_exporter\].*"path" is missing/,
    ],
  ] as const)
    test(`POST with ${name} → 400 and nothing written`, async () => {
      const before = files();
      const a = await request(`${s.url}/config`, { method: 'POST', body });
      assert.equal(a.status, 400, a.body);
      assert.match(a.json().error, pattern);
      assert.deepEqual(files(), before);
      assert.equal(s.reloads(), 0);
    });

  test('POST with a too large body → 413', async () => {
    const a = await request(`${s.url}/config`, {
      method: 'POST',
      body: JSON.stringify({ configuration: 'A'.repeat(2 * 1024 * 1024) }),
    });
    assert.equal(a.status, 413);
  });

  test('a valid POST writes both files, keeps backups and reloads', async () => {
    const nextConfig = '[default]\nconfig-update-mode = True\ninterval = 15\n';
    const nextChecks = '[check_b]\ncommand = /bin/false\n';
    const a = await request(`${s.url}/config`, {
      method: 'POST',
      body: JSON.stringify({
        configuration: b64(nextConfig),
        customcheck_configuration: b64(nextChecks),
      }),
    });
    assert.equal(a.status, 200, a.body);
    assert.deepEqual(files(), [nextConfig, nextChecks]);
    assert.equal(readFileSync(path.join(s.dir, 'config.ini.bak'), 'utf8'), CONFIG);
    assert.equal(readFileSync(path.join(s.dir, 'customchecks.ini.bak'), 'utf8'), CHECKS);
    assert.equal(s.reloads(), 1);
    assert.equal(s.config().interval, 15);
  });

  test('a POST with prometheus_exporter writes the exporter file; GET returns it', async () => {
    const nextConfig = '[default]\nconfig-update-mode = True\n[prometheus]\nenabled = True\n';
    const exporters =
      '[node_exporter]\nenabled = True\nmethod = http\nport = 9100\npath = /metrics\ninterval = 15\ntimeout = 5\n';
    const a = await request(`${s.url}/config`, {
      method: 'POST',
      body: JSON.stringify({ configuration: b64(nextConfig), prometheus_exporter: b64(exporters) }),
    });
    assert.equal(a.status, 200, a.body);
    assert.equal(readFileSync(path.join(s.dir, 'prometheus_exporters.ini'), 'utf8'), exporters);
    const g = await request(`${s.url}/config`);
    assert.equal(Buffer.from(g.json().prometheus_exporter, 'base64').toString(), exporters);
  });
});

describe('Auto-TLS', () => {
  let s: Awaited<ReturnType<typeof serverWith>>;
  before(async () => (s = await serverWith('[default]\ntry-autossl = True\n')));
  after(() => s.close());

  test('GET /autotls gives a CSR for the domain from a key made on first use; POST switches to mutual TLS', async () => {
    const a = await request(`${s.url}/autotls?domain=127.0.0.1`);
    assert.equal(a.status, 200, a.body);
    const csr = a.json().csr as string;
    assert.match(csr, /^-----BEGIN CERTIFICATE REQUEST-----/);
    assert.deepEqual(csrNames(csr), { cn: '127.0.0.1', sans: ['127.0.0.1'] });
    const keyFile = path.join(s.dir, 'agent.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const key = readFileSync(keyFile, 'utf8');
    // A second CSR reuses the key.
    await request(`${s.url}/autotls?domain=127.0.0.1`);
    assert.equal(readFileSync(keyFile, 'utf8'), key);
    assert.equal((await request(`${s.url}/autotls?domain=bad%20name`)).status, 400);

    const ca = await createTestCa();
    const other = await createTestCa('Another CA');
    const signed = await ca.signServer(csr);
    // A certificate from a CA other than the one given is refused.
    const wrong = await request(`${s.url}/autotls`, {
      method: 'POST',
      body: JSON.stringify({ signed, ca: other.certPem }),
    });
    assert.equal(wrong.status, 400);
    assert.match(wrong.json().error, /not issued by the given CA/);
    assert.equal(
      (
        await request(`${s.url}/autotls`, {
          method: 'POST',
          body: JSON.stringify({ signed: 'x', ca: 'y' }),
        })
      ).status,
      400,
    );
    assert.equal(existsSync(path.join(s.dir, 'agent.crt')), false);

    const ok = await request(`${s.url}/autotls`, {
      method: 'POST',
      body: JSON.stringify({ signed, ca: ca.certPem }),
    });
    assert.equal(ok.status, 200, ok.body);
    for (let i = 0; i < 50 && !s.server.tls; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(s.server.tls, true);

    const client = await ca.client('vigil-server');
    const mtls = await request(`${s.url}/`, {
      tls: { ca: ca.certPem, cert: client.certPem, key: client.keyPem },
    });
    assert.equal(mtls.status, 200);
    // The command channel of a pulling Vigil server answers over this mutual TLS.
    const cmd = { id: 'c1', kind: 'process.get', pid: 1 };
    const run = await request(`${s.url}/vigil/command`, {
      method: 'POST',
      body: JSON.stringify(cmd),
      tls: { ca: ca.certPem, cert: client.certPem, key: client.keyPem },
    });
    assert.equal(run.status, 200, run.body);
    assert.deepEqual(run.json(), { ok: true });
    assert.deepEqual(s.commands, [cmd]);
    // Without a client certificate, or with one from another CA, the handshake is refused.
    await assert.rejects(request(`${s.url}/`, { tls: { ca: ca.certPem } }));
    const stranger = await other.client('stranger');
    await assert.rejects(
      request(`${s.url}/`, {
        tls: { ca: ca.certPem, cert: stranger.certPem, key: stranger.keyPem },
      }),
    );
  });
});

describe('Auto-TLS while try-autossl is off', () => {
  let s: Awaited<ReturnType<typeof serverWith>>;
  before(async () => (s = await serverWith('[default]\ntry-autossl = False\n')));
  after(() => s.close());

  test('/autotls still answers, as the openITCOCKPIT agent does; the certificate waits for try-autossl', async () => {
    const a = await request(`${s.url}/autotls?domain=127.0.0.1`);
    assert.equal(a.status, 200, a.body);
    const csr = a.json().csr as string;
    assert.match(csr, /^-----BEGIN CERTIFICATE REQUEST-----/);
    const ca = await createTestCa();
    const ok = await request(`${s.url}/autotls`, {
      method: 'POST',
      body: JSON.stringify({ signed: await ca.signServer(csr), ca: ca.certPem }),
    });
    assert.equal(ok.status, 200, ok.body);
    assert.ok(existsSync(path.join(s.dir, 'agent.crt')));
    // The restart keeps plain HTTP: mutual TLS needs try-autossl.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(s.server.tls, false);
    assert.equal((await request(`${s.url}/`)).status, 200);
  });
});

test('HTTPS with certfile and keyfile', async () => {
  const ca = await createTestCa();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-tls-'));
  try {
    // Issue a server certificate for 127.0.0.1 through a CSR made with the agent's own builder.
    const { buildCsr } = await import('../src/serve/csr.js');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(
      path.join(dir, 'server.crt'),
      await ca.signServer(buildCsr(privateKey, '127.0.0.1')),
    );
    writeFileSync(
      path.join(dir, 'server.key'),
      privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    const s = await serverWith(
      '[default]\ncertfile = ' +
        path.join(dir, 'server.crt') +
        '\nkeyfile = ' +
        path.join(dir, 'server.key') +
        '\n',
    );
    try {
      assert.equal(s.server.tls, true);
      const a = await request(`${s.url}/`, { tls: { ca: ca.certPem } });
      assert.equal(a.status, 200);
    } finally {
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the reference /packages answers validate against the inventory schema', () => {
  const dir = path.join(import.meta.dirname, 'fixtures', 'oitc-packages');
  for (const f of ['ubuntu2404.json', 'almalinux9.json'])
    assert.deepEqual(
      [...Value.Errors(PackageInventory, JSON.parse(readFileSync(path.join(dir, f), 'utf8')))].map(
        (e) => e.path,
      ),
      [],
      f,
    );
});
