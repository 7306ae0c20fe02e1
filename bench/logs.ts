// Benchmark: log ingest and search. A built `vigil serve` (SQLite, temporary data directory) on
// 127.0.0.1, through the real API:
//
// 1. Ingest: several enrolled native agents push gzipped batches of log lines (about 1,000 each)
//    over their mutual TLS (`POST /api/v1/agents/{id}/logs`), concurrently, for a while: lines
//    committed per second (target ≥ 50,000).
// 2. Search: a store of 10 million lines (filled through the log store in big batches before the
//    server starts; messages drawn from a vocabulary with a Zipf-like spread, so some words are in
//    most lines and others in a few), then `GET /api/v1/logs` for a rare word, a common word with
//    a level filter, and a phrase: p50/p99 (target p99 < 100 ms each); then
//    `GET /api/v1/logs/histogram` of the same three (the same target).
//
// Settings (environment): VIGIL_BENCH_LOGS_AGENTS (default 8), VIGIL_BENCH_LOGS_BATCH (lines per
// push, 1000), VIGIL_BENCH_LOGS_PUSHES (pushes in the ingest run, 1500),
// VIGIL_BENCH_LOGS_LINES (lines stored for the search, 10,000,000), VIGIL_BENCH_LOGS_REQUESTS
// (requests per search figure, 200), VIGIL_BENCH_LOGS_ONLY (`ingest` or `search`). Each figure is
// printed with PASS/FAIL; the exit status is 1 only when the run itself failed.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildCsr } from '../packages/agent/src/serve/csr.js';
import { openDb } from '../packages/server/src/db/connection.js';
import { migrate } from '../packages/server/src/db/migrations/index.js';
import { createLogStore, type LogRow } from '../packages/server/src/logs/store.js';
import { freePort } from '../test/support/postgres.js';
import { request, startServer, type Server } from './server.js';

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer`);
  return v;
}

const AGENTS = intFromEnv('VIGIL_BENCH_LOGS_AGENTS', 8);
const BATCH = intFromEnv('VIGIL_BENCH_LOGS_BATCH', 1000);
const PUSHES = intFromEnv('VIGIL_BENCH_LOGS_PUSHES', 1500);
const LINES = intFromEnv('VIGIL_BENCH_LOGS_LINES', 10_000_000);
const REQUESTS = intFromEnv('VIGIL_BENCH_LOGS_REQUESTS', 200);
const ONLY = process.env.VIGIL_BENCH_LOGS_ONLY ?? '';
const PASSWORD = 'logs benchmark password';
const INGEST_TARGET = 50_000;
const SEARCH_TARGET_MS = 100;

const pct = (sorted: number[], p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
const log = (msg: string) => console.error(`# ${msg}`);

