// Over 500 lines: one run measures ingest, stream fan-out, history and Prometheus' baseline on
// the same machine state, which is what makes their figures comparable.
// Benchmark: the ingest hot path. A built `vigil serve` (separate process, SQLite, then
// PostgreSQL) takes check-data pushes from a simulated fleet driven by this process: N agents
// registered through the openITCOCKPIT agent connector (auto-approved from loopback), each
// pushing the recorded Debian 12 document (test/fixtures/checkdata/debian12.json), varied per
// agent and per push, over HTTPS keep-alive at a fixed aggregate rate (open loop: latency
// includes any queueing). Printed: pushes/s achieved, samples/s, p50/p99/max push latency,
// server CPU-seconds per 1,000 pushes, server peak RSS, errors; from the server's own histograms
// over the same period, push request and group-commit durations and how often its event loop
// was held up (a stall there delays every connection's pushes at once); and the verdict against
// the targets (≥ 1,000 pushes/s with p99 < 100 ms, RSS < 500 MB, on SQLite).
//
// On the same server, after the ingest: the live stream's fan-out (1,000 subscribers of
// `GET /api/v1/stream`, 10 events/s, lag p99 < 250 ms); then, with the server stopped, 7 days of
// 10 s history bulk-loaded for 100 of the hosts (bench/history-load.ts) and, once restarted,
// 7 days at 5m of one host read through `GET /api/v1/history` (p99 < 20 ms) by a client in a
// process of its own (bench/history-client.ts), as a script or a browser would. Right after each
// ingest, with the server idle, Debian's Prometheus scrapes the same samples from a synthetic
// exporter (bench/prometheus.ts): samples per CPU-second of each, and the ratio Vigil/Prometheus
// (goal ≥ 1). Measuring the two minutes apart keeps the machine's drift out of the ratio as far as
// it can be.
//
// Settings (environment): VIGIL_BENCH_INGEST_SECONDS (measured seconds, default 300),
// VIGIL_BENCH_INGEST_RATE (pushes per second, default 1000), VIGIL_BENCH_INGEST_AGENTS (default
// 2000), VIGIL_BENCH_INGEST_CONNECTIONS (default 64), VIGIL_BENCH_INGEST_DATABASES (`sqlite`,
// `postgres` or both, comma-separated; default both); VIGIL_BENCH_SSE_SUBSCRIBERS (1000),
// VIGIL_BENCH_SSE_RATE (events/s, 10), VIGIL_BENCH_SSE_SECONDS (60), VIGIL_BENCH_HISTORY_HOSTS
// (100), VIGIL_BENCH_HISTORY_DAYS (7), VIGIL_BENCH_HISTORY_QUERIES (500),
// VIGIL_BENCH_PROMETHEUS_SECONDS (120). Exit status 1 when the run itself failed.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { normalize } from '../packages/server/src/telemetry/ingest/normalize.js';
import { freePort, startPostgres, type PgCluster } from '../test/support/postgres.js';
import type { HistoryResult, HistorySpec } from './history-client.js';
import { loadPostgres, loadSqlite, type LoadResult } from './history-load.js';
import { prometheusBaseline, type PrometheusResult } from './prometheus.js';
import { drive as driveFleet, FLEET_FIXTURE as FIXTURE, post, registerFleet } from './fleet.js';
import { startServer, type Server } from './server.js';
import { fanOut, type FanOutResult } from './sse.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const HISTORY_CLIENT = path.join(ROOT, 'bench', 'history-client.ts');
const WARMUP_SECONDS = 15;

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer`);
  return v;
}

const SECONDS = intFromEnv('VIGIL_BENCH_INGEST_SECONDS', 300);
const RATE = intFromEnv('VIGIL_BENCH_INGEST_RATE', 1000);
const AGENTS = intFromEnv('VIGIL_BENCH_INGEST_AGENTS', 2000);
const CONNECTIONS = intFromEnv('VIGIL_BENCH_INGEST_CONNECTIONS', 64);
const SSE_SUBSCRIBERS = intFromEnv('VIGIL_BENCH_SSE_SUBSCRIBERS', 1000);
const SSE_RATE = intFromEnv('VIGIL_BENCH_SSE_RATE', 10);
const SSE_SECONDS = intFromEnv('VIGIL_BENCH_SSE_SECONDS', 60);
const HISTORY_HOSTS = intFromEnv('VIGIL_BENCH_HISTORY_HOSTS', 100);
const HISTORY_DAYS = intFromEnv('VIGIL_BENCH_HISTORY_DAYS', 7);
const HISTORY_QUERIES = intFromEnv('VIGIL_BENCH_HISTORY_QUERIES', 500);
const PROMETHEUS_SECONDS = intFromEnv('VIGIL_BENCH_PROMETHEUS_SECONDS', 120);
const SEVEN = 'cpu,memory,swap,disk,load,network_rx,network_tx';
const DATABASES = (process.env.VIGIL_BENCH_INGEST_DATABASES ?? 'sqlite,postgres')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

/** Starts the built server for one run; `databaseUrl` selects PostgreSQL. */
async function startIngestServer(dataDir: string, databaseUrl?: string): Promise<Server> {
  return startServer({
    dataDir,
    port: await freePort(),
    adminPassword: 'ingest benchmark password',
    env: {
      // The fan-out's subscribers are one user.
      VIGIL_TELEMETRY_STREAM_MAX_PER_USER: String(SSE_SUBSCRIBERS),
      ...(databaseUrl ? { VIGIL_DATABASE_URL: databaseUrl } : {}),
    },
  });
}

/** CPU seconds (user + system) of a process so far. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
const peakRssMb = (pid: number) =>
  Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/**
 * Histograms from the server's `GET /metrics`: request durations of the push route, group-commit
 * durations, and how late its event loop ran (cumulative counts by upper bound in seconds).
 */
async function serverHistograms(agent: https.Agent, port: number, token: string) {
  const text = await new Promise<string>((resolve, reject) => {
    https
      .get(
        {
          host: '127.0.0.1',
          port,
          path: '/metrics',
          agent,
          headers: { authorization: `Bearer ${token}` },
        },
        (res) => {
          let t = '';
          res.on('data', (c) => (t += c));
          res.on('end', () => resolve(t));
        },
      )
      .on('error', reject);
  });
  const buckets = (series: string) => {
    const out = new Map<number, number>();
    const re = new RegExp(
      `^${series.replace(/[{}.]/g, (c) => `\\${c}`).replace('LE', 'le="([^"]+)"')} (\\d+)$`,
      'gm',
    );
    for (const m of text.matchAll(re))
      out.set(m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2]));
    return out;
  };
  return {
    push: buckets(
      'vigil_http_request_duration_seconds_bucket{method="POST",route="/agentconnector/submit_checkdata.json",code="2xx",LE}',
    ),
    commit: buckets('vigil_db_commit_duration_seconds_bucket{LE}'),
    loop: buckets('nodejs_eventloop_delay_seconds_bucket{LE}'),
  };
}

/** Observations above `bound` seconds between two readings of a histogram. */
function countAbove(before: Map<number, number>, after: Map<number, number>, bound: number) {
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  return total - ((after.get(bound) ?? 0) - (before.get(bound) ?? 0));
}

/** The bucket bound under which a share `p` of the observations fall (from a histogram diff). */
function histogramQuantile(
  before: Map<number, number>,
  after: Map<number, number>,
  p: number,
): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  for (const b of bounds)
    if ((after.get(b) ?? 0) - (before.get(b) ?? 0) >= total * p) return b * 1000;
  return Infinity;
}

const pct = (sorted: number[], p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

async function run(kind: string, databaseUrl?: string) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `vigil-bench-ingest-${kind}-`));
  let server = await startIngestServer(dataDir, databaseUrl);
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: CONNECTIONS,
    ca: readFileSync(path.join(dataDir, 'tls', 'ca.crt')),
  });
  try {
    const template = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;
    const samplesPerDoc = normalize(template).keys.length;
    // Register the fleet (auto-approved from loopback).
    process.stderr.write(`[${kind}] registering ${AGENTS} agents…\n`);
    const fleet = await registerFleet(agent, server.port, AGENTS);

    // Open loop at a fixed rate: each push carries the current time, as a real agent's does.
    const latencies: number[] = [];
    let errors = 0;
    let firstError = '';
    let sent = 0;
    let done = 0;
    let measuring = false;
    let measureStart = 0;
    /** The worst latency in each 5-second window of the measured run. */
    const windows: number[] = [];
    const pushOne = async () => {
      const i = fleet.next();
      const body = fleet.body(i).parts;
      const t0 = performance.now();
      const counted = measuring;
      try {
        const r = await post(agent, server.port, '/agentconnector/submit_checkdata.json', body);
        if (r.status !== 200) throw new Error(`HTTP ${r.status} ${r.text.slice(0, 200)}`);
        if (counted) {
          const ms = performance.now() - t0;
          latencies.push(ms);
          const w = Math.floor((t0 - measureStart) / 5000);
          windows[w] = Math.max(windows[w] ?? 0, ms);
        }
      } catch (err) {
        if (counted) {
          errors += 1;
          firstError ||= (err as Error).message;
        }
      } finally {
        if (counted) done += 1;
      }
    };
    const drive = (seconds: number) =>
      driveFleet(seconds, RATE, () => {
        sent += 1;
        void pushOne();
      });

    const token = await login(agent, server.port);
    process.stderr.write(`[${kind}] warm-up ${WARMUP_SECONDS} s at ${RATE} pushes/s…\n`);
    await drive(WARMUP_SECONDS);
    const cpu0 = cpuSeconds(server.child.pid!);
    const hist0 = await serverHistograms(agent, server.port, token);
    measuring = true;
    sent = 0;
    const t0 = performance.now();
    measureStart = t0;
    process.stderr.write(`[${kind}] measuring ${SECONDS} s…\n`);
    await drive(SECONDS);
    // Wait for the stragglers (bounded).
    const deadline = performance.now() + 30_000;
    while (done < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const wall = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(server.child.pid!) - cpu0;
    const hist1 = await serverHistograms(agent, server.port, token);
    const rss = peakRssMb(server.child.pid!);
    latencies.sort((a, b) => a - b);
    const ok = latencies.length;
    const prometheus = await prometheusNext(samplesPerDoc);
    const ingest = {
      prometheus,
      kind,
      pushesPerSecond: ok / wall,
      samplesPerSecond: (ok / wall) * samplesPerDoc,
      samplesPerDoc,
      p50: pct(latencies, 0.5),
      p99: pct(latencies, 0.99),
      max: latencies[latencies.length - 1] ?? NaN,
      cpuPer1000: (cpu / Math.max(ok, 1)) * 1000,
      cpuSecondsPerSample: cpu / Math.max(ok * samplesPerDoc, 1),
      rssMb: rss,
      errors,
      firstError,
      lost: sent - done,
      windows: windows.map((w) => Math.round(w)),
      serverP50: histogramQuantile(hist0.push, hist1.push, 0.5),
      serverP99: histogramQuantile(hist0.push, hist1.push, 0.99),
      commitP50: histogramQuantile(hist0.commit, hist1.commit, 0.5),
      commitP99: histogramQuantile(hist0.commit, hist1.commit, 0.99),
      commitMax: histogramQuantile(hist0.commit, hist1.commit, 1),
      // How often, and for how long at most, nothing was read or answered.
      loopStalls: [0.05, 0.1, 0.25, 0.5].map((b) => countAbove(hist0.loop, hist1.loop, b)),
      loopMax: histogramQuantile(hist0.loop, hist1.loop, 1),
      samplesPerCpuSecond: (ok * samplesPerDoc) / cpu,
    };

    // The live stream's fan-out, on the same server.
    process.stderr.write(
      `[${kind}] fan-out: ${SSE_SUBSCRIBERS} stream subscribers, ${SSE_RATE} events/s…\n`,
    );
    const listed = JSON.parse(await get(agent, server.port, '/api/v1/agents', token)) as {
      agents: { id: string; hostname: string | null }[];
    };
    const idOf = new Map(listed.agents.map((a) => [a.hostname, a.id]));
    const watched = Array.from({ length: Math.min(SSE_RATE, AGENTS) }, (_, i) => i);
    const fan = await fanOut({
      port: server.port,
      ca: readFileSync(path.join(dataDir, 'tls', 'ca.crt')),
      token,
      subscribers: SSE_SUBSCRIBERS,
      agentIds: watched.map((i) => idOf.get(`bench-${i}`)!),
      rate: SSE_RATE,
      seconds: SSE_SECONDS,
      warmupSeconds: 5,
      push: (i) => fleet.push(i),
      droppedNow: async () =>
        Number(
          /^vigil_stream_events_dropped_total (\d+)/m.exec(
            await get(agent, server.port, '/metrics', token),
          )?.[1] ?? NaN,
        ),
    });

    // History: stop, bulk-load days of history for some hosts, start again, read.
    await server.stop();
    process.stderr.write(
      `[${kind}] loading ${HISTORY_DAYS} days of 10 s history for ${HISTORY_HOSTS} hosts…\n`,
    );
    const load: LoadResult = databaseUrl
      ? await loadPostgres(databaseUrl, HISTORY_HOSTS, HISTORY_DAYS)
      : loadSqlite(path.join(dataDir, 'vigil.db'), HISTORY_HOSTS, HISTORY_DAYS);
    server = await startIngestServer(dataDir, databaseUrl);
    // The server first rolls up what arrived while it was stopped: measure once that is done.
    await new Promise((r) => setTimeout(r, 20_000));
    const token2 = await login(agent, server.port);
    process.stderr.write(`[${kind}] ${HISTORY_QUERIES} history queries…\n`);
    const caFile = path.join(dataDir, 'tls', 'ca.crt');
    const history = await historyQueries(server.port, caFile, token2, load);
    // The same with the seven metrics an overview page shows, for comparison.
    const history7 = await historyQueries(server.port, caFile, token2, load, SEVEN);
    return { ...ingest, fan, load, history, history7 };
  } finally {
    agent.destroy();
    await server.stop();
    if (process.env.VIGIL_BENCH_KEEP_DATA === '1')
      process.stderr.write(`[${kind}] data kept in ${dataDir}\n`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}

/** One HTTPS GET with a bearer token; rejects on a status other than 200. */
function get(agent: https.Agent, port: number, pathName: string, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    https
      .get(
        {
          host: '127.0.0.1',
          port,
          path: pathName,
          agent,
          headers: { authorization: `Bearer ${token}` },
        },
        (res) => {
          // Decoded once at the end (an answer can be large: the agents list of the whole fleet).
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const t = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode === 200) resolve(t);
            else reject(new Error(`GET ${pathName}: HTTP ${res.statusCode} ${t.slice(0, 300)}`));
          });
        },
      )
      .on('error', reject);
  });
}

async function login(agent: https.Agent, port: number): Promise<string> {
  const r = await post(
    agent,
    port,
    '/api/v1/auth/login',
    JSON.stringify({ username: 'admin', password: 'ingest benchmark password' }),
  );
  if (r.status !== 200) throw new Error(`login: HTTP ${r.status} ${r.text}`);
  return (JSON.parse(r.text) as { access_token: string }).access_token;
}

/**
 * Reads the whole loaded span at 5m for the loaded hosts, one request at a time (after a short
 * warm-up), each for a host picked in turn, from a client process of its own
 * (bench/history-client.ts); the client checks each answer covers the span.
 */
async function historyQueries(
  port: number,
  caFile: string,
  token: string,
  load: LoadResult,
  metrics?: string,
): Promise<HistoryResult> {
  const spec: HistorySpec = {
    port,
    caFile,
    token,
    hostIds: load.hosts.map((h) => h.id),
    from: new Date(load.end - HISTORY_DAYS * 86_400_000).toISOString(),
    to: new Date(load.end).toISOString(),
    expected: (HISTORY_DAYS * 86_400_000) / 300_000,
    queries: HISTORY_QUERIES,
    warmup: 20,
    ...(metrics ? { metrics } : {}),
  };
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('VIGIL_')) env[k] = v;
  const out = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', HISTORY_CLIENT, JSON.stringify(spec)],
      { cwd: ROOT, env, maxBuffer: 1 << 20 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`history client: ${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });
  const line = out
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (!line) throw new Error(`history client printed no result:\n${out}`);
  return JSON.parse(line) as HistoryResult;
}

