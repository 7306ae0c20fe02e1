import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCustomChecks } from '../src/checks/config.js';
import { isReportedDisk, parseDiskstats } from '../src/collect/diskstats.js';
import { parseLoadavg } from '../src/collect/loadavg.js';
import { parseMeminfo } from '../src/collect/meminfo.js';
import { memoryFromMeminfo } from '../src/collect/memory.js';
import { diskMounts, parseMounts } from '../src/collect/mounts.js';
import { parseNetDev } from '../src/collect/netdev.js';
import { countTcpStates } from '../src/collect/nettcp.js';
import { parsePidStat, parsePidStatusMemory } from '../src/collect/pid.js';
import { parseOsRelease } from '../src/inventory/packages.js';
import { cpuShares, parseStat } from '../src/collect/stat.js';
import { parseUtmp, UTMP_RECORD_BYTES } from '../src/collect/users.js';
import { parseNvidiaSmi } from '../src/collect/gpu.js';
import { parseSmartctl } from '../src/collect/smart.js';
import { parseSystemctlJson } from '../src/collect/systemd.js';
import { containerFigures } from '../src/collect/docker.js';
import { goTimeString, platformVersion } from '../src/collect/agent.js';
import { parseIni, splitCommand } from '../src/ini.js';
import { counterDelta, RateTracker } from '../src/rates.js';

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

