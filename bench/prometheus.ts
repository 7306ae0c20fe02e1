// The yardstick: Debian's Prometheus scraping the same samples Vigil ingests. A synthetic
// exporter (in this process, HTTPS keep-alive like Vigil's agents) serves, for each of `targets`
// simulated hosts, the series the normaliser makes of the recorded document, with figures varied
// per scrape; Prometheus scrapes every host at `intervalSeconds` (the multi-target exporter
// pattern: one address, the host as a parameter). Measured: the samples Prometheus appended and
// the CPU-seconds its process used over the window.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { ensureAutoTls } from '../packages/server/src/tls/pki.js';
import { freePort } from '../test/support/postgres.js';

const PROMETHEUS = '/usr/bin/prometheus';

export interface PrometheusResult {
  targets: number;
  intervalSeconds: number;
  samplesPerSecond: number;
  cpuSeconds: number;
  samplesPerCpuSecond: number;
  rssMb: number;
  /** Samples appended against what every target scraped on time would give (1 = all). */
  coverage: number;
}

const cpuSeconds = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const rssMb = (pid: number) =>
  Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** Sums a counter (all label sets) in Prometheus's own exposition. */
function counter(text: string, name: string): number {
  let total = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{'))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  return total;
}

const get = (port: number, p: string) =>
  new Promise<string>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: p }, (res) => {
        let t = '';
        res.on('data', (c) => (t += c));
        res.on('end', () => resolve(t));
      })
      .on('error', reject);
  });

/**
 * Runs Prometheus against the synthetic exporter for `warmupSeconds` + `seconds`.
 * @param series the series keys (`metric{label="v"}`) and typical values of one host.
 */
export async function prometheusBaseline(opts: {
  series: { key: string; value: number }[];
  targets: number;
  intervalSeconds: number;
  warmupSeconds: number;
  seconds: number;
}): Promise<PrometheusResult> {
  if (!existsSync(PROMETHEUS))
    throw new Error(`${PROMETHEUS} not found (apt-get install prometheus)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-prometheus-'));
  const tls = await ensureAutoTls(path.join(dir, 'tls'));
  // One exposition per scrape: every value varies a little, as a host's figures do.
  const lines = opts.series.map((s) => ({ head: `${s.key} `, value: s.value }));
  let served = 0;
  const exporter = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const host = new URL(req.url ?? '/', 'https://x').searchParams.get('host') ?? '';
    if (!host) {
      res.writeHead(400).end('host parameter required\n');
      return;
    }
    let body = '';
    for (const l of lines)
      body += `${l.head}${(l.value * (0.9 + Math.random() * 0.2)).toFixed(3)}\n`;
    served += lines.length;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
  });
  exporter.keepAliveTimeout = 60_000;
  const exporterPort = await freePort();
  await new Promise<void>((r) => exporter.listen(exporterPort, '127.0.0.1', r));

  const webPort = await freePort();
  const config = [
    'global:',
    `  scrape_interval: ${opts.intervalSeconds}s`,
    `  scrape_timeout: ${opts.intervalSeconds}s`,
    'scrape_configs:',
    '  - job_name: fleet',
    '    scheme: https',
    '    metrics_path: /metrics',
    '    tls_config:',
    `      ca_file: ${tls.caFile}`,
    '    static_configs:',
    '      - targets:',
    ...Array.from({ length: opts.targets }, (_, i) => `          - bench-${i}`),
    '    relabel_configs:',
    '      - source_labels: [__address__]',
    '        target_label: __param_host',
    '      - source_labels: [__param_host]',
    '        target_label: instance',
    '      - target_label: __address__',
    `        replacement: 127.0.0.1:${exporterPort}`,
  ].join('\n');
  writeFileSync(path.join(dir, 'prometheus.yml'), `${config}\n`);
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${webPort}`,
      '--storage.tsdb.retention.time=1d',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (c) => (log = (log + c).slice(-4000)));
  try {
    const ready = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited:\n${log}`);
      const ok = await get(webPort, '/-/ready').then(
        (t) => t.includes('Ready'),
        () => false,
      );
      if (ok) break;
      if (Date.now() > ready) throw new Error(`prometheus did not become ready:\n${log}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, opts.warmupSeconds * 1000));
    const m0 = await get(webPort, '/metrics');
    const cpu0 = cpuSeconds(child.pid!);
    const served0 = served;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, opts.seconds * 1000));
    const m1 = await get(webPort, '/metrics');
    const cpu = cpuSeconds(child.pid!) - cpu0;
    const wall = (performance.now() - t0) / 1000;
    const appended =
      counter(m1, 'prometheus_tsdb_head_samples_appended_total') -
      counter(m0, 'prometheus_tsdb_head_samples_appended_total');
    // Prometheus appends five series of its own per scrape (up, scrape_duration_seconds, …):
    // count only the exporter's samples, and never more than were appended.
    const samples = Math.min(served - served0, appended);
    return {
      targets: opts.targets,
      intervalSeconds: opts.intervalSeconds,
      samplesPerSecond: samples / wall,
      cpuSeconds: cpu,
      samplesPerCpuSecond: samples / cpu,
      rssMb: rssMb(child.pid!),
      coverage: samples / ((opts.targets * lines.length * wall) / opts.intervalSeconds),
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    exporter.closeAllConnections();
    exporter.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
