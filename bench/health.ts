// Benchmark: throughput of Vigil's `GET /api/v1/health` compared with a bare Fastify hello-world,
// both over HTTPS with keep-alive on the loopback interface, under the same load.
//
// One run starts three kinds of separate processes: the built Vigil server (`vigil serve`, with
// a throwaway data directory, automatic TLS and the production log level `info`, its JSON log
// written to a file), the hello-world (bench/hello-fastify.ts, serving the certificate and key
// that Vigil generated) and, for every load run, an autocannon process (bench/load.ts, which
// drives autocannon through its API and also times each response). Each target first gets a
// warm-up run, then several measured rounds; in each round both targets run once, and the order
// flips from round to round. The report gives each target's median round (requests per second,
// latency percentiles, errors), every round's ratio, and the ratio of the median throughputs
// against the target of at least 0.70. A single run on a shared machine swings too much to
// judge by; the median of alternating rounds does not.
//
// The ratio verdict is informational: the exit status is 0 whatever it says. The exit status is 1
// when the run itself failed: a server that did not start or exited early, a response that was
// not 2xx, a connection error or timeout, or an autocannon process that failed.
//
// Settings (environment): VIGIL_BENCH_DURATION_SECONDS (seconds per target and round, default 5),
// VIGIL_BENCH_ROUNDS (default 5) and VIGIL_BENCH_CONNECTIONS (concurrent connections, default 10). Run it with `npm run bench`,
// or `node --import tsx bench/health.ts` after `npm run build`.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { LoadResult, LoadSpec } from './load.js';

/** The repository root. */
const ROOT = path.resolve(import.meta.dirname, '..');
/** The built `vigil` command. */
const VIGIL_BIN = path.join(ROOT, 'packages', 'server', 'bin', 'vigil.js');
/** The hello-world baseline server. */
const HELLO_SCRIPT = path.join(ROOT, 'bench', 'hello-fastify.ts');
/** One autocannon load run. */
const LOAD_SCRIPT = path.join(ROOT, 'bench', 'load.ts');

/** The lowest acceptable ratio of Vigil's requests per second to the hello-world's. */
const TARGET_RATIO = 0.7;
/** Seconds of unmeasured load that each target gets before its measured run. */
const WARMUP_SECONDS = 2;
/** How long a server may take to start listening. */
const START_TIMEOUT_MS = 60_000;
/** How long a process may take to exit after SIGTERM before it gets SIGKILL. */
const STOP_TIMEOUT_MS = 15_000;

/** Reads a positive integer from the environment variable `name`, or returns `fallback`. */
function positiveIntFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

/** The parent environment without any VIGIL_* variable, plus `extra`. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('VIGIL_')) env[k] = v;
  return { ...env, ...extra };
}

/** A child process that this benchmark started, with what it wrote and how it ended. */
interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  readonly exited: Promise<number | string>;
  /** Whether the process has ended. */
  hasExited(): boolean;
  /** The exit code or signal once the process has ended. */
  exitStatus(): number | string | undefined;
  stdout(): string;
  stderr(): string;
}

/** Every child process started and not yet reaped, so that cleanup can stop each one by PID. */
const children = new Set<Child>();
/** The temporary directory of this run, removed by `cleanup`. */
let tmpDir: string | undefined;

/** Spawns `node ARGS` as a tracked child; stdout goes to `stdoutFd` when given, else is captured. */
function spawnNode(
  name: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; stdoutFd?: number },
): Child {
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: opts.env,
    stdio: ['ignore', opts.stdoutFd ?? 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`could not start ${name}`);
  let out = '';
  let err = '';
  proc.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
  proc.stderr?.setEncoding('utf8').on('data', (c: string) => (err += c));
  let status: number | string | undefined;
  const exited = new Promise<number | string>((resolve) => {
    proc.once('error', (e) => {
      err += `\n${String(e)}`;
      status ??= -1;
      resolve(status);
    });
    proc.once('exit', (code, signal) => {
      status ??= code ?? signal ?? -1;
      resolve(status);
    });
  });
  const child: Child = {
    name,
    process: proc,
    pid: proc.pid,
    exited,
    hasExited: () => status !== undefined,
    exitStatus: () => status,
    stdout: () => out,
    stderr: () => err,
  };
  children.add(child);
  void exited.then(() => children.delete(child));
  return child;
}

