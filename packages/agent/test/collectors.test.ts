import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { agent as agentCollector } from '../src/collect/agent.js';
import { runCollectors, type AnyCollector } from '../src/collect/collector.js';
import { cpu } from '../src/collect/cpu.js';
import { diskIo } from '../src/collect/disk-io.js';
import { allCollectors } from '../src/collect/index.js';
import { netIo } from '../src/collect/net-io.js';
import { realHost, type Host } from '../src/host.js';
import { FIXTURES, fixtureHost, schemaErrors } from './support.js';

/** The figure node_exporter printed for a metric line of its end-to-end output. */
function nodeExporterFigure(line: string): number {
  const text = readFileSync(path.join(FIXTURES, 'node-exporter', 'e2e-output.txt'), 'utf8').split(
    '\n',
  );
  const hit = text.find((l) => l.startsWith(`${line} `));
  if (!hit) throw new Error(`no ${line} in node_exporter's output`);
  return Number(hit.slice(line.length + 1));
}

/** Fixed file-system usage, so that fixture documents do not depend on this machine's disks. */
const withUsage = (host: Host): Host => ({
  ...host,
  usage: async () => ({ total: 1000, free: 400, available: 300, inodesTotal: 10, inodesFree: 5 }),
});

/** Runs every collector twice (the second pass has rates) on a host and returns the document. */
async function document(host: Host, collectors: AnyCollector[] = allCollectors()) {
  const t0 = Date.UTC(2026, 0, 1);
  await runCollectors(collectors, { host, nowMs: t0, intervalSeconds: 30 });
  return runCollectors(collectors, { host, nowMs: t0 + 30_000, intervalSeconds: 30 });
}

// What each tree lacks: node_exporter's tree has no /proc/net/dev (it reads netlink instead),
// no socket tables and no /etc/passwd.
const MISSING: Record<string, string[]> = {
  'node-exporter': ['net_io', 'listening_ports', 'accounts'],
};

for (const tree of ['debian12-vm', 'container', 'node-exporter'])
  test(`${tree}: every collector's output validates against the protocol schema`, async () => {
    const { document: doc, outcomes } = await document(withUsage(fixtureHost(tree)));
    assert.deepEqual(schemaErrors(doc), []);
    for (const o of outcomes)
      if (MISSING[tree]?.includes(o.key)) assert.equal(o.ok, false, `${o.key} should fail`);
      else if (o.key !== 'docker') assert.ok(o.ok, `${o.key}: ${o.error}`);
  });

describe('node-exporter tree: figures agree with node_exporter', () => {
  test('load, memory, disks, network, sensors', async () => {
    const { document: d } = await document(withUsage(fixtureHost('node-exporter')));
    const doc = d as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(doc.system_load['0'], nodeExporterFigure('node_load1'));
    assert.equal(doc.system_load['2'], nodeExporterFigure('node_load15'));
    assert.equal(doc.memory.total, nodeExporterFigure('node_memory_MemTotal_bytes'));
    assert.equal(doc.memory.free, nodeExporterFigure('node_memory_MemFree_bytes'));
    assert.equal(doc.swap.total, nodeExporterFigure('node_memory_SwapTotal_bytes'));
    for (const dev of ['sda', 'nvme0n1']) {
      const io = doc.disk_io[dev];
      assert.equal(io.ReadBytes, nodeExporterFigure(`node_disk_read_bytes_total{device="${dev}"}`));
      assert.equal(
        io.ReadCount,
        nodeExporterFigure(`node_disk_reads_completed_total{device="${dev}"}`),
      );
      const ioSeconds = nodeExporterFigure(`node_disk_io_time_seconds_total{device="${dev}"}`);
      assert.ok(Math.abs(io.IoTime / 1000 - ioSeconds) < 1e-6, `${io.IoTime} ms`);
    }
    assert.equal(
      (doc.net_stats.eth0.speed * 1e6) / 8,
      nodeExporterFigure('node_network_speed_bytes{device="eth0"}'),
    );
    assert.equal(
      doc.net_stats.eth0.mtu,
      nodeExporterFigure('node_network_mtu_bytes{device="eth0"}'),
    );
    assert.equal(doc.net_stats.eth0.isup, true);
    assert.equal(doc.net_stats.eth0.duplex, 2);
    const temps = doc.sensors.Temperatures as { label: string; current: number }[];
    const core0 = temps.filter((t) => t.label.startsWith('coretemp_')).map((t) => t.current);
    assert.ok(
      core0.includes(
        nodeExporterFigure('node_hwmon_temp_celsius{chip="platform_coretemp_0",sensor="temp1"}'),
      ),
    );
    assert.ok(temps.length >= 10, `${temps.length} temperatures`);
    assert.equal(
      Math.round(doc.sensors.Batteries[0].percent),
      nodeExporterFigure('node_power_supply_capacity{power_supply="BAT0"}'),
    );
    assert.equal(doc.sensors.Batteries[0].power_plugged, false);
  });
});

