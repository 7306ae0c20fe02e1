import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isReportedDisk } from '../src/collect/disk-io.js';
import { diskMounts } from '../src/collect/disks.js';
import { parseDiskstats } from '../src/collect/procfs/diskstats.js';
import { parseLoadavg } from '../src/collect/procfs/loadavg.js';
import { parseMeminfo } from '../src/collect/procfs/meminfo.js';
import { parseMounts } from '../src/collect/procfs/mounts.js';
import { countTcpStates } from '../src/collect/procfs/net-tcp.js';
import { parseNetDev } from '../src/collect/procfs/netdev.js';
import { parsePidStat } from '../src/collect/procfs/pid-stat.js';
import { parsePidStatusMemory } from '../src/collect/procfs/pid-status.js';
import { cpuShares, parseBtime, parseStat } from '../src/collect/procfs/stat.js';
import { parseUptime } from '../src/collect/procfs/uptime.js';
import { parseUtmp, UTMP_RECORD_BYTES } from '../src/collect/procfs/utmp.js';

for (const [name, input, ok] of [
  ['valid', '0.21 0.37 0.39 1/719 19737', true],
  ['three fields', '1.5 2 3', true],
  ['too few fields', '0.21 0.37', false],
  ['empty', '', false],
  ['not numbers', 'a b c 1/2 3', false],
  ['negative', '-1 0 0 1/1 1', false],
] as const)
  test(`parseLoadavg: ${name}`, () =>
    ok
      ? assert.ok(parseLoadavg(input).m1 >= 0)
      : assert.throws(() => parseLoadavg(input), /loadavg/));

test('parseLoadavg reads the three averages', () =>
  assert.deepEqual(parseLoadavg('0.21 0.37 0.39 1/719 19737\n'), {
    m1: 0.21,
    m5: 0.37,
    m15: 0.39,
  }));

test('parseStat: total, cores, btime; malformed lines are errors', () => {
  const s = parseStat(
    'cpu  10 1 5 100 2 0 1 0 0 0\ncpu0 5 1 2 50 1 0 1 0 0 0\ncpu1 5 0 3 50 1 0 0 0 0 0\nbtime 1700000000\nprocs_running 3\n',
  );
  assert.equal(s.cores.length, 2);
  assert.equal(s.total.user, 10);
  assert.equal(s.bootTimeSeconds, 1700000000);
  assert.throws(() => parseStat('intr 1 2 3\n'), /no "cpu" line/);
  assert.throws(() => parseStat('cpu 1 2 x 4\n'), /not a whole number/);
  assert.throws(() => parseStat('cpu 1 2\n'), /fewer than 4/);
  // Kernels older than 2.6.11 have only four columns; the rest count as 0.
  assert.equal(parseStat('cpu 1 2 3 4\n').total.iowait, 0);
});

for (const [name, input, want] of [
  ['btime among the other lines', 'cpu 1 2 3 4\nbtime 1700000000\nprocs_running 1\n', 1700000000],
  ['the rest of the file malformed', 'garbage\nbtime 5\n', 5],
  ['no btime line', 'cpu 1 2 3 4\n', undefined],
  ['btime not a number', 'btime soon\n', undefined],
] as const)
  test(`parseBtime: ${name}`, () => assert.equal(parseBtime(input), want));

for (const [name, input, want] of [
  ['valid', '350735.47 234388.90\n', 350735.47],
  ['empty', '', 0],
  ['not a number', 'up 3 days\n', NaN],
] as const)
  test(`parseUptime: ${name}`, () => assert.ok(Object.is(parseUptime(input), want)));

test('cpuShares: busy share from deltas; counters going backwards give 0', () => {
  const a = parseStat('cpu 100 0 100 800 0 0 0 0 0 0\n').total;
  const b = parseStat('cpu 150 0 150 900 0 0 0 0 0 0\n').total;
  const s = cpuShares(a, b);
  assert.equal(s.busy, 50);
  assert.equal(s.user, 25);
  assert.equal(s.idle, 50);
  assert.equal(cpuShares(b, a).busy, 0);
  assert.equal(cpuShares(a, a).busy, 0);
});

test('parseMeminfo: kB to bytes; malformed lines and a missing MemTotal are errors', () => {
  const m = parseMeminfo(
    'MemTotal:       1000 kB\nMemFree:         200 kB\nHugePages_Total:       0\n',
  );
  assert.equal(m.get('MemTotal'), 1024000);
  assert.equal(m.get('HugePages_Total'), 0);
  assert.throws(() => parseMeminfo('MemTotal: lots\n'), /malformed/);
  assert.throws(() => parseMeminfo('MemFree: 1 kB\n'), /no MemTotal/);
});

test('parseMounts: octal escapes; diskMounts skips pseudo file systems and keeps the last mount', () => {
  const text = [
    '/dev/sda1 / ext4 rw,relatime 0 0',
    'proc /proc proc rw 0 0',
    'tmpfs /run tmpfs rw 0 0',
    '/dev/sdb1 /mnt/my\\040disk xfs ro 0 0',
    'overlay /var/lib/docker/x overlay rw 0 0',
    '/dev/sdc1 / ext4 rw 0 0',
  ].join('\n');
  const all = parseMounts(text);
  assert.equal(all[3]!.mountpoint, '/mnt/my disk');
  const disks = diskMounts(all);
  assert.deepEqual(
    disks.map((d) => [d.device, d.mountpoint]),
    [
      ['/dev/sdc1', '/'],
      ['/dev/sdb1', '/mnt/my disk'],
    ],
  );
  assert.throws(() => parseMounts('/dev/sda1 /\n'), /malformed/);
});

