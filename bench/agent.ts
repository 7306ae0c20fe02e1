// Benchmark: the agent's resource budget next to Debian's prometheus-node-exporter on this machine.
//
// Prints, from one run:
//   - CPU time per collection cycle of the agent: the median over CYCLES cycles run back to back
//     in a separate process (bench/agent-cycles.ts), and the CPU time per scrape of node_exporter:
//     the median over CYCLES scrapes of its /metrics on loopback, read from /proc/<pid>/stat around
//     each scrape.
//   - RSS after a soak: the bundled agent (`dist/vigil-agent.js run`, interval 10 s) and node_exporter
//     (scraped every 10 s) run side by side for SOAK seconds; then both resident set sizes are read.
// Targets: agent CPU per cycle ≤ node_exporter's CPU per scrape; agent RSS ≤ 50 MB.
//
// Settings (environment): VIGIL_BENCH_AGENT_CYCLES (default 100, at least 60),
// VIGIL_BENCH_AGENT_SOAK_SECONDS (default 600), VIGIL_BENCH_NODE_EXPORTER (default
// /usr/bin/prometheus-node-exporter). The verdicts are informational: the exit status is 1 only
// when the run itself failed (a process that did not start, a failed scrape).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../test/support/postgres.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const BUNDLE = path.join(ROOT, 'dist', 'vigil-agent.js');
const CYCLES_SCRIPT = path.join(ROOT, 'bench', 'agent-cycles.ts');
const TICKS_PER_SECOND = 100;
const RSS_TARGET_MB = 50;

