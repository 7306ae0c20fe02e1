import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { ComplianceProbe } from '@vigil/protocol';
import {
  MAX_WALK_ENTRIES,
  createProbeRunner,
  parseProcNetPorts,
} from '../src/compliance/probes.js';
import { buildTree, fixtureTree, removeTrees, type TreeSpec } from './compliance-support.js';

// Each probe against fixture trees, passing and failing, with the edge cases that decide a
// verdict: comments, globs, masked units, stricter modes, sockets not in LISTEN, symbolic links.

after(removeTrees);

const run = (spec: TreeSpec, probe: ComplianceProbe) =>
  createProbeRunner(buildTree(spec).ctx)(probe);
const expectStatus = async (
  spec: TreeSpec,
  probe: ComplianceProbe,
  status: string,
  detail?: RegExp,
) => {
  const out = await run(spec, probe);
  assert.equal(out.status, status, out.detail);
  if (detail) assert.match(out.detail, detail);
};
const asRoot = process.getuid?.() === 0;

describe('file_content', () => {
  const spec: TreeSpec = {
    files: {
      '/etc/ssh/sshd_config': '# PermitRootLogin no\nInclude /etc/ssh/sshd_config.d/*.conf\n',
      '/etc/ssh/sshd_config.d/10-a.conf': '  permitrootlogin   NO\n',
      '/etc/ssh/sshd_config.d/20-b.txt': 'PermitRootLogin yes\n',
    },
  };
  const probe = (
    pattern: string,
    expect: 'match' | 'no_match',
    paths = ['/etc/ssh/sshd_config', '/etc/ssh/sshd_config.d/*.conf'],
  ): ComplianceProbe => ({ kind: 'file_content', paths, pattern, expect });
  for (const [name, p, status, detail] of [
    [
      'a match in a globbed file, any case',
      probe('^\\s*PermitRootLogin\\s+no\\b', 'match'),
      'pass',
      /10-a\.conf:1/,
    ],
    [
      'comment lines never match',
      probe('^\\s*#?\\s*PermitRootLogin\\s+no', 'match', ['/etc/ssh/sshd_config']),
      'fail',
      /no line matches/,
    ],
    [
      'the glob takes only its own files',
      probe('PermitRootLogin\\s+yes', 'no_match'),
      'pass',
      undefined,
    ],
    [
      'a forbidden line found',
      probe('PermitRootLogin\\s+no', 'no_match'),
      'fail',
      /found \/etc\/ssh\/sshd_config\.d\/10-a\.conf/,
    ],
    [
      'no file at all: fail by default',
      probe('x', 'match', ['/etc/nothing', '/etc/none.d/*']),
      'fail',
      /no such file/,
    ],
    [
      'no file at all: as `missing` says',
      { ...probe('x', 'no_match', ['/etc/nothing']), missing: 'pass' },
      'pass',
      /no such file/,
    ],
  ] as const)
    test(name, () => expectStatus(spec, p as ComplianceProbe, status, detail));

  test('an unreadable file is an error, not a verdict', async () => {
    const { ctx, root } = buildTree(spec);
    const file = path.join(root, 'etc/ssh/sshd_config');
    if (asRoot) {
      // Root reads any file whatever its mode: a directory in its place cannot be read either.
      rmSync(file);
      mkdirSync(file);
    } else chmodSync(file, 0o000);
    const out = await createProbeRunner(ctx)(probe('x', 'no_match', ['/etc/ssh/sshd_config']));
    assert.equal(out.status, 'error');
    if (!asRoot) assert.equal(out.detail, 'permission denied reading /etc/ssh/sshd_config');
    else assert.match(out.detail ?? '', /\/etc\/ssh\/sshd_config/);
  });
});