/** CPU seconds (user and system) a process has used, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A seeded generator (mulberry32), so that every run stores the same lines. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The vocabulary: 20,000 made-up words; word `r` (0-based rank) is drawn with weight 1/(r+1)
 * (Zipf, s = 1), so the first words are in most lines and the last in a few hundred of 10 M.
 */
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'tor', 'vel', 'sun', 'da', 'rex', 'pi', 'qua', 'zen'];
const VOCABULARY = Array.from({ length: 20_000 }, (_, i) => {
  let w = '';
  let n = i + 1;
  while (n > 0) {
    w += SYLLABLES[n % SYLLABLES.length];
    n = Math.floor(n / SYLLABLES.length);
  }
  return w;
});
const CUMULATIVE = (() => {
  const c = new Float64Array(VOCABULARY.length);
  let sum = 0;
  VOCABULARY.forEach((_, r) => (c[r] = sum += 1 / (r + 1)));
  return c.map((v) => v / sum);
})();
function zipfWord(rnd: () => number): string {
  const x = rnd();
  let lo = 0;
  let hi = CUMULATIVE.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (CUMULATIVE[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return VOCABULARY[lo]!;
}

/** A rare word: one line in 200,000 has it. */
const RARE = 'quuxfrobnicated';
/** A common word: the vocabulary's first, in most lines. */
const COMMON = VOCABULARY[0]!;
/** A phrase: in one line in 1,000. */
const PHRASE = 'connection refused';

const SERVICES = ['nginx.service', 'sshd.service', 'postgresql.service', 'cron.service', 'app'];
const LEVELS = [
  'info',
  'info',
  'info',
  'info',
  'info',
  'info',
  'info',
  'debug',
  'warning',
  'error',
];

/** One message: a service-like prefix and 6 to 14 words. */
function message(rnd: () => number, i: number): string {
  const words: string[] = [];
  const n = 6 + Math.floor(rnd() * 9);
  for (let k = 0; k < n; k += 1) words.push(zipfWord(rnd));
  if (i % 200_000 === 7) words.splice(2, 0, RARE);
  if (i % 1000 === 3) words.splice(1, 0, PHRASE);
  return `${SERVICES[i % SERVICES.length]}[${1000 + (i % 30000)}]: ${words.join(' ')}`;
}

/** Fills `dataDir`'s database with `count` lines through the log store, in big batches. */
async function fill(dataDir: string, count: number): Promise<void> {
  const db = openDb({ sqliteFile: path.join(dataDir, 'vigil.db') });
  await migrate(db);
  const store = createLogStore(db.kysely, db.dialect, db.sqlite);
  const rnd = random(42);
  const start = Date.now() - 3_600_000;
  const began = performance.now();
  const per = 50_000;
  for (let i = 0; i < count; i += per) {
    const rows: LogRow[] = [];
    for (let k = i; k < Math.min(count, i + per); k += 1) {
      const msg = message(rnd, k);
      rows.push({
        timestamp: start + Math.floor((k / count) * 3_600_000),
        host_id: `host-${k % 50}`,
        agent_id: `agent-${k % 50}`,
        source: 'journal',
        source_name: SERVICES[k % SERVICES.length]!,
        level: LEVELS[Math.floor(rnd() * LEVELS.length)]!,
        message: msg,
        fields: '{}',
        size: msg.length + 2,
      });
    }
    await store.commit([{ rows }], Date.now());
    if ((i / per) % 20 === 19)
      log(
        `filled ${i + per} lines (${Math.round((i + per) / ((performance.now() - began) / 1000))}/s)`,
      );
  }
  await db.close();
}

/** Enrolls `count` native agents; their ids and client identities. */
async function enroll(
  api: https.Agent,
  port: number,
  token: string,
  ca: Buffer,
  count: number,
): Promise<{ id: string; agent: https.Agent }[]> {
  const out: { id: string; agent: https.Agent }[] = [];
  for (let i = 0; i < count; i += 1) {
    const id = `logbench-${i}`;
    const created = await request(
      api,
      port,
      'POST',
      '/api/v1/agents',
      JSON.stringify({ id, name: id }),
      { authorization: `Bearer ${token}` },
    );
    if (created.status !== 201) throw new Error(`agent ${id}: ${created.status} ${created.text}`);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const enrolled = await request(
      api,
      port,
      'POST',
      '/api/v1/agents/enroll',
      JSON.stringify({
        token: (JSON.parse(created.text) as { enrollment_token: string }).enrollment_token,
        csr: buildCsr(privateKey, id),
        hostname: id,
      }),
    );
    if (enrolled.status !== 201)
      throw new Error(`enroll ${id}: ${enrolled.status} ${enrolled.text}`);
    const cert = (JSON.parse(enrolled.text) as { certificate: string }).certificate;
    out.push({
      id,
      agent: new https.Agent({
        keepAlive: true,
        maxSockets: 1,
        ca,
        cert,
        key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      }),
    });
  }
  return out;
}

async function login(api: https.Agent, port: number): Promise<string> {
  const r = await request(
    api,
    port,
    'POST',
    '/api/v1/auth/login',
    JSON.stringify({ username: 'admin', password: PASSWORD }),
  );
  if (r.status !== 200) throw new Error(`login: ${r.status} ${r.text}`);
  return (JSON.parse(r.text) as { access_token: string }).access_token;
}

/** 1. Ingest over the push route: lines committed per second. */
async function ingest(): Promise<boolean> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-logs-'));
  const port = await freePort();
  let server: Server | undefined;
  try {
    server = await startServer({ dataDir, port, adminPassword: PASSWORD });
    const ca = readFileSync(path.join(dataDir, 'tls', 'ca.crt'));
    const api = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
    const token = await login(api, port);
    const agents = await enroll(api, port, token, ca, AGENTS);
    log(`preparing ${PUSHES} gzipped pushes of ${BATCH} lines…`);
    const rnd = random(7);
    const bodies: Buffer[] = [];
    for (let p = 0; p < PUSHES; p += 1) {
      const now = Date.now();
      const entries = Array.from({ length: BATCH }, (_, k) => ({
        timestamp: now + k,
        source: 'journal',
        source_name: SERVICES[k % SERVICES.length]!,
        level: LEVELS[k % LEVELS.length]!,
        message: message(rnd, p * BATCH + k),
        fields: { _PID: String(1000 + (k % 100)) },
      }));
      bodies.push(gzipSync(JSON.stringify({ batch_id: `bench-${p}`, entries })));
    }
    const raw = bodies.reduce((n, b) => n + b.length, 0);
    log(`pushing (${(raw / PUSHES / 1024).toFixed(1)} KiB gzipped per push)…`);
    let next = 0;
    let accepted = 0;
    const cpuBefore = cpuSeconds(server.child.pid!);
    const began = performance.now();
    await Promise.all(
      agents.map(async (a) => {
        while (next < bodies.length) {
          const body = bodies[next++]!;
          const r = await new Promise<{ status: number; text: string }>((resolve, reject) => {
            const req = https.request(
              {
                host: '127.0.0.1',
                port,
                path: `/api/v1/agents/${a.id}/logs`,
                method: 'POST',
                agent: a.agent,
                headers: {
                  'content-type': 'application/json',
                  'content-encoding': 'gzip',
                  'content-length': body.length,
                },
              },
              (res) => {
                let text = '';
                res.on('data', (c) => (text += c));
                res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
              },
            );
            req.on('error', reject);
            req.end(body);
          });
          if (r.status !== 200) throw new Error(`push: ${r.status} ${r.text}`);
          accepted += (JSON.parse(r.text) as { accepted: number }).accepted;
        }
      }),
    );
    const seconds = (performance.now() - began) / 1000;
    const cpu = cpuSeconds(server.child.pid!) - cpuBefore;
    const rate = accepted / seconds;
    const ok = rate >= INGEST_TARGET;
    console.log(
      `ingest: ${accepted} lines from ${AGENTS} agents in ${seconds.toFixed(1)} s: ${Math.round(rate)} lines/s (target ≥ ${INGEST_TARGET}) ${verdict(ok)}`,
    );
    console.log(
      `ingest: server CPU ${((cpu / accepted) * 1e6).toFixed(1)} µs per line (${cpu.toFixed(1)} s over ${seconds.toFixed(1)} s; ${os.loadavg()[0]!.toFixed(1)} load average)`,
    );
    for (const a of agents) a.agent.destroy();
    api.destroy();
    return ok;
  } finally {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** 2. Search over a store of `LINES` lines: p50/p99 of three queries. */
async function search(): Promise<boolean> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-logs-'));
  const port = await freePort();
  let server: Server | undefined;
  try {
    log(`filling ${LINES} lines…`);
    const began = performance.now();
    await fill(dataDir, LINES);
    log(`filled in ${((performance.now() - began) / 1000).toFixed(0)} s`);
    server = await startServer({ dataDir, port, adminPassword: PASSWORD });
    const ca = readFileSync(path.join(dataDir, 'tls', 'ca.crt'));
    const api = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
    const token = await login(api, port);
    const queries: { name: string; params: Record<string, string> }[] = [
      { name: 'rare word', params: { q: RARE } },
      { name: 'common word, level error', params: { q: COMMON, level: 'error' } },
      { name: 'phrase', params: { q: `"${PHRASE}"` } },
    ];
    let all = true;
    /** p50/p99 of `REQUESTS` GETs of `url` (after 5 unmeasured), and the last answer. */
    const measure = async (url: string) => {
      const times: number[] = [];
      let body: Record<string, unknown> = {};
      for (let i = 0; i < REQUESTS + 5; i += 1) {
        const t = performance.now();
        const r = await request(api, port, 'GET', url, undefined, {
          authorization: `Bearer ${token}`,
        });
        const ms = performance.now() - t;
        if (r.status !== 200) throw new Error(`${url}: ${r.status} ${r.text}`);
        if (i >= 5) times.push(ms);
        body = JSON.parse(r.text) as Record<string, unknown>;
      }
      times.sort((a, b) => a - b);
      return { p50: pct(times, 0.5), p99: pct(times, 0.99), body };
    };
    for (const { name, params } of queries) {
      const { p50, p99, body } = await measure(
        `/api/v1/logs?${new URLSearchParams(params).toString()}`,
      );
      const ok = p99 < SEARCH_TARGET_MS;
      all &&= ok;
      console.log(
        `search ${name} (${JSON.stringify(params)}, total ${String(body.total)}${body.total_capped ? '+' : ''}) over ${LINES} lines: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (target < ${SEARCH_TARGET_MS}) ${verdict(ok)}`,
      );
    }
    // The histogram of the same searches (the last day in 60 intervals; the newest 50,000
    // matches at most).
    for (const { name, params } of queries) {
      const { p50, p99, body } = await measure(
        `/api/v1/logs/histogram?${new URLSearchParams(params).toString()}`,
      );
      const ok = p99 < SEARCH_TARGET_MS;
      all &&= ok;
      console.log(
        `histogram ${name} (${JSON.stringify(params)}, total ${String(body.total)}${body.capped ? ' capped' : ''}) over ${LINES} lines: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (target < ${SEARCH_TARGET_MS}) ${verdict(ok)}`,
      );
    }
    api.destroy();
    return all;
  } finally {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

try {
  if (ONLY !== 'search') await ingest();
  if (ONLY !== 'ingest') await search();
} catch (err) {
  console.error(err);
  process.exit(1);
}