test('memoryFromMeminfo: used excludes buffers and cache; old kernels estimate available', () => {
  const m = new Map([
    ['MemTotal', 1000],
    ['MemFree', 100],
    ['Buffers', 50],
    ['Cached', 200],
    ['SReclaimable', 50],
  ]);
  const r = memoryFromMeminfo(m);
  assert.equal(r.used, 600);
  assert.equal(r.percent, 60);
  assert.equal(r.available, 400);
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

test('counterDelta: increase, 32-bit wrap, reset', () => {
  assert.equal(counterDelta(10, 25), 15);
  assert.equal(counterDelta(2 ** 32 - 10, 5), 15);
  // A counter reset (interface re-created): the new value is the increase since the reset.
  assert.equal(counterDelta(1000, 10), 10);
  assert.equal(counterDelta(2 ** 40, 7), 7);
});

test('RateTracker: first record has no rate; series that vanish start over', () => {
  const r = new RateTracker();
  assert.equal(r.rate('a', 100, 0), undefined);
  r.sweep();
  assert.equal(r.rate('a', 300, 2000), 100);
  r.sweep();
  r.sweep(); // 'a' not seen in this cycle: forgotten.
  assert.equal(r.rate('a', 10_000, 4000), undefined);
});

test('parseIni: sections, comments, quotes, default section; malformed lines name the line', () => {
  const doc = parseIni('top = 1\n[a]\n  # comment\n; other\nk = "quoted value"\nx: y\n[a]\nk2=2\n');
  assert.equal(doc.get('default')!.values.get('top')!.value, '1');
  assert.equal(doc.get('a')!.values.get('k')!.value, 'quoted value');
  assert.equal(doc.get('a')!.values.get('x')!.value, 'y');
  assert.equal(doc.get('a')!.values.get('k2')!.value, '2');
  assert.throws(() => parseIni('[a\n'), /line 1: malformed section/);
  assert.throws(() => parseIni('[a]\njust words\n'), /line 2: expected "key = value"/);
});

test('splitCommand: quotes and escapes like a shell, no expansion', () => {
  assert.deepEqual(splitCommand(`/usr/lib/x -w 5 -c "a b" 'c d' e\\ f $HOME`), [
    '/usr/lib/x',
    '-w',
    '5',
    '-c',
    'a b',
    'c d',
    'e f',
    '$HOME',
  ]);
  assert.throws(() => splitCommand('echo "open'), /unterminated/);
  assert.throws(() => splitCommand("echo 'open"), /unterminated/);
});

test('parseCustomChecks: defaults, shell, and each kind of bad input', () => {
  const ok = parseCustomChecks(
    '[default]\nmax_worker_threads = 2\n[check_a]\ncommand = /bin/true\n[check_b]\ncommand = echo hi\nshell = /bin/sh\ninterval = 30\ntimeout = 5\nenabled = false\n',
  );
  assert.equal(ok.concurrency, 2);
  assert.deepEqual(
    ok.checks.map((c) => [c.name, c.intervalSeconds, c.timeoutSeconds, c.enabled, c.shell]),
    [
      ['check_a', 60, 60, true, undefined],
      ['check_b', 30, 5, false, '/bin/sh'],
    ],
  );
  for (const [text, pattern] of [
    [
      '[c]\ncommand = x\ninterval = 10\ntimeout = 20\n',
      /timeout \(20 s\) is longer than the interval \(10 s\)/,
    ],
    ['[c]\ninterval = 10\n', /\[c\].*"command" is missing/],
    ['[c]\ncommand = x\ninterval = soon\n', /"interval" must be a whole number/],
    ['[c]\ncommand = x\nenabled = maybe\n', /"enabled" must be true or false/],
    ['[c]\ncommand = x\ncolour = red\n', /unknown key "colour"/],
    ['[c]\ncommand = x "open\n', /cannot split/],
    ['[c\n', /malformed section/],
  ] as const)
    assert.throws(() => parseCustomChecks(text), pattern);
});

test('parseNvidiaSmi: MiB to bytes, [N/A] to null; short lines are errors', () => {
  const [g] = parseNvidiaSmi('0, NVIDIA H100 80GB HBM3, 37, 1024, 81559, 41, [N/A]\n');
  assert.equal(g!.name, 'NVIDIA H100 80GB HBM3');
  assert.equal(g!.memory_used_bytes, 1024 * 1024 * 1024);
  assert.equal(g!.utilization_percent, 37);
  assert.equal(g!.power_watts, null);
  assert.throws(() => parseNvidiaSmi('0, x\n'), /short line/);
});

test('parseSmartctl, parseSystemctlJson, containerFigures', () => {
  const s = parseSmartctl(
    JSON.stringify({
      model_name: 'M',
      serial_number: 'S',
      smart_status: { passed: true },
      temperature: { current: 33 },
    }),
    '/dev/sda',
  );
  assert.deepEqual(s, {
    device: '/dev/sda',
    model: 'M',
    serial: 'S',
    passed: true,
    temperature_celsius: 33,
    power_on_hours: null,
  });
  assert.throws(() => parseSmartctl('not json', '/dev/sda'));
  assert.deepEqual(
    parseSystemctlJson(
      '[{"unit":"ssh.service","load":"loaded","active":"active","sub":"running","description":"OpenSSH"}]',
    ),
    [
      {
        Name: 'ssh.service',
        Description: 'OpenSSH',
        LoadState: 'loaded',
        ActiveState: 'active',
        SubState: 'running',
      },
    ],
  );
  assert.throws(() => parseSystemctlJson('{}'), /no list/);
  const f = containerFigures({
    cpu_stats: { cpu_usage: { total_usage: 300 }, system_cpu_usage: 2000, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 100 }, system_cpu_usage: 1000 },
    memory_stats: { usage: 1000, limit: 4000, stats: { inactive_file: 200 } },
    networks: { eth0: { rx_bytes: 5, tx_bytes: 7 }, eth1: { rx_bytes: 1, tx_bytes: 1 } },
    blkio_stats: {
      io_service_bytes_recursive: [
        { op: 'read', value: 10 },
        { op: 'Write', value: 20 },
      ],
    },
  });
  assert.deepEqual(f, {
    cpu_percentage: 40,
    memory_used: 800,
    memory_percentage: 20,
    network_rx: 6,
    network_tx: 8,
    disk_read: 10,
    disk_write: 20,
  });
});

test('goTimeString: the layout of Go time.Time.String()', () => {
  const s = goTimeString(new Date('2021-01-11T14:58:35.120Z'));
  assert.match(s, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,3})? [+-]\d{4} \S+$/);
  assert.ok(!/\.\d*0 /.test(s), 'no trailing zeros in the fraction');
});