describe('sysctl', () => {
  const spec: TreeSpec = {
    files: {
      '/proc/sys/net/ipv4/ip_forward': '0\n',
      '/proc/sys/kernel/kptr_restrict': '2\n',
      '/proc/sys/net/ipv4/tcp_rmem': '4096\t131072\t6291456\n',
      '/proc/sys/kernel/core_pattern': '|/usr/lib/systemd/systemd-coredump %P\n',
    },
  };
  const s = (
    key: string,
    op: 'eq' | 'ne' | 'ge' | 'le',
    value: number | string,
  ): ComplianceProbe => ({ kind: 'sysctl', key, op, value });
  for (const [name, p, status] of [
    ['eq numeric', s('net.ipv4.ip_forward', 'eq', 0), 'pass'],
    ['eq numeric, other value', s('net.ipv4.ip_forward', 'eq', 1), 'fail'],
    ['ne', s('net.ipv4.ip_forward', 'ne', 1), 'pass'],
    ['ge', s('kernel.kptr_restrict', 'ge', 1), 'pass'],
    ['le', s('kernel.kptr_restrict', 'le', 1), 'fail'],
    [
      'text compares with whitespace folded',
      s('net.ipv4.tcp_rmem', 'eq', '4096 131072 6291456'),
      'pass',
    ],
    ['text differs', s('kernel.core_pattern', 'eq', 'core'), 'fail'],
    ['text cannot be ordered', s('kernel.core_pattern', 'ge', 'a'), 'error'],
    ['a parameter this kernel lacks', s('net.ipv6.conf.all.forwarding', 'eq', 0), 'error'],
  ] as const)
    test(name, () => expectStatus(spec, p, status));
});

describe('package', () => {
  const dpkg: TreeSpec = {
    files: {
      '/var/lib/dpkg/status':
        'Package: auditd\nStatus: install ok installed\nVersion: 1\n\n' +
        'Package: telnetd\nStatus: deinstall ok config-files\nVersion: 1\n\n' +
        'Package: nis\nStatus: hold ok installed\nVersion: 1\n',
    },
  };
  const p = (name: string, expect: 'installed' | 'absent'): ComplianceProbe => ({
    kind: 'package',
    name,
    expect,
  });
  test('dpkg: installed', () =>
    expectStatus(dpkg, p('auditd', 'installed'), 'pass', /auditd is installed/));
  test('dpkg: held packages are installed', () => expectStatus(dpkg, p('nis', 'absent'), 'fail'));
  test('dpkg: removed with its configuration left is absent', () =>
    expectStatus(dpkg, p('telnetd', 'absent'), 'pass'));
  test('dpkg: never installed', () =>
    expectStatus(dpkg, p('ufw', 'installed'), 'fail', /ufw is not installed/));
  test('rpm through the injected lister when dpkg has no status file', () =>
    expectStatus({ rpmPackages: ['audit'] }, p('audit', 'installed'), 'pass'));
  test('rpm: absent', () =>
    expectStatus({ rpmPackages: ['audit'] }, p('ypserv', 'absent'), 'pass'));
  test('no package database is an error', () =>
    expectStatus({}, p('audit', 'installed'), 'error', /no package database/));
});

describe('service', () => {
  const spec: TreeSpec = {
    links: {
      '/etc/systemd/system/multi-user.target.wants/cron.service':
        '/lib/systemd/system/cron.service',
      '/etc/systemd/system/multi-user.target.wants/auditd.service':
        '/lib/systemd/system/auditd.service',
      '/etc/systemd/system/auditd.service': '/dev/null',
      '/etc/systemd/system/timers.target.wants/dnf-automatic.timer':
        '/usr/lib/systemd/system/dnf-automatic.timer',
    },
    activeUnits: ['cron.service'],
  };
  const svc = (unit: string, more: { enabled?: boolean; active?: boolean }): ComplianceProbe => ({
    kind: 'service',
    unit,
    ...more,
  });
  for (const [name, p, status, detail] of [
    [
      'enabled and active',
      svc('cron', { enabled: true, active: true }),
      'pass',
      /cron\.service is enabled and active/,
    ],
    ['a timer enabled', svc('dnf-automatic.timer', { enabled: true }), 'pass', undefined],
    ['masked is not enabled', svc('auditd.service', { enabled: true }), 'fail', /not enabled/],
    ['not active', svc('chrony.service', { active: true }), 'fail', /not active/],
    [
      'expected off and off',
      svc('telnet.socket', { enabled: false, active: false }),
      'pass',
      undefined,
    ],
  ] as const)
    test(name, () => expectStatus(spec, p, status, detail));
  test('without a way to ask systemd, active is an error', async () => {
    const { ctx } = buildTree(spec);
    const out = await createProbeRunner({ ...ctx, isActive: undefined })(
      svc('cron', { active: true }),
    );
    assert.equal(out.status, 'error');
  });
  test('a failing systemctl is an error with its reason', async () => {
    const { ctx } = buildTree(spec);
    const out = await createProbeRunner({
      ...ctx,
      isActive: () => Promise.reject(new Error('systemctl is not installed')),
    })(svc('cron', { active: true }));
    assert.deepEqual(out, { status: 'error', detail: 'systemctl is not installed' });
  });
});

