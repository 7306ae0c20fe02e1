// Benchmark: configuration as data at fleet size. A built `vigil serve` (SQLite, temporary data
// directory) gets, through the Director face, three levels of host templates with 20 custom
// variables each (one base, 5 imports of it, 25 imports of those), a check command and services
// on the templates, and 10,000 hosts each importing one template of the third level with vars of
// its own. Then it measures, on loopback:
//
// - `GET director/host?name=X&resolved` (HTTP Basic auth, as Director clients send it): p99
//   (target < 20 ms);
// - `GET /api/v1/hosts`, the first page: p99 (target < 50 ms);
// - a merge `POST director/host?name=X` setting one var: p99 (target < 30 ms);
// - a full deploy (`POST director/config/deploy`): seconds (target < 10 s), and the deployment's
//   Icinga 2 rendering validated by `icinga2 daemon -C` (when icinga2 is installed; with CI=true
//   its absence fails the run).
//
// Each figure is printed with PASS/FAIL; the exit status is 1 only when the run itself failed.
// Settings (environment): VIGIL_BENCH_CONFIG_HOSTS (default 10000), VIGIL_BENCH_CONFIG_REQUESTS
// (requests per latency figure, default 500).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../test/support/postgres.js';
import { validateIcinga2 } from '../test/support/icinga2.js';
import { request, startServer } from './server.js';

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer`);
  return v;
}
const HOSTS = intFromEnv('VIGIL_BENCH_CONFIG_HOSTS', 10_000);
const REQUESTS = intFromEnv('VIGIL_BENCH_CONFIG_REQUESTS', 500);
const PASSWORD = 'config benchmark password';
const BASIC = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
const JSON_ACCEPT = { accept: 'application/json' };

const vars = (prefix: string) =>
  Object.fromEntries(
    Array.from({ length: 20 }, (_, i) => [`${prefix}_${i}`, `${prefix} value ${i}`]),
  );

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-config-'));
  const port = await freePort();
  const server = await startServer({ dataDir, port, adminPassword: PASSWORD });
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 8,
    ca: readFileSync(path.join(dataDir, 'tls', 'ca.crt')),
  });
  try {
    const login = await request(
      agent,
      port,
      'POST',
      '/api/v1/auth/login',
      JSON.stringify({ username: 'admin', password: PASSWORD }),
    );
    if (login.status !== 200) throw new Error(`login: ${login.status} ${login.text}`);
    const token = (JSON.parse(login.text) as { access_token: string }).access_token;
    const bearer = { authorization: `Bearer ${token}`, ...JSON_ACCEPT };
    const call = async (method: string, url: string, body?: unknown, expect = [200, 201]) => {
      const r = await request(
        agent,
        port,
        method,
        url,
        body === undefined ? undefined : JSON.stringify(body),
        bearer,
      );
      if (!expect.includes(r.status)) throw new Error(`${method} ${url}: ${r.status} ${r.text}`);
      return r;
    };

    process.stderr.write('creating templates, a command and services…\n');
    await call('POST', '/director/command', {
      object_name: 'bench-ping',
      object_type: 'object',
      command: 'check_ping',
      arguments: { '-H': '$address$', '-w': '100,20%', '-c': '500,60%' },
    });
    await call('POST', '/director/host', {
      object_name: 'level1',
      object_type: 'template',
      check_command: 'bench-ping',
      vars: vars('l1'),
    });
    for (let i = 0; i < 5; i++)
      await call('POST', '/director/host', {
        object_name: `level2-${i}`,
        object_type: 'template',
        imports: ['level1'],
        vars: vars(`l2`),
      });
    for (let i = 0; i < 25; i++)
      await call('POST', '/director/host', {
        object_name: `level3-${i}`,
        object_type: 'template',
        imports: [`level2-${i % 5}`],
        vars: vars('l3'),
      });
    await call('POST', '/director/service', {
      object_name: 'ping',
      object_type: 'object',
      host: 'level1',
      check_command: 'bench-ping',
    });

    process.stderr.write(`creating ${HOSTS} hosts…\n`);
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next++; i < HOSTS; i = next++)
          await call('POST', '/director/host', {
            object_name: `host-${String(i).padStart(5, '0')}.example.com`,
            object_type: 'object',
            address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
            imports: [`level3-${i % 25}`],
            vars: { own: i, role: i % 2 ? 'web' : 'db' },
          });
      }),
    );
    process.stderr.write(`  ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

    const timed = async (label: string, fn: (i: number) => Promise<void>) => {
      for (let i = 0; i < 20; i++) await fn(i); // warm-up
      const times: number[] = [];
      for (let i = 0; i < REQUESTS; i++) {
        const s = performance.now();
        await fn(i);
        times.push(performance.now() - s);
      }
      times.sort((a, b) => a - b);
      process.stderr.write(`  ${label}: p50 ${pct(times, 0.5).toFixed(1)} ms\n`);
      return pct(times, 0.99);
    };
    const someHost = (i: number) =>
      `host-${String((i * 7919) % HOSTS).padStart(5, '0')}.example.com`;

    process.stderr.write('measuring…\n');
    const resolvedP99 = await timed('GET director/host resolved', async (i) => {
      const r = await request(
        agent,
        port,
        'GET',
        `/director/host?name=${someHost(i)}&resolved`,
        undefined,
        { authorization: BASIC, ...JSON_ACCEPT },
      );
      if (r.status !== 200) throw new Error(`resolved: ${r.status} ${r.text}`);
    });
    const hostsP99 = await timed('GET /api/v1/hosts first page', async () => {
      await call('GET', '/api/v1/hosts');
    });
    const mergeP99 = await timed('merge POST director/host', async (i) => {
      await call(
        'POST',
        `/director/host?name=${someHost(i)}`,
        { 'vars.bench': `run ${i}` },
        [200, 304],
      );
    });

    const d0 = performance.now();
    const deploy = await call('POST', '/director/config/deploy');
    const deploySeconds = (performance.now() - d0) / 1000;
    const { checksum } = JSON.parse(deploy.text) as { checksum: string };
    const list = JSON.parse((await call('GET', '/api/v1/deployments')).text) as {
      items: { id: string; checksum: string; objects: number }[];
    };
    const deployment = list.items.find((d) => d.checksum === checksum);
    if (!deployment) throw new Error(`deployment ${checksum} not listed`);
    const rendered = (await call('GET', `/api/v1/deployments/${deployment.id}/icinga2`)).text;
    const validation = await validateIcinga2(rendered);

    console.log(`\nconfiguration benchmark: ${HOSTS} hosts, 3 template levels × 20 vars`);
    console.log(
      `GET director/host?name=X&resolved p99   ${resolvedP99.toFixed(1)} ms (< 20 ms)  ${verdict(resolvedP99 < 20)}`,
    );
    console.log(
      `GET /api/v1/hosts first page p99        ${hostsP99.toFixed(1)} ms (< 50 ms)  ${verdict(hostsP99 < 50)}`,
    );
    console.log(
      `merge POST director/host p99            ${mergeP99.toFixed(1)} ms (< 30 ms)  ${verdict(mergeP99 < 30)}`,
    );
    console.log(
      `full deploy (${deployment.objects} objects)        ${deploySeconds.toFixed(2)} s (< 10 s)  ${verdict(deploySeconds < 10)}`,
    );
    console.log(
      `icinga2 daemon -C on the rendering      ${validation.ok ? 'valid' : validation.skipped ? `skipped (${validation.reason})` : `INVALID\n${validation.output}`}  ${verdict(validation.ok)}`,
    );
  } finally {
    agent.destroy();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