test('debian12-vm: the captured process is listed with owner, parent, command and memory', async () => {
  const pid = Number(readFileSync(path.join(FIXTURES, 'debian12-vm', 'PIDS'), 'utf8').trim());
  const { document: d } = await document(withUsage(fixtureHost('debian12-vm')));
  const procs = d.processes as {
    pid: number;
    ppid: number;
    username: string;
    name: string;
    Memory: { rss: number };
  }[];
  const p = procs.find((x) => x.pid === pid);
  assert.ok(p, `pid ${pid} listed`);
  const stat = readFileSync(
    path.join(FIXTURES, 'debian12-vm', 'proc', String(pid), 'stat'),
    'utf8',
  );
  assert.equal(p.ppid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
  assert.equal(p.username, 'root');
  assert.equal(p.name, 'sleep');
  assert.ok(p.Memory.rss > 0);
  // The captured status file says VmHWM 1728 kB, VmStk 132 kB, VmLck 0 kB, VmSwap 0 kB.
  assert.deepEqual(
    (({ rss, vms, hwm, stack, locked, swap, data }) => ({
      rss,
      vms,
      hwm,
      stack,
      locked,
      swap,
      data,
    }))(p.Memory as unknown as Record<string, number>),
    {
      rss: 1728 * 1024,
      vms: 2920 * 1024,
      hwm: 1728 * 1024,
      stack: 132 * 1024,
      locked: 0,
      swap: 0,
      data: (224 + 132) * 1024,
    },
  );
  const disks = d.disks as { disk: { mountpoint: string; fstype: string } }[];
  assert.ok(disks.some((x) => x.disk.mountpoint === '/' && x.disk.fstype === 'ext4'));
  assert.ok(!disks.some((x) => ['proc', 'sysfs', 'tmpfs', 'cgroup2'].includes(x.disk.fstype)));
});

test('container: only the container processes and its loopback interface', async () => {
  const { document: d } = await document(withUsage(fixtureHost('container')));
  const pids = (d.processes as { pid: number }[]).map((p) => p.pid).sort((a, b) => a - b);
  assert.deepEqual(
    pids,
    readFileSync(path.join(FIXTURES, 'container', 'PIDS'), 'utf8')
      .trim()
      .split(' ')
      .map(Number),
  );
  assert.deepEqual(Object.keys(d.net_io as object), ['lo']);
  assert.deepEqual(Object.keys(d.net_stats as object), ['lo']);
});

describe('rates from deltas between cycles', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-rates-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  cpSync(path.join(FIXTURES, 'debian12-vm'), tmp, { recursive: true });
  const host = realHost({
    proc: path.join(tmp, 'proc'),
    sys: path.join(tmp, 'sys'),
    rootfs: path.join(tmp, 'root'),
  });
  const write = (rel: string, text: string) => writeFileSync(path.join(tmp, 'proc', rel), text);
  const netdev = (rows: [string, number, number][]) =>
    'Inter-|   Receive |  Transmit\n face |bytes packets|bytes\n' +
    rows.map(([i, rx, tx]) => `  ${i}: ${rx} 10 0 0 0 0 0 0 ${tx} 20 0 0 0 0 0 0`).join('\n') +
    '\n';

  test('CPU, disk and network rates over a known interval', async () => {
    const collectors = [cpu(), diskIo(), netIo()];
    write(
      'stat',
      'cpu 1000 0 500 8000 100 0 0 0 0 0\ncpu0 500 0 250 4000 50 0 0 0 0 0\ncpu1 500 0 250 4000 50 0 0 0 0 0\n',
    );
    write('diskstats', '   8 0 sda 100 0 1000 50 200 0 4000 80 0 1000 130\n');
    write('net/dev', netdev([['eth0', 1_000_000, 5_000]]));
    await runCollectors(collectors, { host, nowMs: 0, intervalSeconds: 10 });
    // Ten seconds later: core 0 fully busy, core 1 idle; 50 reads of 20 sectors; 1 MB/s received.
    write(
      'stat',
      'cpu 2000 0 500 9000 100 0 0 0 0 0\ncpu0 1500 0 250 4000 50 0 0 0 0 0\ncpu1 500 0 250 5000 50 0 0 0 0 0\n',
    );
    write('diskstats', '   8 0 sda 150 0 2000 100 200 0 4000 80 0 6000 180\n');
    write('net/dev', netdev([['eth0', 11_000_000, 5_000]]));
    const { document: d } = await runCollectors(collectors, {
      host,
      nowMs: 10_000,
      intervalSeconds: 10,
    });
    const c = d.cpu as {
      cpu_total_percentage: number;
      cpu_percentage: number[];
      cpu_percentage_detailed: { User: number }[];
    };
    assert.equal(c.cpu_total_percentage, 50);
    assert.deepEqual(c.cpu_percentage, [100, 0]);
    assert.equal(c.cpu_percentage_detailed[0]!.User, 100);
    const io = (d.disk_io as Record<string, Record<string, number>>).sda!;
    assert.equal(io.ReadIopsPerSecond, 5);
    assert.equal(io.WriteIopsPerSecond, 0);
    assert.equal(io.ReadBytesPerSecond, (1000 * 512) / 10);
    assert.equal(io.ReadAvgSize, (1000 * 512) / 50);
    assert.equal(io.ReadAvgWait, 1);
    assert.equal(io.LoadPercent, 50);
    const net = (d.net_io as Record<string, Record<string, number>>).eth0!;
    assert.equal(net.avg_bytes_recv_ps, 1_000_000);
    assert.equal(net.avg_bytes_sent_ps, 0);
  });

  test('network counters across a 32-bit wrap, a vanished and a returning interface', async () => {
    const c = [netIo()];
    const rate = async (rows: [string, number, number][], nowMs: number) => {
      write('net/dev', netdev(rows));
      const { document: d } = await runCollectors(c, { host, nowMs, intervalSeconds: 1 });
      return d.net_io as Record<string, { avg_bytes_recv_ps: number }>;
    };
    await rate(
      [
        ['eth0', 2 ** 32 - 500, 0],
        ['eth1', 100, 0],
      ],
      0,
    );
    const wrapped = await rate(
      [
        ['eth0', 1500, 0],
        ['eth1', 300, 0],
      ],
      1000,
    );
    assert.equal(wrapped.eth0!.avg_bytes_recv_ps, 2000);
    assert.equal(wrapped.eth1!.avg_bytes_recv_ps, 200);
    const gone = await rate([['eth0', 2500, 0]], 2000);
    assert.deepEqual(Object.keys(gone), ['eth0']);
    // eth1 comes back with its counters reset: a fresh start, not a huge or negative rate.
    const back = await rate(
      [
        ['eth0', 3500, 0],
        ['eth1', 50, 0],
      ],
      3000,
    );
    assert.equal(back.eth1!.avg_bytes_recv_ps, 0);
    assert.equal(back.eth0!.avg_bytes_recv_ps, 1000);
  });
});