test('parseDiskstats: 14, 18 and 20 column lines; short lines are errors', () => {
  const d = parseDiskstats(
    '   8       0 sda 100 0 2048 50 10 0 80 5 0 60 55\n' +
      ' 259 0 nvme0n1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\n' +
      '   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0\n',
  );
  assert.equal(d.length, 3);
  assert.equal(d[0]!.sectorsRead, 2048);
  assert.equal(d[1]!.weightedIoTimeMs, 11);
  assert.equal(isReportedDisk(d[0]!), true);
  assert.equal(isReportedDisk(d[2]!), false);
  assert.throws(() => parseDiskstats('8 0 sda 1 2 3\n'), /fewer than 14/);
  assert.throws(() => parseDiskstats('8 0 sda 1 2 3 4 5 6 7 8 9 10 x\n'), /not a whole number/);
});

test('parseNetDev: header skipped, counters read; short lines are errors', () => {
  const text =
    'Inter-|   Receive |  Transmit\n face |bytes packets|bytes\n' +
    '  eth0: 100 2 0 0 0 0 0 0 300 4 1 0 0 0 0 0\n';
  const [e] = parseNetDev(text);
  assert.equal(e!.iface, 'eth0');
  assert.equal(e!.rxBytes, 100);
  assert.equal(e!.txBytes, 300);
  assert.equal(e!.txErrors, 1);
  assert.throws(() => parseNetDev('eth0: 1 2 3\n'), /fewer than 16/);
});

test('countTcpStates: by state code, header skipped', () => {
  const counts: Record<string, number> = {};
  countTcpStates(
    '  sl  local_address rem_address   st\n' +
      '   0: 0100007F:1F90 00000000:0000 0A 0\n' +
      '   1: 0100007F:1F90 0100007F:A000 01 0\n' +
      '   2: 0100007F:1F90 0100007F:A002 01 0\n',
    counts,
  );
  assert.deepEqual(counts, { listen: 1, established: 2 });
});

test('parsePidStat: a command name with spaces and parentheses', () => {
  const line =
    '4242 (my (odd) proc) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 5 3 0 12345 1048576 256 18446744073709551615';
  const p = parsePidStat(line);
  assert.equal(p.comm, 'my (odd) proc');
  assert.equal(p.ppid, 1);
  assert.equal(p.utimeTicks, 250);
  assert.equal(p.nice, 5);
  assert.equal(p.threads, 3);
  assert.equal(p.startTicks, 12345);
  assert.throws(() => parsePidStat('garbage'), /no \(comm\)/);
  assert.throws(() => parsePidStat('1 (x) S 0 1'), /fewer than 24/);
});

test('parseUtmp: USER_PROCESS records only', () => {
  const buf = Buffer.alloc(UTMP_RECORD_BYTES * 2);
  buf.writeInt32LE(7, 0);
  buf.write('pts/0', 8);
  buf.write('alice', 44);
  buf.write('10.0.0.9', 76);
  buf.writeInt32LE(1700000000, 340);
  buf.writeInt32LE(8, UTMP_RECORD_BYTES); // DEAD_PROCESS
  assert.deepEqual(parseUtmp(buf), [
    { name: 'alice', terminal: 'pts/0', host: '10.0.0.9', started: 1700000000 },
  ]);
  assert.deepEqual(parseUtmp(Buffer.alloc(100)), []);
});

test('parsePidStatusMemory: the Vm and Rss lines in bytes; absent or malformed lines are 0', () => {
  const status = [
    'Name:\tnode',
    'VmPeak:\t 1200 kB',
    'VmSize:\t 1100 kB',
    'VmLck:\t      8 kB',
    'VmHWM:\t  900 kB',
    'VmRSS:\t  800 kB',
    'RssAnon:\t 500 kB',
    'RssFile:\t 250 kB',
    'RssShmem:\t 50 kB',
    'VmData:\t  300 kB',
    'VmStk:\t  132 kB',
    'VmExe:\t   20 kB',
    'VmSwap:\t   16 kB',
    'Threads:\t11',
  ].join('\n');
  assert.deepEqual(parsePidStatusMemory(status), {
    rss: 800 * 1024,
    vms: 1100 * 1024,
    shared: 300 * 1024,
    text: 20 * 1024,
    data: 432 * 1024,
    hwm: 900 * 1024,
    stack: 132 * 1024,
    locked: 8 * 1024,
    swap: 16 * 1024,
  });
  // A kernel thread's status has no memory lines.
  const zero = {
    rss: 0,
    vms: 0,
    shared: 0,
    text: 0,
    data: 0,
    hwm: 0,
    stack: 0,
    locked: 0,
    swap: 0,
  };
  assert.deepEqual(parsePidStatusMemory('Name:\tkworker/0:1\nState:\tI (idle)\n'), zero);
  assert.deepEqual(parsePidStatusMemory(''), zero);
  assert.deepEqual(
    parsePidStatusMemory(
      'VmPeak:\tx kB\nVmHWM:\tlots kB\nVmStk: -4 kB\nVmLck:\t1.5 kB\nVmSwap:\t12 MB\n',
    ),
    zero,
  );
  // Lines outside the Vm block (before VmPeak, after VmSwap) are not memory figures.
  assert.deepEqual(
    parsePidStatusMemory('VmRSS:\t9 kB\nVmPeak:\t4 kB\nVmSwap:\t2 kB\nVmHWM:\t7 kB\n'),
    { ...zero, swap: 2048 },
  );
});