describe('file_mode', () => {
  const spec: TreeSpec = {
    files: {
      '/etc/passwd': 'root:x:@UID@:@GID@::/root:/bin/sh\n',
      '/etc/group': 'wheel:x:@GID@:\n',
      '/etc/shadow': 'x\n',
      '/etc/crontab': 'x\n',
    },
    modes: { '/etc/shadow': '0600', '/etc/crontab': '0604' },
  };
  const m = (
    p: string,
    more: { max_mode?: string; owner?: string; group?: string; missing?: 'pass' | 'fail' },
  ): ComplianceProbe => ({ kind: 'file_mode', path: p, ...more });
  for (const [name, p, status, detail] of [
    [
      'stricter than the maximum',
      m('/etc/shadow', { max_mode: '0640', owner: 'root' }),
      'pass',
      /mode 0600, owner root/,
    ],
    [
      'a bit outside the maximum',
      m('/etc/crontab', { max_mode: '0600' }),
      'fail',
      /0604 is looser than 0600/,
    ],
    ['group by name', m('/etc/crontab', { group: 'wheel' }), 'pass', undefined],
    ['wrong owner', m('/etc/crontab', { owner: 'bin' }), 'fail', /owner is root, not bin/],
    ['missing: fail by default', m('/etc/gshadow', { max_mode: '0640' }), 'fail', /does not exist/],
    [
      'missing: as `missing` says',
      m('/etc/gshadow', { max_mode: '0640', missing: 'pass' }),
      'pass',
      undefined,
    ],
  ] as const)
    test(name, () => expectStatus(spec, p, status, detail));
  test('an id without a name shows as the number', () =>
    expectStatus(
      { files: { '/etc/x': '' } },
      m('/etc/x', { owner: 'root' }),
      'fail',
      new RegExp(`owner is ${process.getuid?.()}`),
    ));
});

describe('port', () => {
  const head =
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  const line = (port: number, st: string, remote = '00000000:0000') =>
    `   0: 0100007F:${port.toString(16).toUpperCase().padStart(4, '0')} ${remote} ${st} 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n`;
  const spec: TreeSpec = {
    files: {
      '/proc/net/tcp': head + line(22, '0A') + line(8080, '01'),
      '/proc/net/tcp6': head + line(443, '0A'),
      '/proc/net/udp': head + line(53, '07'),
    },
  };
  const p = (
    protocol: 'tcp' | 'udp',
    port: number,
    expect: 'listening' | 'closed',
  ): ComplianceProbe => ({ kind: 'port', protocol, port, expect });
  for (const [name, probe, status] of [
    ['tcp listening', p('tcp', 22, 'listening'), 'pass'],
    ['tcp6 listening', p('tcp', 443, 'listening'), 'pass'],
    ['an established socket is not listening', p('tcp', 8080, 'closed'), 'pass'],
    ['tcp closed expected, listening found', p('tcp', 22, 'closed'), 'fail'],
    ['udp bound', p('udp', 53, 'listening'), 'pass'],
    ['udp closed', p('udp', 123, 'listening'), 'fail'],
  ] as const)
    test(name, () => expectStatus(spec, probe, status));
  test('no table at all is an error', () => expectStatus({}, p('tcp', 22, 'closed'), 'error'));
  test('a table larger than one read is read to its end', () =>
    expectStatus(
      { files: { '/proc/net/tcp': head + line(1000, '01').repeat(2000) + line(23, '0A') } },
      p('tcp', 23, 'closed'),
      'fail',
    ));
  test('parseProcNetPorts reads hex ports and skips malformed lines', () => {
    assert.deepEqual(
      [...parseProcNetPorts(head + line(23, '0A') + 'garbage\n' + line(24, '06'), '0A')],
      [23],
    );
  });
});

