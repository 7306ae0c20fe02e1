// Benchmark: the ingest hot path. A built `vigil serve` (separate process, SQLite, then
// PostgreSQL) takes check-data pushes from a simulated fleet driven by this process: N agents
// registered through the openITCOCKPIT agent connector (auto-approved from loopback), each
// pushing the recorded Debian 12 document (test/fixtures/checkdata/debian12.json), varied per
// agent and per push, over HTTPS keep-alive at a fixed aggregate rate (open loop: latency
// includes any queueing). Printed: pushes/s achieved, samples/s, p50/p99/max push latency,
// server CPU-seconds per 1,000 pushes, server peak RSS, errors; and the verdict against the
// targets (≥ 1,000 pushes/s with p99 < 100 ms, RSS < 500 MB, on SQLite).
//
// Settings (environment): VIGIL_BENCH_INGEST_SECONDS (measured seconds, default 300),
// VIGIL_BENCH_INGEST_RATE (pushes per second, default 1000), VIGIL_BENCH_INGEST_AGENTS (default
// 2000), VIGIL_BENCH_INGEST_CONNECTIONS (default 64), VIGIL_BENCH_INGEST_DATABASES (`sqlite`,
// `postgres` or both, comma-separated; default both). Exit status 1 when the run itself failed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { normalize } from '../packages/server/src/telemetry/normalize.js';
import { freePort, startPostgres, type PgCluster } from '../test/support/postgres.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const VIGIL_BIN = path.join(ROOT, 'packages', 'server', 'bin', 'vigil.js');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'checkdata', 'debian12.json');
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
const DATABASES = (process.env.VIGIL_BENCH_INGEST_DATABASES ?? 'sqlite,postgres')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

interface Server {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

async function startServer(dataDir: string, databaseUrl?: string): Promise<Server> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('VIGIL_')) env[k] = v;
  Object.assign(env, {
    VIGIL_STORAGE_DATA_DIR: dataDir,
    VIGIL_SERVER_LISTEN: `127.0.0.1:${port}`,
    VIGIL_ADMIN_PASSWORD: 'ingest benchmark password',
    VIGIL_AGENTS_AUTO_APPROVE_NETWORKS: '127.0.0.0/8',
    // Request lines at `info` would be one log line per push; production fleets this size log at
    // `warn`.
    VIGIL_LOG_LEVEL: 'warn',
    ...(databaseUrl ? { VIGIL_DATABASE_URL: databaseUrl } : {}),
  });
  // VIGIL_BENCH_SERVER_NODE_ARGS passes flags to the server's Node (e.g. --cpu-prof).
  const nodeArgs = (process.env.VIGIL_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, VIGIL_BIN, 'serve'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start:\n${err}`)), 60_000);
    child.stderr!.on('data', (c) => {
      err += c;
      if (/^Vigil https:/m.test(err)) {
        clearTimeout(t);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}:\n${err}`)));
  });
  return {
    child,
    port,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** CPU seconds (user + system) of a process so far. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
const peakRssMb = (pid: number) =>
  Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** One HTTPS POST; resolves with the status and body. */
function post(
  agent: https.Agent,
  port: number,
  pathName: string,
  body: string | Buffer[],
): Promise<{ status: number; text: string }> {
  // A body in parts is written part by part: the fleet's documents are shared buffers with only
  // the time stamp differing, so the generator allocates next to nothing per push.
  const parts = typeof body === 'string' ? [Buffer.from(body)] : body;
  const length = parts.reduce((n, p) => n + p.length, 0);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: pathName,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': length },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    for (let i = 0; i < parts.length - 1; i++) req.write(parts[i]);
    req.end(parts[parts.length - 1]);
  });
}