/**
 * Debian's Prometheus on the same fleet shape: every host scraped at the interval the fleet
 * pushed at. Undefined (and the run failed) when it cannot run.
 */
async function prometheusNext(samplesPerDoc: number): Promise<PrometheusResult | undefined> {
  const template = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;
  const { keys, values } = normalize(template);
  const intervalSeconds = Math.max(1, Math.round(AGENTS / RATE));
  process.stderr.write(
    `[prometheus] ${AGENTS} targets every ${intervalSeconds} s, ${keys.length} samples each (Vigil: ${samplesPerDoc} per push)…\n`,
  );
  try {
    return await prometheusBaseline({
      series: keys.map((key, i) => ({ key, value: Math.abs(values[i]!) || 1 })),
      targets: AGENTS,
      intervalSeconds,
      warmupSeconds: 30,
      seconds: PROMETHEUS_SECONDS,
    });
  } catch (err) {
    console.error(`Prometheus baseline failed: ${(err as Error).stack}`);
    failed = true;
    return undefined;
  }
}

/** Prometheus's version, from `prometheus --version`. */
const execVersion = () =>
  /version (\S+)/.exec(
    execFileSync('/usr/bin/prometheus', ['--version'], { encoding: 'utf8' }),
  )?.[1] ?? '?';

