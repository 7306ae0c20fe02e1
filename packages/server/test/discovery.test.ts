import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  discoveredFacts,
  parseDf,
  parseIpAddr,
  parseMeminfo,
  parseNproc,
  parseOsRelease,
  parseUname,
} from '../src/hosts/discovery.js';

// Output captured on Debian 12 (bookworm), kernel 6.1, with LC_ALL=C.
const OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
`;
const MEMINFO = `MemTotal:        8024116 kB
MemFree:          512340 kB
MemAvailable:    6012344 kB
SwapCached:            0 kB
SwapTotal:       1048572 kB
SwapFree:        1048572 kB
`;
const DF = `Filesystem     1024-blocks     Used Available Capacity Mounted on
/dev/sda1         41152736 12345678  26693012      32% /
tmpfs              4012056        0   4012056       0% /dev/shm
/dev/sdb1        103081248  5242880  92579528       6% /srv/my data
`;
const IP = `1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
1: lo    inet6 ::1/128 scope host noprefixroute \\       valid_lft forever preferred_lft forever
2: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\\       valid_lft forever preferred_lft forever
5: veth1@if4    inet6 fe80::1/64 scope link \\       valid_lft forever preferred_lft forever
`;

for (const [name, input, ok] of [
  ['debian', OS_RELEASE, true],
  ['unquoted', 'ID=alpine\nVERSION_ID=3.19.1\n', true],
  ['empty', '', false],
  ['no ID or NAME', 'VERSION_ID=12\n', false],
] as const)
  test(`parseOsRelease: ${name}`, () => {
    if (!ok) return assert.throws(() => parseOsRelease(input));
    const r = parseOsRelease(input);
    assert.ok(r.ID);
  });

test('parseOsRelease reads quoted values', () => {
  const r = parseOsRelease(OS_RELEASE);
  assert.equal(r.PRETTY_NAME, 'Debian GNU/Linux 12 (bookworm)');
  assert.equal(r.VERSION_ID, '12');
  assert.equal(r.ID, 'debian');
});

for (const [name, input, want] of [
  [
    'valid',
    'Linux 6.1.0-18-amd64 x86_64\n',
    { system: 'Linux', release: '6.1.0-18-amd64', machine: 'x86_64' },
  ],
  ['too few fields', 'Linux 6.1.0', undefined],
  ['too many fields', 'Linux a b c', undefined],
  ['empty', '', undefined],
] as const)
  test(`parseUname: ${name}`, () =>
    want ? assert.deepEqual(parseUname(input), want) : assert.throws(() => parseUname(input)));

for (const [name, input, want] of [
  ['valid', '8\n', 8],
  ['zero', '0', undefined],
  ['text', 'eight', undefined],
  ['negative', '-2', undefined],
] as const)
  test(`parseNproc: ${name}`, () =>
    want ? assert.equal(parseNproc(input), want) : assert.throws(() => parseNproc(input)));

test('parseMeminfo: totals in bytes; no MemTotal is an error', () => {
  assert.deepEqual(parseMeminfo(MEMINFO), {
    total_bytes: 8024116 * 1024,
    swap_total_bytes: 1048572 * 1024,
  });
  assert.deepEqual(parseMeminfo('MemTotal: 1024 kB\n'), {
    total_bytes: 1024 * 1024,
    swap_total_bytes: 0,
  });
  assert.throws(() => parseMeminfo('MemFree: 1 kB\n'));
});

test('parseDf: sizes in bytes, mount points with spaces; no header or a bad line is an error', () => {
  const d = parseDf(DF);
  assert.equal(d.length, 3);
  assert.deepEqual(d[0], {
    device: '/dev/sda1',
    mountpoint: '/',
    fstype: null,
    total_bytes: 41152736 * 1024,
    used_percent: 32,
  });
  assert.equal(d[2]!.mountpoint, '/srv/my data');
  assert.throws(() => parseDf('/dev/sda1 1 1 1 1% /\n'));
  assert.throws(() => parseDf(`${DF}garbage line\n`));
});

test('parseIpAddr: addresses grouped by interface; a bad line is an error', () => {
  assert.deepEqual(parseIpAddr(IP), [
    { name: 'lo', addresses: ['127.0.0.1/8', '::1/128'] },
    { name: 'eth0', addresses: ['192.0.2.2/24'] },
    { name: 'veth1', addresses: ['fe80::1/64'] },
  ]);
  assert.deepEqual(parseIpAddr(''), []);
  assert.throws(() => parseIpAddr('not ip output\n'));
});

test('discoveredFacts: a failed or unparsable command leaves its facts null and says why', () => {
  const f = discoveredFacts({
    os_release: { ok: true, stdout: OS_RELEASE },
    uname: { ok: true, stdout: 'Linux 6.1.0-18-amd64 x86_64' },
    nproc: { ok: false, error: 'exit 127: nproc: not found' },
    meminfo: { ok: true, stdout: 'nonsense' },
    df: { ok: true, stdout: DF },
  });
  assert.deepEqual(f.os, {
    name: 'Debian GNU/Linux 12 (bookworm)',
    family: 'debian',
    version: '12',
    kernel: '6.1.0-18-amd64',
    architecture: 'x86_64',
  });
  assert.equal(f.cpu.cores, null);
  assert.deepEqual(f.memory, { total_bytes: null, swap_total_bytes: null });
  assert.equal(f.disks.length, 3);
  assert.deepEqual(f.interfaces, []);
  assert.equal(f.commands.nproc!.status, 'failed');
  assert.match(f.commands.meminfo!.error!, /MemTotal/);
  assert.equal(f.commands.ip_addr!.status, 'skipped');
  assert.equal(f.commands.os_release!.status, 'ok');
});