test('a collector that fails puts {"error"} under its key and the others still arrive', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-broken-'));
  try {
    cpSync(path.join(FIXTURES, 'debian12-vm'), tmp, { recursive: true });
    writeFileSync(path.join(tmp, 'proc', 'stat'), 'this is not /proc/stat\n');
    rmSync(path.join(tmp, 'proc', 'diskstats'));
    const host = withUsage(
      realHost({
        proc: path.join(tmp, 'proc'),
        sys: path.join(tmp, 'sys'),
        rootfs: path.join(tmp, 'root'),
      }),
    );
    const { document: d } = await runCollectors(allCollectors(), {
      host,
      nowMs: Date.now(),
      intervalSeconds: 30,
    });
    assert.match((d.cpu as { error: string }).error, /stat: no "cpu" line/);
    assert.match((d.disk_io as { error: string }).error, /ENOENT/);
    assert.equal(typeof (d.memory as { total: number }).total, 'number');
    assert.ok(Array.isArray(d.disks));
    assert.deepEqual(schemaErrors(d), []);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('agent: mac_version is the full Debian release from /etc/debian_version', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-release-'));
  try {
    cpSync(path.join(FIXTURES, 'debian12-vm', 'root'), path.join(tmp, 'root'), { recursive: true });
    writeFileSync(
      path.join(tmp, 'root', 'etc', 'os-release'),
      'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\nID=debian\n',
    );
    writeFileSync(path.join(tmp, 'root', 'etc', 'debian_version'), '12.11\n');
    const host = realHost({
      proc: path.join(FIXTURES, 'debian12-vm', 'proc'),
      sys: path.join(FIXTURES, 'debian12-vm', 'sys'),
      rootfs: path.join(tmp, 'root'),
    });
    const { document: d } = await runCollectors([agentCollector()], {
      host,
      nowMs: Date.now(),
      intervalSeconds: 30,
    });
    const agent = d.agent as { mac_version: string; system: string; family: string };
    assert.deepEqual(
      [agent.system, agent.family, agent.mac_version],
      ['debian', 'debian', '12.11'],
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test("live: this machine's /proc and /sys", async () => {
  const host = realHost();
  const t0 = Date.now();
  const collectors = allCollectors();
  await runCollectors(collectors, { host, nowMs: t0, intervalSeconds: 30 });
  await new Promise((r) => setTimeout(r, 300));
  const { document: d, outcomes } = await runCollectors(collectors, {
    host,
    nowMs: Date.now(),
    intervalSeconds: 30,
  });
  assert.deepEqual(schemaErrors(d), []);
  for (const o of outcomes) if (o.key !== 'docker') assert.ok(o.ok, `${o.key}: ${o.error}`);
  const doc = d as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(doc.memory.total, os.totalmem());
  assert.equal(doc.cpu.cpu_percentage.length, os.cpus().length);
  const me = doc.processes.find((p: { pid: number }) => p.pid === process.pid);
  assert.ok(me, 'this test process is listed');
  assert.equal(me.ppid, process.ppid);
  assert.equal(me.name, path.basename(process.execPath));
  assert.ok(me.num_fds > 0);
  assert.ok(me.Memory.rss > 0 && me.Memory.rss < me.Memory.vms);
  // The peak resident set is at least the resident set (the kernel updates it lazily, so they
  // may be equal); a running Node process has a stack.
  assert.ok(me.Memory.hwm >= me.Memory.rss, 'hwm >= rss');
  assert.ok(me.Memory.stack > 0, 'stack > 0');
  for (const k of ['locked', 'swap'])
    assert.ok(Number.isInteger(me.Memory[k]) && me.Memory[k] >= 0);
  assert.ok('lo' in doc.net_io);
  assert.equal(doc.agent.kernel_version, os.release());
  assert.ok(doc.disks.some((x: { disk: { mountpoint: string } }) => x.disk.mountpoint === '/'));
  const root = doc.disks.find((x: { disk: { mountpoint: string } }) => x.disk.mountpoint === '/');
  assert.ok(root.usage.total > 0 && root.usage.percent > 0 && root.usage.percent <= 100);
});