let failed = false;
let cluster: PgCluster | undefined;
const results = [];
try {
  for (const kind of DATABASES) {
    if (kind === 'sqlite') results.push(await run('sqlite'));
    else if (kind === 'postgres') {
      cluster ??= await startPostgres();
      results.push(await run('postgres', cluster.url));
    } else throw new Error(`unknown database ${kind}`);
  }
} catch (err) {
  console.error(`benchmark failed: ${(err as Error).stack}`);
  failed = true;
} finally {
  cluster?.stop();
}
console.log(
  `\nIngest: ${AGENTS} agents, ${RATE} pushes/s offered for ${SECONDS} s over ${CONNECTIONS} HTTPS keep-alive connections (Node ${process.version}, ${os.cpus().length} CPUs)`,
);
for (const r of results) {
  console.log(
    `  ${r.kind.padEnd(8)} ${r.pushesPerSecond.toFixed(0)} pushes/s, ${(r.samplesPerSecond / 1000).toFixed(1)}k samples/s (${r.samplesPerDoc} per push); latency p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(0)} ms; server CPU ${r.cpuPer1000.toFixed(2)} s per 1,000 pushes; peak RSS ${r.rssMb.toFixed(0)} MB; errors ${r.errors}${r.firstError ? ` (${r.firstError})` : ''}`,
  );
  console.log(
    `           server-side (its histograms): request p50 ≤ ${r.serverP50} ms, p99 ≤ ${r.serverP99} ms; group commit p50 ≤ ${r.commitP50} ms, p99 ≤ ${r.commitP99} ms, max ≤ ${r.commitMax} ms; event loop held up > 50 ms ${r.loopStalls[0]} times, > 100 ms ${r.loopStalls[1]}, > 250 ms ${r.loopStalls[2]}, > 500 ms ${r.loopStalls[3]} (longest ≤ ${r.loopMax} ms)`,
  );
  console.log(`           worst latency per 5 s window (ms): ${r.windows.join(' ')}`);
  const f: FanOutResult = r.fan;
  console.log(
    `           stream fan-out: ${f.subscribers} subscribers, ${f.eventsPerSecond.toFixed(1)} events/s (${((f.eventsPerSecond * f.subscribers) / 1000).toFixed(1)}k deliveries/s); lag p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms, max ${f.max.toFixed(0)} ms; received ${f.received} of ${f.expected}; dropped by the server ${f.serverDropped}`,
  );
  const l = r.load;
  console.log(
    `           history: ${l.hosts.length} hosts × ${HISTORY_DAYS} days of 10 s data loaded in ${l.seconds.toFixed(0)} s (rows raw ${l.rows.raw}, 1m ${l.rows['1m']}, 5m ${l.rows['5m']}, 1h ${l.rows['1h']})`,
  );
  console.log(
    `           ${HISTORY_DAYS} days at 5m of one host, ${HISTORY_QUERIES} requests, ${r.history.points} points: default answer (cpu, memory; ${(r.history.bytes / 1024).toFixed(0)} KiB) p50 ${r.history.p50.toFixed(1)} ms, p99 ${r.history.p99.toFixed(1)} ms, max ${r.history.max.toFixed(0)} ms; seven metrics (${SEVEN}; ${(r.history7.bytes / 1024).toFixed(0)} KiB) p50 ${r.history7.p50.toFixed(1)} ms, p99 ${r.history7.p99.toFixed(1)} ms, max ${r.history7.max.toFixed(0)} ms`,
  );
  const prometheus = r.prometheus;
  if (prometheus) {
    console.log(
      `           Prometheus ${execVersion()} right after: ${prometheus.targets} targets every ${prometheus.intervalSeconds} s over HTTPS, ${(prometheus.samplesPerSecond / 1000).toFixed(1)}k samples/s (${(prometheus.coverage * 100).toFixed(1)} % of the scrapes' samples), ${prometheus.cpuSeconds.toFixed(1)} CPU-s in ${PROMETHEUS_SECONDS} s, peak RSS ${prometheus.rssMb.toFixed(0)} MB`,
    );
    console.log(
      `           samples per CPU-second: Vigil ${(r.samplesPerCpuSecond / 1000).toFixed(1)}k, Prometheus ${(prometheus.samplesPerCpuSecond / 1000).toFixed(1)}k; ratio Vigil/Prometheus ${(r.samplesPerCpuSecond / prometheus.samplesPerCpuSecond).toFixed(2)} (goal ≥ 1)`,
    );
  }
  if (r.errors > 0 || r.lost > 0) failed = true;
}
const sqlite = results.find((r) => r.kind === 'sqlite');
if (sqlite) {
  const pass = sqlite.pushesPerSecond >= 1000 * 0.99 && sqlite.p99 < 100;
  console.log(
    `SQLite ${sqlite.pushesPerSecond.toFixed(0)} pushes/s with p99 ${sqlite.p99.toFixed(1)} ms (target ≥ 1,000/s, p99 < 100 ms): ${pass ? 'PASS' : 'FAIL'}`,
  );
  console.log(
    `SQLite peak RSS ${sqlite.rssMb.toFixed(0)} MB (target < 500 MB): ${sqlite.rssMb < 500 ? 'PASS' : 'FAIL'}`,
  );
  console.log(
    `SQLite history ${HISTORY_DAYS} days at 5m p99 ${sqlite.history.p99.toFixed(1)} ms (target < 20 ms): ${sqlite.history.p99 < 20 ? 'PASS' : 'FAIL'}`,
  );
  console.log(
    `SQLite stream fan-out to ${sqlite.fan.subscribers} lag p99 ${sqlite.fan.p99.toFixed(1)} ms (target < 250 ms): ${sqlite.fan.p99 < 250 ? 'PASS' : 'FAIL'}`,
  );
  if (sqlite.prometheus) {
    const ratio = sqlite.samplesPerCpuSecond / sqlite.prometheus.samplesPerCpuSecond;
    console.log(
      `SQLite samples per CPU-second Vigil/Prometheus ${ratio.toFixed(2)} (goal ≥ 1): ${ratio >= 1 ? 'PASS' : 'FAIL'}`,
    );
  }
}
process.exit(failed ? 1 : 0);
