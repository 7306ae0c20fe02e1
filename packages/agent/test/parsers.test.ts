import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCustomChecks } from '../src/checks/config.js';
import { goTimeString, platformVersion } from '../src/collect/agent.js';
import { containerFigures } from '../src/collect/docker.js';
import { parseNvidiaSmi } from '../src/collect/gpu.js';
import { memoryFromMeminfo } from '../src/collect/memory.js';
import { parseSmartctl } from '../src/collect/smart.js';
import { parseSystemctlJson } from '../src/collect/systemd-services.js';
import { parseIni, splitCommand } from '../src/ini.js';
import { parseOsRelease } from '../src/inventory/packages.js';
import { counterDelta, RateTracker } from '../src/rates.js';

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
