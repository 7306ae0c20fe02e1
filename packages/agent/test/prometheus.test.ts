import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { startAgent } from '../src/agent.js';
import { AgentConfigError, parseAgentConfig } from '../src/config.js';
import {
  EXPORTER_DEFAULTS,
  parsePrometheusExporters,
  PrometheusExportersError,
} from '../src/prometheus/config.js';
import { startPrometheusScraper } from '../src/prometheus/scraper.js';
import { FIXTURES } from './support.js';

test('[prometheus] of the openITCOCKPIT example config.ini: on, exporters beside config.ini', () => {
  const text = readFileSync(path.join(FIXTURES, 'oitc-config', 'config_example.ini'), 'utf8');
  const c = parseAgentConfig(text, '/etc/openitcockpit-agent/config.ini');
  assert.deepEqual(c.prometheus, {
    enabled: true,
    exporters: '/etc/openitcockpit-agent/prometheus_exporters.ini',
  });
  assert.equal(c.toggles.ntp, true);
});

test('[prometheus]: off by default; a relative exporters path; a bad value is an error', () => {
  assert.equal(parseAgentConfig('', '/etc/vigil-agent/config.ini').prometheus.enabled, false);
  assert.equal(
    parseAgentConfig('[prometheus]\nexporters = exp.ini\n', '/opt/a/config.ini').prometheus
      .exporters,
    '/opt/a/exp.ini',
  );
  assert.throws(
    () => parseAgentConfig('[prometheus]\nenabled = maybe\n', undefined),
    (e: unknown) => e instanceof AgentConfigError && /\[prometheus\] enabled/.test(e.message),
  );
  assert.throws(
    () => parseAgentConfig('[prometheus]\nport = 1\n', undefined),
    (e: unknown) => e instanceof AgentConfigError && /unknown key/.test(e.message),
  );
});

// The openITCOCKPIT agent's example prometheus_exporters.ini.
const EXAMPLE = `[node_exporter]
enabled = True
method = http
port = 9100
path = /metrics
interval = 15
timeout = 5

[mysqld_exporter]
enabled = True
method = http
port = 9104
path = /metrics
interval = 15
timeout = 5
`;

test('parsePrometheusExporters: the openITCOCKPIT example file', () =>
  assert.deepEqual(parsePrometheusExporters(EXAMPLE), [
    {
      name: 'node_exporter',
      method: 'http',
      port: 9100,
      path: '/metrics',
      intervalSeconds: 15,
      timeoutSeconds: 5,
    },
    {
      name: 'mysqld_exporter',
      method: 'http',
      port: 9104,
      path: '/metrics',
      intervalSeconds: 15,
      timeoutSeconds: 5,
    },
  ]));

test('parsePrometheusExporters: defaults, https, disabled exporters and [default] left out', () =>
  assert.deepEqual(
    parsePrometheusExporters(
      '[default]\nenabled = True\n[a]\nenabled = True\nport = 1\npath = /m\nmethod = HTTPS\n' +
        '[b]\nport = 2\npath = /m\n[c]\nenabled = False\nport = 3\npath = /m\n' +
        '[d]\nenabled = yes\nport = 4\npath = /x\nmethod = ftp\ninterval = 5\n',
    ),
    [
      { name: 'a', method: 'https', port: 1, path: '/m', ...EXPORTER_DEFAULTS },
      { name: 'd', method: 'http', port: 4, path: '/x', intervalSeconds: 5, timeoutSeconds: 5 },
    ],
  ));