/** The server's request-duration histogram of the push route, from its `GET /metrics`. */
async function pushHistogram(agent: https.Agent, port: number, token: string) {
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
  const buckets = new Map<number, number>();
  const re =
    /^vigil_http_request_duration_seconds_bucket\{method="POST",route="\/agentconnector\/submit_checkdata\.json",code="2xx",le="([^"]+)"\} (\d+)$/gm;
  for (const m of text.matchAll(re))
    buckets.set(m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2]));
  return buckets;
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
  const server = await startServer(dataDir, databaseUrl);
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
    const agents: { prefix: Buffer; suffix: Buffer }[] = [];
    for (let i = 0; i < AGENTS; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, AGENTS - i) }, async (_, j) => {
          const n = i + j;
          const uuid = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
          const r = await post(
            agent,
            server.port,
            '/agentconnector/register_agent.json',
            JSON.stringify({ agentuuid: uuid, password: '', hostname: `bench-${n}` }),
          );
          if (r.status !== 201) throw new Error(`register ${n}: ${r.status} ${r.text}`);
          const { password } = JSON.parse(r.text) as { password: string };
          // Each agent's document differs a little (host name, figures); the time stamp is
          // spliced in per push.
          const doc = structuredClone(template);
          const a = doc.agent as Record<string, unknown>;
          a.hostname = `bench-${n}`;
          (doc.cpu as Record<string, unknown>).cpu_total_percentage = (n % 100) + 0.5;
          (doc.memory as Record<string, unknown>).percent = (n * 7) % 100;
          a.last_updated_timestamp = 1234567890;
          const text = JSON.stringify({ agentuuid: uuid, password, checkdata: doc });
          const at = text.indexOf('1234567890');
          return {
            prefix: Buffer.from(text.slice(0, at)),
            suffix: Buffer.from(text.slice(at + 10)),
          };
        }),
      );
      agents.push(...batch);
    }

    // Open loop: every 10 ms, send the pushes due. Each push carries the current time, as a
    // real agent's does, and at least one second after the agent's previous one (time stamps
    // are in seconds), so no two pushes of an agent share one.
    const stamps = new Array<number>(AGENTS).fill(0);
    let next = 0;
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
      const i = next;
      next = (next + 1) % AGENTS;
      stamps[i] = Math.max(stamps[i]! + 1, Math.floor(Date.now() / 1000));
      const body = [agents[i]!.prefix, Buffer.from(String(stamps[i])), agents[i]!.suffix];
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
      new Promise<void>((resolve) => {
        const startedAt = performance.now();
        let due = 0;
        const timer = setInterval(() => {
          const elapsed = (performance.now() - startedAt) / 1000;
          if (elapsed >= seconds) {
            clearInterval(timer);
            resolve();
            return;
          }
          const target = Math.floor(elapsed * RATE);
          for (; due < target; due++) {
            sent += 1;
            void pushOne();
          }
        }, 10);
      });

    const token = JSON.parse(
      (
        await post(
          agent,
          server.port,
          '/api/v1/auth/login',
          JSON.stringify({ username: 'admin', password: 'ingest benchmark password' }),
        )
      ).text,
    ).access_token as string;
    process.stderr.write(`[${kind}] warm-up ${WARMUP_SECONDS} s at ${RATE} pushes/s…\n`);
    await drive(WARMUP_SECONDS);
    const cpu0 = cpuSeconds(server.child.pid!);
    const hist0 = await pushHistogram(agent, server.port, token);
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
    const hist1 = await pushHistogram(agent, server.port, token);
    const rss = peakRssMb(server.child.pid!);
    latencies.sort((a, b) => a - b);
    const ok = latencies.length;
    return {
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
      serverP50: histogramQuantile(hist0, hist1, 0.5),
      serverP99: histogramQuantile(hist0, hist1, 0.99),
    };
  } finally {
    agent.destroy();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

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
    `           server-side (its request histogram): p50 ≤ ${r.serverP50} ms, p99 ≤ ${r.serverP99} ms`,
  );
  console.log(`           worst latency per 5 s window (ms): ${r.windows.join(' ')}`);
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
}
process.exit(failed ? 1 : 0);