/** Sends SIGTERM to the child by its PID, waits for its exit and sends SIGKILL after a while. */
async function stopChild(child: Child): Promise<number | string> {
  if (child.hasExited()) return child.exited;
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    // It ended between the check and the signal.
  }
  const timer = setTimeout(() => {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // It ended in the meantime.
    }
  }, STOP_TIMEOUT_MS);
  const code = await child.exited;
  clearTimeout(timer);
  return code;
}

/** Stops every child process that is still running, then removes the temporary directory. */
async function cleanup(): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c)));
  if (tmpDir !== undefined) rmSync(tmpDir, { recursive: true, force: true });
  tmpDir = undefined;
}

/**
 * Waits until `pattern` matches the child's stdout or stderr (as chosen) and returns the match;
 * rejects when the child exits first or `START_TIMEOUT_MS` passes.
 */
function waitForLine(
  child: Child,
  stream: 'stdout' | 'stderr',
  pattern: RegExp,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const source = stream === 'stdout' ? child.process.stdout : child.process.stderr;
    const read = stream === 'stdout' ? child.stdout : child.stderr;
    const finish = (fn: () => void) => {
      clearTimeout(timer);
      source?.off('data', check);
      fn();
    };
    const check = () => {
      const m = pattern.exec(read());
      if (m) finish(() => resolve(m));
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new Error(
              `${child.name} did not start within ${START_TIMEOUT_MS} ms:\n${child.stderr()}`,
            ),
          ),
        ),
      START_TIMEOUT_MS,
    );
    void child.exited.then((code) =>
      finish(() =>
        reject(new Error(`${child.name} exited with ${code} while starting:\n${child.stderr()}`)),
      ),
    );
    source?.on('data', check);
    check();
  });
}

/** A server under test: where to send requests and what a good response body contains. */
interface Target {
  readonly label: string;
  readonly url: string;
  readonly child: Child;
  /** Checks a parsed 200 response body; returns a problem or undefined. */
  readonly checkBody: (body: unknown) => string | undefined;
}

/**
 * Sends one request to the target with certificate verification against `ca` (autocannon does
 * not verify certificates, so this is where the TLS set-up is proven) and checks the response.
 */