function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be a whole number ≥ ${min}`);
  return v;
}

const cycles = intFromEnv('VIGIL_BENCH_AGENT_CYCLES', 100, 60);
const soakSeconds = intFromEnv('VIGIL_BENCH_AGENT_SOAK_SECONDS', 600, 10);
const exporterBin = process.env.VIGIL_BENCH_NODE_EXPORTER ?? '/usr/bin/prometheus-node-exporter';

const children = new Set<ChildProcess>();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-agent-'));
function cleanup(): void {
  for (const c of children) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
}
for (const s of ['SIGINT', 'SIGTERM'] as const)
  process.once(s, () => {
    cleanup();
    process.exit(130);
  });

/** CPU ticks (user + system) a process has used so far. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** Resident set size in MB. */
function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

function start(file: string, args: string[]): ChildProcess {
  const c = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  children.add(c);
  c.on('exit', () => children.delete(c));
  return c;
}

async function waitForHttp(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null)
      throw new Error(`${url}: the process exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within 30 s`);
}

/** The agent's CPU per cycle, from a separate process running cycles back to back. */
async function agentCycles(): Promise<{ cpuMicros: number[]; samples: number; failed: string[] }> {
  const c = start(process.execPath, ['--import', 'tsx', CYCLES_SCRIPT, String(cycles), '100']);
  let out = '';
  let err = '';
  c.stdout!.on('data', (d) => (out += d));
  c.stderr!.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((r) => c.on('exit', r));
  if (code !== 0) throw new Error(`agent-cycles exited with ${code}:\n${err}`);
  return JSON.parse(out.trim().split('\n').pop()!);
}

async function main(): Promise<number> {
  if (!existsSync(BUNDLE)) throw new Error('the agent is not built: run `npm run build:agent`');
  if (!existsSync(exporterBin))
    throw new Error(`${exporterBin} not found: install Debian's prometheus-node-exporter`);

  process.stderr.write(`Timing ${cycles} agent cycles...\n`);
  const agent = await agentCycles();

  const exporterPort = await freePort();
  const exporter = start(exporterBin, [`--web.listen-address=127.0.0.1:${exporterPort}`]);
  const metricsUrl = `http://127.0.0.1:${exporterPort}/metrics`;
  await waitForHttp(metricsUrl, exporter);
  process.stderr.write(`Timing ${cycles} node_exporter scrapes...\n`);
  const scrapeTicks: number[] = [];
  let exporterSamples = 0;
  // One unmeasured scrape first, as for the agent.
  await (await fetch(metricsUrl)).text();
  for (let i = 0; i < cycles; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const before = cpuTicks(exporter.pid!);
    const res = await fetch(metricsUrl);
    const text = await res.text();
    if (!res.ok) throw new Error(`scrape ${i}: HTTP ${res.status}`);
    // The process may account the last ticks a moment after answering.
    await new Promise((r) => setTimeout(r, 20));
    scrapeTicks.push(cpuTicks(exporter.pid!) - before);
    exporterSamples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  }
  // /proc counts CPU in 10 ms ticks, too coarse for one scrape: also take the mean over all.
  const exporterMeanMs =
    (scrapeTicks.reduce((a, b) => a + b, 0) / cycles / TICKS_PER_SECOND) * 1000;
  const exporterMedianMs = (median(scrapeTicks) / TICKS_PER_SECOND) * 1000;

  process.stderr.write(
    `Soak: the agent (interval 10 s) and node_exporter (scraped every 10 s) for ${soakSeconds} s...\n`,
  );
  const agentPort = await freePort();
  const cfg = path.join(tmp, 'config.ini');
  writeFileSync(
    cfg,
    `[default]\naddress = 127.0.0.1\nport = ${agentPort}\ninterval = 10\n[packagemanager]\nenable-update-check = False\n`,
  );
  const run = start(process.execPath, [BUNDLE, 'run', '--config', cfg]);
  await waitForHttp(`http://127.0.0.1:${agentPort}/`, run);
  const agentTicks0 = cpuTicks(run.pid!);
  const t0 = Date.now();
  let scrapes = 0;
  while (Date.now() - t0 < soakSeconds * 1000) {
    await new Promise((r) => setTimeout(r, 10_000));
    await (await fetch(metricsUrl)).text();
    await (await fetch(`http://127.0.0.1:${agentPort}/`)).text();
    scrapes++;
    if (run.exitCode !== null || exporter.exitCode !== null)
      throw new Error('a process exited during the soak');
  }
  const soakCycles = Math.floor((Date.now() - t0) / 10_000);
  const agentSoakMsPerCycle =
    (((cpuTicks(run.pid!) - agentTicks0) / TICKS_PER_SECOND) * 1000) / Math.max(1, soakCycles);
  const agentRss = rssMb(run.pid!);
  const exporterRss = rssMb(exporter.pid!);

  const agentMedianMs = median(agent.cpuMicros) / 1000;
  const fmt = (n: number, d = 2) => n.toFixed(d);
  const cpuVerdict = agentMedianMs <= exporterMeanMs ? 'PASS' : 'FAIL';
  const rssVerdict = agentRss <= RSS_TARGET_MB ? 'PASS' : 'FAIL';
  const lines = [
    '',
    'Agent resource budget: vigil-agent vs prometheus-node-exporter (this machine)',
    `  Node ${process.version}, ${os.availableParallelism()} CPUs (${os.cpus()[0]?.model.trim() ?? 'unknown'}), kernel ${os.release()}`,
    '',
    `  vigil-agent   CPU per cycle: median ${fmt(agentMedianMs)} ms over ${cycles} cycles ` +
      `(p90 ${fmt([...agent.cpuMicros].sort((a, b) => a - b)[Math.floor(cycles * 0.9)]! / 1000)} ms), ${agent.samples} numeric values per document`,
    `                in the soak: ${fmt(agentSoakMsPerCycle)} ms per cycle (all the process used, over ${soakCycles} cycles)`,
    `  node_exporter CPU per scrape: mean ${fmt(exporterMeanMs)} ms, median ${fmt(exporterMedianMs)} ms over ${cycles} scrapes ` +
      `(10 ms tick resolution), ${exporterSamples} samples per scrape`,
    '',
    `  RSS after ${soakSeconds} s: vigil-agent ${fmt(agentRss, 1)} MB, node_exporter ${fmt(exporterRss, 1)} MB (${scrapes} scrapes)`,
    '',
    `agent CPU per cycle ${fmt(agentMedianMs)} ms <= node_exporter CPU per scrape ${fmt(exporterMeanMs)} ms: ${cpuVerdict}`,
    `agent RSS ${fmt(agentRss, 1)} MB <= ${RSS_TARGET_MB} MB: ${rssVerdict}`,
    ...(agent.failed.length
      ? ['', `  collectors that failed here: ${agent.failed.join('; ')}`]
      : []),
    '',
  ];
  process.stdout.write(lines.join('\n'));
  return 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  process.stderr.write(`bench/agent: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
} finally {
  cleanup();
}
