import assert from 'node:assert/strict';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { listeningPorts } from '../src/collect/listening-ports.js';
import {
  decodeSocketAddress,
  formatIpv6,
  isListening,
  parseSockets,
} from '../src/collect/procfs/net-tcp.js';
import { realHost, type Host } from '../src/host.js';
import { FIXTURES, fixtureHost, schemaErrors } from './support.js';

const NOW = Date.UTC(2026, 0, 1);
const cycle = async (
  c: ReturnType<typeof listeningPorts>,
  host: Host = fixtureHost('intel-host'),
) => (await c.collect({ host, nowMs: NOW, intervalSeconds: 30 })) ?? [];

for (const [name, hex, expected] of [
  ['IPv4 any', '00000000', '0.0.0.0'],
  ['IPv4 loopback', '0100007F', '127.0.0.1'],
  ['IPv4 private', '0F02000A', '10.0.2.15'],
  ['IPv6 any', '00000000000000000000000000000000', '::'],
  ['IPv6 loopback', '00000000000000000000000001000000', '::1'],
  ['IPv6 link-local', '000080FE00000000B2D7035A2E1C7FFE', 'fe80::5a03:d7b2:fe7f:1c2e'],
  ['IPv4-mapped', '0000000000000000FFFF00000F02000A', '::ffff:10.0.2.15'],
  ['IPv6 documentation', 'B80D0120000000000000000001000000', '2001:db8::1'],
  ['too short', '0100007', undefined],
  ['not hex', '0100007G', undefined],
  ['empty', '', undefined],
] as const)
  test(`decodeSocketAddress: ${name}`, () => assert.equal(decodeSocketAddress(hex), expected));

test('formatIpv6: the longest zero run is shortened, the first of equal ones', () => {
  const bytes = (groups: number[]) => groups.flatMap((g) => [g >> 8, g & 0xff]);
  assert.equal(formatIpv6(bytes([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1])), '2001:db8::1:0:0:1');
  assert.equal(formatIpv6(bytes([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1])), '2001:db8:0:1:1:1:1:1');
  assert.equal(formatIpv6(bytes([1, 0, 0, 0, 0, 0, 0, 0])), '1::');
});

test('parseSockets: real lines; the header, short and malformed lines are skipped', () => {
  const text = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20511 1 0000000000000000 100 0 0 10 0',
    '   1: 0F02000A:0016 0202000A:D3A4 01 00000000:00000000 02:0009A6F1 00000000     0        0 31337 4 0000000000000000 20 4 31 10 -1',
    '   2: 00000000:0016 00000000:0000 0A',
    '   3: XYZ:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1',
    '',
  ].join('\n');
  assert.deepEqual(parseSockets(text), [
    { address: '0.0.0.0', port: 22, remotePort: 0, state: '0A', inode: 20511 },
    { address: '10.0.2.15', port: 22, remotePort: 54180, state: '01', inode: 31337 },
  ]);
  assert.deepEqual(parseSockets(''), []);
});

test('isListening: TCP LISTEN, unconnected bound UDP; never port 0', () => {
  const s = { address: '0.0.0.0', port: 53, remotePort: 0, state: '07', inode: 1 };
  assert.equal(isListening('udp', s), true);
  assert.equal(isListening('tcp', s), false);
  assert.equal(isListening('udp', { ...s, state: '01', remotePort: 53 }), false);
  assert.equal(isListening('tcp', { ...s, state: '0A' }), true);
  assert.equal(isListening('tcp', { ...s, state: '0A', port: 0 }), false);
});

test('listening_ports on a fixture tree: tcp, tcp6, udp and udp6, with their owners', async () => {
  const ports = await cycle(listeningPorts());
  assert.deepEqual(ports, [
    { protocol: 'tcp', address: '0.0.0.0', port: 22, process: 'sshd', pid: 612 },
    { protocol: 'tcp', address: '::', port: 22, process: 'sshd', pid: 612 },
    // Two sockets on one port (SO_REUSEPORT) are one entry; the parent process holds them.
    { protocol: 'tcp', address: '0.0.0.0', port: 80, process: 'nginx', pid: 845 },
    // Other users' descriptors are not readable: no owner.
    { protocol: 'tcp', address: '::1', port: 631 },
    { protocol: 'tcp', address: '127.0.0.1', port: 5432 },
    { protocol: 'udp', address: '0.0.0.0', port: 68, process: 'dhclient', pid: 402 },
    { protocol: 'udp', address: '127.0.0.1', port: 323, process: 'chronyd', pid: 530 },
    { protocol: 'udp', address: '::1', port: 323, process: 'chronyd', pid: 530 },
    {
      protocol: 'udp',
      address: 'fe80::5a03:d7b2:fe7f:1c2e',
      port: 546,
      process: 'dhclient',
      pid: 402,
    },
  ]);
  assert.deepEqual(schemaErrors({ listening_ports: ports }), []);
});

test('listening_ports: owners are looked for once per new socket and kept while it exists', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-ports-'));
  try {
    cpSync(path.join(FIXTURES, 'intel-host'), dir, { recursive: true, verbatimSymlinks: true });
    const real = realHost({ proc: path.join(dir, 'proc'), rootfs: path.join(dir, 'root') });
    let walks = 0;
    const host = {
      ...real,
      proc: {
        ...real.proc,
        list: (rel: string) => {
          if (rel === '.') walks++;
          return real.proc.list(rel);
        },
      },
    };
    const c = listeningPorts();
    await cycle(c, host);
    await cycle(c, host);
    assert.equal(walks, 1, 'a second cycle with the same sockets walks no descriptors');
    // A new socket appears, held by a new process: one walk finds its owner.
    const tcp = path.join(dir, 'proc', 'net', 'tcp');
    writeFileSync(
      tcp,
      `${readFileSync(tcp, 'utf8')}   6: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 50001 1 0000000000000000 100 0 0 10 0\n`,
    );
    mkdirSync(path.join(dir, 'proc', '2001', 'fd'), { recursive: true });
    writeFileSync(path.join(dir, 'proc', '2001', 'comm'), 'node\n');
    symlinkSync('socket:[50001]', path.join(dir, 'proc', '2001', 'fd', '21'));
    const ports = await cycle(c, host);
    assert.equal(walks, 2);
    assert.deepEqual(
      ports.find((p) => p.port === 8080),
      { protocol: 'tcp', address: '0.0.0.0', port: 8080, process: 'node', pid: 2001 },
    );
    // The sockets whose owners cannot be read are not looked for again.
    await cycle(c, host);
    assert.equal(walks, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('listening_ports: a machine without any socket table fails rather than report none', async () => {
  await assert.rejects(
    cycle(listeningPorts(), fixtureHost('node-exporter')),
    /none of \/proc\/net/,
  );
});