function probe(target: Target, ca: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = https.get(target.url, { ca, agent: false, timeout: 10_000 }, (res) => {
      let data = '';
      res.setEncoding('utf8').on('data', (c: string) => (data += c));
      res.on('end', () => {
        if (res.statusCode !== 200)
          return reject(
            new Error(`${target.label}: ${target.url} answered ${res.statusCode}: ${data}`),
          );
        let body: unknown;
        try {
          body = JSON.parse(data);
        } catch {
          return reject(new Error(`${target.label}: ${target.url} answered non-JSON: ${data}`));
        }
        const problem = target.checkBody(body);
        if (problem) return reject(new Error(`${target.label}: ${problem}: ${data}`));
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${target.label}: ${target.url} timed out`)));
    req.on('error', reject);
  });
}

/** Runs one autocannon load (bench/load.ts) as a separate process and returns its figures. */
async function loadTest(spec: LoadSpec): Promise<LoadResult> {
  const ac = spawnNode('autocannon', ['--import', 'tsx', LOAD_SCRIPT, JSON.stringify(spec)], {
    env: cleanEnv(),
  });
  const code = await ac.exited;
  if (code !== 0) throw new Error(`autocannon exited with ${code}:\n${ac.stderr()}`);
  const line = ac
    .stdout()
    .split('\n')
    .reverse()
    .find((l) => l.trim().startsWith('{'));
  if (!line) throw new Error(`autocannon printed no result:\n${ac.stdout()}\n${ac.stderr()}`);
  return JSON.parse(line) as LoadResult;
}

/** Starts `vigil serve` with a throwaway data directory; its JSON log goes to `logFile`. */
async function startVigil(
  dataDir: string,
  logFile: string,
): Promise<{ child: Child; port: number }> {
  const logFd = openSync(logFile, 'w');
  let child: Child;
  try {
    child = spawnNode('vigil serve', [VIGIL_BIN, 'serve'], {
      env: cleanEnv({
        VIGIL_SERVER_LISTEN: '127.0.0.1:0',
        VIGIL_STORAGE_DATA_DIR: dataDir,
        VIGIL_ADMIN_PASSWORD: randomBytes(18).toString('base64url'),
        VIGIL_LOG_LEVEL: 'info',
      }),
      stdoutFd: logFd,
    });
  } finally {
    // The child holds its own copy of the descriptor.
    closeSync(logFd);
  }
  const m = await waitForLine(
    child,
    'stderr',
    /^Vigil https:\/\/\S+ \(listening on 127\.0\.0\.1:(\d+)\)$/m,
  );
  return { child, port: Number(m[1]) };
}

/** Starts the hello-world with Vigil's certificate and key. */
async function startHello(tlsDir: string): Promise<{ child: Child; port: number }> {
  const child = spawnNode(
    'hello-fastify',
    [
      '--import',
      'tsx',
      HELLO_SCRIPT,
      '--cert',
      path.join(tlsDir, 'server.crt'),
      '--key',
      path.join(tlsDir, 'server.key'),
      '--host',
      '127.0.0.1',
      '--port',
      '0',
    ],
    { env: cleanEnv() },
  );
  const m = await waitForLine(child, 'stdout', /^hello-fastify listening on 127\.0\.0\.1:(\d+)$/m);
  return { child, port: Number(m[1]) };
}

/** Throws when a target's server process has ended although nobody asked it to. */
function assertAlive(target: Target): void {
  if (target.child.hasExited())
    throw new Error(
      `${target.label} server exited (${target.child.exitStatus()}) during the benchmark:\n${target.child.stderr()}`,
    );
}

/** Formats a number with thousands separators and `digits` decimals. */
const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Lays out rows as a table with a header rule; the first column is left-aligned. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('   ');
  return [
    line(rows[0]!),
    widths.map((w) => '-'.repeat(w)).join('   '),
    ...rows.slice(1).map(line),
  ].join('\n');
}

/** Counts the lines in a file. */
function countLines(file: string): number {
  const text = readFileSync(file, 'utf8');
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Runs the benchmark and returns the exit status. */
async function main(): Promise<number> {
  const seconds = positiveIntFromEnv('VIGIL_BENCH_DURATION_SECONDS', 5);
  const connections = positiveIntFromEnv('VIGIL_BENCH_CONNECTIONS', 10);
  const roundCount = positiveIntFromEnv('VIGIL_BENCH_ROUNDS', 5);
  if (!existsSync(path.join(ROOT, 'packages', 'server', 'dist', 'vigil.js')))
    throw new Error('Vigil is not built: run `npm run build` (or `npm run bench`, which builds)');

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
  tmpDir = tmp;
  try {
    const dataDir = path.join(tmp, 'data');
    const logFile = path.join(tmp, 'vigil-stdout.jsonl');
    const tlsDir = path.join(dataDir, 'tls');
    const caFile = path.join(tlsDir, 'ca.crt');

    const vigil = await startVigil(dataDir, logFile);
    const hello = await startHello(tlsDir);
    const ca = readFileSync(caFile);
    const targets: Target[] = [
      {
        label: 'Vigil GET /api/v1/health',
        url: `https://127.0.0.1:${vigil.port}/api/v1/health`,
        child: vigil.child,
        checkBody: (b) =>
          (b as { status?: unknown }).status === 'healthy'
            ? undefined
            : 'the health status is not "healthy"',
      },
      {
        label: 'Fastify hello-world GET /',
        url: `https://127.0.0.1:${hello.port}/`,
        child: hello.child,
        checkBody: (b) =>
          (b as { hello?: unknown }).hello === 'world' ? undefined : 'unexpected body',
      },
    ];
    for (const t of targets) await probe(t, ca);

    process.stderr.write(
      `Loading each target with ${connections} connections for ${WARMUP_SECONDS} s (warm-up), ` +
        `then ${roundCount} measured rounds of ${seconds} s each...\n`,
    );
    const problems: string[] = [];
    const check = (t: Target, phase: string, f: LoadResult) => {
      assertAlive(t);
      if (f.errors > 0 || f.non2xx > 0)
        problems.push(
          `${t.label} (${phase}): ${f.errors} errors/timeouts, ${f.non2xx} non-2xx responses`,
        );
    };
    for (const t of targets)
      check(
        t,
        'warm-up',
        await loadTest({ url: t.url, caFile, connections, seconds: WARMUP_SECONDS }),
      );
    // rounds[r][i] is target i's measured figures in round r. Odd rounds reverse the order, so
    // that neither target always runs first (the machine's state drifts during a run).
    const rounds: LoadResult[][] = [];
    for (let r = 0; r < roundCount; r++) {
      const order = r % 2 === 0 ? [0, 1] : [1, 0];
      const results: LoadResult[] = [];
      for (const i of order) {
        const t = targets[i]!;
        const f = await loadTest({ url: t.url, caFile, connections, seconds });
        check(t, `round ${r + 1}`, f);
        results[i] = f;
      }
      rounds.push(results);
      process.stderr.write(
        `  round ${r + 1}/${roundCount}: ${targets.map((t, i) => `${t.label} ${fmt(results[i]!.rps, 1)} req/s`).join(', ')}\n`,
      );
    }
    for (const t of targets) await probe(t, ca);
    for (const t of targets) assertAlive(t);

    // Stop the servers before reading Vigil's log, so that every line has been written.
    const vigilExit = await stopChild(vigil.child);
    await stopChild(hello.child);
    if (vigilExit !== 0) problems.push(`vigil serve exited with ${vigilExit} after SIGTERM`);
    const logLines = countLines(logFile);

    // Each target is reported by its median round (by requests per second); the ratio is that of
    // the two medians, and every round's own ratio is listed beside it.
    const medianRound = (i: number): LoadResult => {
      const sorted = rounds.map((r) => r[i]!).sort((x, y) => x.rps - y.rps);
      return sorted[Math.floor((sorted.length - 1) / 2)]!;
    };
    const measured = targets.map((_, i) => medianRound(i));
    const [v, h] = measured as [LoadResult, LoadResult];
    const ratio = v.rps / h.rps;
    const verdict = ratio >= TARGET_RATIO ? 'PASS' : 'FAIL';
    const roundRatios = rounds.map((r) => (r[0]!.rps / r[1]!.rps).toFixed(3)).join(', ');
    const rows = [
      [
        'target (median round)',
        'req/s',
        'p50 ms',
        'p99 ms',
        'mean ms',
        'requests',
        'seconds',
        'errors',
        'non-2xx',
      ],
      ...targets.map((t, i) => {
        const f = measured[i]!;
        return [
          t.label,
          fmt(f.rps, 1),
          fmt(f.latencyMs.p50, 3),
          fmt(f.latencyMs.p99, 3),
          fmt(f.latencyMs.mean, 3),
          fmt(f.total),
          fmt(f.durationS, 2),
          fmt(f.errors),
          fmt(f.non2xx),
        ];
      }),
    ];
    const out = [
      '',
      'Health endpoint throughput: Vigil vs bare Fastify (HTTPS keep-alive, 127.0.0.1)',
      `  ${connections} connections, pipelining 1, ${roundCount} rounds of ${seconds} s per target ` +
        `after ${WARMUP_SECONDS} s warm-up; Node ${process.version}, ` +
        `${os.availableParallelism()} CPUs (${os.cpus()[0]?.model.trim() ?? 'unknown'})`,
      `  Vigil at log level info, JSON log to a file (${fmt(logLines)} lines written)`,
      '',
      table(rows),
      '',
      '  Latencies are per 2xx response, measured by the load generator with microsecond resolution.',
      `  Ratio per round: ${roundRatios}`,
      '',
      `vigil_rps / hello_rps (medians) = ${fmt(v.rps, 1)} / ${fmt(h.rps, 1)} = ${ratio.toFixed(3)}   ` +
        `(target >= ${TARGET_RATIO.toFixed(2)}): ${verdict}`,
      '',
    ];
    process.stdout.write(out.join('\n'));

    if (problems.length > 0) {
      process.stderr.write(`\nThe run failed:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
      return 1;
    }
    return 0;
  } finally {
    await cleanup();
  }
}

// Interrupting the benchmark still stops the child processes and removes the temporary directory.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping the child processes\n`);
    void cleanup().finally(() => process.exit(130));
  });
}

try {
  process.exitCode = await main();
} catch (err) {
  process.stderr.write(`bench/health: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