test('package managers: dpkg status, apt simulation, apk and rpm listings, os-release', async () => {
  const {
    parseDpkgStatus,
    parseAptSimulate,
    parseApkInstalled,
    parseRpmQuery,
    parseOsRelease,
    osFamily,
  } = await import('../src/inventory/packages.js');
  const dpkg = [
    'Package: zlib1g',
    'Status: install ok installed',
    'Version: 1:1.2.13.dfsg-1',
    'Description: compression library - runtime',
    ' zlib is a library implementing the deflate compression method found in gzip',
    ' and PKZIP.',
    '',
    'Package: half',
    'Status: install reinstreq half-installed',
    'Version: 1',
    '',
    'Package: gone',
    'Status: deinstall ok config-files',
    'Version: 2',
    '',
    'Package: adduser',
    'Status: hold ok installed',
    'Version: 3.134',
    'Description: add and remove users and groups',
    '',
  ].join('\n');
  const pk = parseDpkgStatus(dpkg, 80);
  assert.deepEqual(
    pk.map((p) => p.Name),
    ['adduser', 'zlib1g'],
  );
  assert.equal(pk[1]!.Description.length, 80);
  assert.ok(pk[1]!.Description.startsWith('compression library - runtime\n zlib is'));
  assert.equal(parseDpkgStatus(dpkg, 0)[0]!.Description, '');
  assert.ok(parseDpkgStatus(dpkg, -1)[1]!.Description.endsWith('and PKZIP.'));

  const apt = parseAptSimulate(
    [
      'Reading package lists...',
      'Inst bash [5.2.15-2+b8] (5.2.15-2+b13 Debian:12.15/oldstable [amd64])',
      'Inst liblzma5 [5.4.1-1] (5.4.1-1+deb12u2 Debian-Security:12/oldstable-security [amd64]) []',
      'Conf bash (5.2.15-2+b13 Debian:12.15/oldstable [amd64])',
    ].join('\n'),
  );
  assert.deepEqual(apt, [
    {
      Name: 'bash',
      CurrentVersion: '5.2.15-2+b8',
      AvailableVersion: '5.2.15-2+b13',
      IsSecurityUpdate: false,
      IsPatch: false,
    },
    {
      Name: 'liblzma5',
      CurrentVersion: '5.4.1-1',
      AvailableVersion: '5.4.1-1+deb12u2',
      IsSecurityUpdate: true,
      IsPatch: false,
    },
  ]);

  assert.deepEqual(
    parseApkInstalled(
      'C:Q1x\nP:musl\nV:1.2.4-r2\nT:the musl c library\n\nP:busybox\nV:1.36.1-r5\nT:Size optimized toolbox\n',
      80,
    ),
    [
      { Name: 'busybox', Version: '1.36.1-r5', Description: 'Size optimized toolbox' },
      { Name: 'musl', Version: '1.2.4-r2', Description: 'the musl c library' },
    ],
  );
  assert.deepEqual(
    parseRpmQuery(
      'bash\t0:5.1.8-9.el9\tThe GNU Bourne Again shell\nkernel\t1:5.14.0-1.el9\tThe Linux kernel\n\n',
      80,
    ),
    [
      { Name: 'bash', Version: '5.1.8-9.el9', Description: 'The GNU Bourne Again shell' },
      { Name: 'kernel', Version: '1:5.14.0-1.el9', Description: 'The Linux kernel' },
    ],
  );
  for (const [text, family] of [
    ['ID=debian\nVERSION_ID="12"\n', 'debian'],
    ['ID=ubuntu\nID_LIKE=debian\n', 'debian'],
    ['ID="almalinux"\nID_LIKE="rhel centos fedora"\n', 'rhel'],
    ['ID=alpine\n', 'alpine'],
    ['ID=fedora\n', 'rhel'],
  ] as const)
    assert.equal(osFamily(parseOsRelease(text)), family, text);
});

test('parseNvidiaSmi: output captured on an NVIDIA H100 (driver 580)', async () => {
  const { readFileSync } = await import('node:fs');
  const { FIXTURES } = await import('./support.js');
  const text = readFileSync(`${FIXTURES}/gpu/nvidia-smi-h100.csv`, 'utf8');
  const [g, ...rest] = parseNvidiaSmi(text);
  assert.equal(rest.length, 0);
  assert.equal(g!.name, 'NVIDIA H100 80GB HBM3');
  assert.equal(g!.memory_total_bytes, 81559 * 1024 * 1024);
  assert.equal(g!.temperature_celsius, 33);
  assert.equal(g!.power_watts, 107.86);
  assert.equal(g!.utilization_percent, 0);
});

for (const [name, osRelease, debian, redhat, want] of [
  ['Debian: the point release', 'ID=debian\nVERSION_ID="12"', '12.11\n', undefined, '12.11'],
  ['Raspbian: the point release', 'ID=raspbian\nVERSION_ID="11"', '11.9', undefined, '11.9'],
  [
    "Ubuntu: not Debian's codename",
    'ID=ubuntu\nVERSION_ID="24.04"',
    'trixie/sid',
    undefined,
    '24.04',
  ],
  ['Debian testing: no number, os-release', 'ID=debian', 'trixie/sid', undefined, ''],
  [
    'CentOS 7: the full release',
    'ID="centos"\nVERSION_ID="7"',
    undefined,
    'CentOS Linux release 7.9.2009 (Core)\n',
    '7.9.2009',
  ],
  [
    'AlmaLinux 9',
    'ID="almalinux"\nVERSION_ID="9.7"',
    undefined,
    'AlmaLinux release 9.7 (Moss Jungle Cat)',
    '9.7',
  ],
  [
    'malformed redhat-release: os-release',
    'ID=rhel\nVERSION_ID="9.4"',
    undefined,
    'garbage',
    '9.4',
  ],
  ['nothing at all', '', undefined, undefined, ''],
] as const)
  test(`platformVersion: ${name}`, () =>
    assert.equal(platformVersion(parseOsRelease(osRelease), debian, redhat), want));

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