describe('world_writable', () => {
  test('finds world-writable regular files, and not through symbolic links', async () => {
    const { ctx, root } = buildTree({
      files: { '/etc/a.conf': '', '/etc/deep/b/c.conf': '', '/outside/open': '' },
      modes: { '/etc/deep/b/c.conf': '0666', '/outside/open': '0666' },
    });
    symlinkSync(path.join(root, 'outside'), path.join(root, 'etc', 'link'));
    const run = createProbeRunner(ctx);
    const out = await run({ kind: 'world_writable', path: '/etc' });
    assert.equal(out.status, 'fail');
    assert.match(out.detail, /world-writable: \/etc\/deep\/b\/c\.conf$/);
    // Below the depth bound nothing is seen.
    assert.equal(
      (await run({ kind: 'world_writable', path: '/etc', max_depth: 2 })).status,
      'pass',
    );
  });
  test('a clean tree passes', () =>
    expectStatus(
      { files: { '/etc/a': '', '/etc/b/c': '' } },
      { kind: 'world_writable', path: '/etc' },
      'pass',
      /no world-writable file/,
    ));
  test('a tree larger than the bound is not passed', async () => {
    const { ctx, root } = buildTree({ files: { '/big/.keep': '' } });
    for (let i = 0; i <= MAX_WALK_ENTRIES; i += 1)
      writeFileSync(path.join(root, 'big', `f${i}`), '');
    const out = await createProbeRunner(ctx)({ kind: 'world_writable', path: '/big' });
    assert.equal(out.status, 'error');
    assert.match(out.detail, /not fully checked/);
  });
});

describe('security_updates', () => {
  for (const [name, n, max, status] of [
    ['none pending', 0, 0, 'pass'],
    ['within the allowance', 2, 3, 'pass'],
    ['too many', 4, 3, 'fail'],
    ['no inventory yet', 'no package inventory yet', 0, 'error'],
  ] as const)
    test(name, () =>
      expectStatus({ securityUpdates: n }, { kind: 'security_updates', max }, status),
    );
});

describe('any and all', () => {
  const { ctx } = fixtureTree('debian-hardened');
  const run = createProbeRunner(ctx);
  const ok: ComplianceProbe = { kind: 'sysctl', key: 'net.ipv4.ip_forward', op: 'eq', value: 0 };
  const bad: ComplianceProbe = { kind: 'sysctl', key: 'net.ipv4.ip_forward', op: 'eq', value: 1 };
  const broken: ComplianceProbe = { kind: 'sysctl', key: 'no.such.key', op: 'eq', value: 1 };
  const cases: [string, ComplianceProbe, string][] = [
    ['any: one pass is enough', { kind: 'any', probes: [bad, broken, ok] }, 'pass'],
    ['any: an error without a pass is an error', { kind: 'any', probes: [bad, broken] }, 'error'],
    ['any: all failing', { kind: 'any', probes: [bad, bad] }, 'fail'],
    ['all: one fail decides', { kind: 'all', probes: [ok, broken, bad] }, 'fail'],
    ['all: an error without a fail is an error', { kind: 'all', probes: [ok, broken] }, 'error'],
    [
      'all: every one passing',
      { kind: 'all', probes: [ok, { kind: 'any', probes: [bad, ok] }] },
      'pass',
    ],
  ];
  for (const [name, probe, status] of cases)
    test(name, async () => assert.equal((await run(probe)).status, status));
});