for (const [name, text, pattern] of [
  ['malformed INI', '[a\nport = 1\n', /line 1/],
  ['an unknown key', '[a]\nenabled = True\nport = 1\npath = /m\nhost = x\n', /unknown key "host"/],
  ['no port', '[a]\nenabled = True\npath = /m\n', /"port" is missing/],
  ['a port out of range', '[a]\nport = 70000\npath = /m\n', /"port" must be a whole number/],
  ['a port that is not a number', '[a]\nport = http\npath = /m\n', /"port" must be a whole number/],
  ['no path', '[a]\nenabled = True\nport = 1\n', /"path" is missing/],
  ['an empty path', '[a]\nport = 1\npath =\n', /"path" is missing/],
  ['a relative path', '[a]\nport = 1\npath = metrics\n', /must start with \//],
  ['a bad boolean', '[a]\nenabled = perhaps\nport = 1\npath = /m\n', /"enabled" must be True/],
  [
    'a timeout longer than the interval',
    '[a]\nport = 1\npath = /m\ninterval = 5\ntimeout = 10\n',
    /timeout \(10 s\) is longer than the interval \(5 s\)/,
  ],
  ['a zero interval', '[a]\nport = 1\npath = /m\ninterval = 0\n', /"interval" must be/],
] as const)
  test(`parsePrometheusExporters rejects ${name}`, () =>
    assert.throws(
      () => parsePrometheusExporters(text),
      (err: unknown) => err instanceof PrometheusExportersError && pattern.test(err.message),
    ));

/** A small exporter on 127.0.0.1: `/metrics` answers the page, any other path 500. */
async function exporter(page: () => string) {
  let scrapes = 0;
  const server = http.createServer((req, res) => {
    scrapes++;
    if (req.url !== '/metrics') {
      res.statusCode = 500;
      res.end('broken');
      return;
    }
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(page());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    scrapes: () => scrapes,
    close: () => new Promise((r) => server.close(r)),
  };
}

/** A port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const PAGE =
  '# HELP app_requests_total Requests.\n# TYPE app_requests_total counter\napp_requests_total 7\n';

test("scraper: keeps each exporter's latest page; a failing one has none and is logged once", async () => {
  let n = 7;
  const ok = await exporter(() => PAGE.replace('7', String(n)));
  const closed = await freePort();
  const logs: string[] = [];
  const scraper = startPrometheusScraper(
    [
      {
        name: 'app',
        method: 'http',
        port: ok.port,
        path: '/metrics',
        intervalSeconds: 3600,
        timeoutSeconds: 5,
      },
      {
        name: 'broken',
        method: 'http',
        port: ok.port,
        path: '/other',
        intervalSeconds: 3600,
        timeoutSeconds: 5,
      },
      {
        name: 'down',
        method: 'http',
        port: closed,
        path: '/metrics',
        intervalSeconds: 3600,
        timeoutSeconds: 5,
      },
    ],
    { log: (l) => logs.push(l) },
  );
  try {
    await scraper.scrapeAll();
    assert.deepEqual(scraper.names(), ['app', 'broken', 'down']);
    assert.deepEqual(scraper.answered(), ['app']);
    assert.equal(scraper.metrics('app'), PAGE);
    assert.equal(scraper.metrics('broken'), undefined);
    assert.equal(scraper.metrics('down'), undefined);
    n = 8;
    await scraper.scrapeAll();
    assert.match(scraper.metrics('app')!, /^app_requests_total 8$/m);
    assert.deepEqual(logs.sort(), [
      'prometheus exporter broken failed: HTTP 500',
      `prometheus exporter down failed: connect ECONNREFUSED 127.0.0.1:${closed}`,
    ]);
  } finally {
    await scraper.stop();
    await ok.close();
  }
});

test('scraper: a real node_exporter (Debian package prometheus-node-exporter)', async (t) => {
  const bin = '/usr/bin/prometheus-node-exporter';
  if (!existsSync(bin)) {
    // CI installs it; elsewhere the test is skipped rather than failed.
    assert.ok(process.env.CI !== 'true', 'prometheus-node-exporter is required under CI=true');
    return t.skip('prometheus-node-exporter is not installed');
  }
  const port = await freePort();
  const child = spawn(
    bin,
    [
      `--web.listen-address=127.0.0.1:${port}`,
      '--collector.disable-defaults',
      '--collector.loadavg',
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise((r) => child.on('exit', r));
  const scraper = startPrometheusScraper(
    [
      {
        name: 'node_exporter',
        method: 'http',
        port,
        path: '/metrics',
        intervalSeconds: 3600,
        timeoutSeconds: 5,
      },
    ],
    { log: () => {} },
  );
  try {
    // node_exporter takes a moment to listen: scrape until it answers (bounded).
    for (let i = 0; i < 50 && scraper.metrics('node_exporter') === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100));
      await scraper.scrapeAll();
    }
    const page = scraper.metrics('node_exporter');
    assert.ok(page, 'node_exporter answered');
    assert.match(page, /^node_load1 \d/m);
    assert.match(page, /^node_exporter_build_info\{/m);
  } finally {
    await scraper.stop();
    child.kill();
    await exited;
  }
});

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

test('agent: [prometheus] scrapes the exporters of prometheus_exporters.ini and serves them', async () => {
  const app = await exporter(() => PAGE);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-prometheus-'));
  dirs.push(dir);
  const port = await freePort();
  writeFileSync(
    path.join(dir, 'config.ini'),
    `[default]\naddress = 127.0.0.1\nport = ${port}\ninterval = 1\nconfig-update-mode = True\n` +
      'processstats = False\nsystemdservices = False\nntp = False\ngpustats = False\nsmartstats = False\n' +
      '[prometheus]\nenabled = True\n[packagemanager]\nenabled = False\n',
  );
  const exporters = `[app]\nenabled = True\nport = ${app.port}\npath = /metrics\ninterval = 60\ntimeout = 5\n`;
  writeFileSync(path.join(dir, 'prometheus_exporters.ini'), exporters);
  const agent = await startAgent(path.join(dir, 'config.ini'), { log: () => {} });
  const get = (p: string) =>
    new Promise<{ status: number; type: string; body: string }>((resolve, reject) =>
      http
        .get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c));
          res.on('end', () =>
            resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }),
          );
        })
        .on('error', reject),
    );
  try {
    // The first scrape starts with the agent; the exporter has answered once it counted it.
    for (let i = 0; i < 50 && app.scrapes() === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const list = await get('/prometheus');
    assert.deepEqual([list.status, JSON.parse(list.body)], [200, ['app']]);
    let page = await get('/prometheus?exporter=app');
    for (let i = 0; i < 50 && page.body !== PAGE; i++) {
      await new Promise((r) => setTimeout(r, 20));
      page = await get('/prometheus?exporter=app');
    }
    assert.deepEqual([page.status, page.type, page.body], [200, 'text/plain', PAGE]);
    const config = JSON.parse((await get('/config')).body) as Record<string, string>;
    assert.equal(Buffer.from(config.prometheus_exporter!, 'base64').toString(), exporters);
    // The next document lists the exporter (a cycle a second; bounded).
    const listed = () =>
      (agent.document() as { prometheus_exporters?: string[] }).prometheus_exporters ?? [];
    for (let i = 0; i < 50 && !listed().includes('app'); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(listed(), ['app']);
  } finally {
    await agent.stop();
    await app.close();
  }
});

test('vigil-agent check-config validates prometheus_exporters.ini when [prometheus] is on', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-check-config-'));
  dirs.push(dir);
  const config = path.join(dir, 'config.ini');
  writeFileSync(config, '[prometheus]\nenabled = True\n');
  const run = () =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          path.join(import.meta.dirname, '..', 'src', 'main.ts'),
          'check-config',
          '--config',
          config,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  writeFileSync(path.join(dir, 'prometheus_exporters.ini'), EXAMPLE);
  const good = await run();
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /prometheus exporters: .*prometheus_exporters\.ini: OK, 2 enabled/);
  writeFileSync(
    path.join(dir, 'prometheus_exporters.ini'),
    '[node_exporter]\nenabled = True\nport = 9100\n',
  );
  const bad = await run();
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^vigil-agent: exporter \[node_exporter\], line 1: "path" is missing/);
});
