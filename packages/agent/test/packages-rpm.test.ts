import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { PackageInventory } from '@vigil/protocol';
import type { ExecFn } from '../src/host.js';
import { realHost } from '../src/host.js';
import {
  inventoryOf,
  parseDnfCheckUpdate,
  parseDnfSecurityList,
  rpmNameOfNevra,
  scanPackages,
} from '../src/inventory/packages.js';
import { FIXTURES } from './support.js';

const fixture = (name: string) => readFileSync(path.join(FIXTURES, 'rpm', name), 'utf8');

for (const [input, want] of [
  ['grub2-tools-efi-1:2.06-114.el9_7.alma.1.x86_64', 'grub2-tools-efi'],
  ['python3-libs-3.9.25-2.el9_7.x86_64', 'python3-libs'],
  ['ImageMagick7-libs-1:7.1.2.12-1.el9.remi.x86_64', 'ImageMagick7-libs'],
  ['libstdc++-11.5.0-11.el9.alma.1.x86_64', 'libstdc++'],
  ['vim-filesystem-2:8.2.2637-23.el9_7.noarch', 'vim-filesystem'],
  ['bash-5.1.8-9.el9', 'bash'],
  ['package-without-version.x86_64', undefined],
  ['bash', undefined],
  ['', undefined],
] as const)
  test(`rpmNameOfNevra: "${input}"`, () => assert.equal(rpmNameOfNevra(input), want));

test('parseDnfCheckUpdate: candidates with epochs, a wrapped long name, not the obsoleted', () => {
  const got = parseDnfCheckUpdate(fixture('dnf-check-update.txt'));
  assert.equal(got.length, 15);
  assert.deepEqual(got[0], { name: 'ImageMagick7-djvu', version: '1:7.1.2.12-1.el9.remi' });
  assert.deepEqual(
    got.find((c) => c.name === 'ca-certificates'),
    { name: 'ca-certificates', version: '2025.2.80_v9.0.305-91.el9' },
  );
  assert.deepEqual(got.at(-1), {
    name: 'xorg-x11-server-Xvfb-with-a-very-long-package-name',
    version: '1.20.11-32.el9_7',
  });
  assert.ok(!got.some((c) => c.name.startsWith('grub2')), 'obsoleting packages are not updates');
});

for (const [name, input] of [
  ['empty', ''],
  ['only notices', 'Last metadata expiration check: 0:00:01 ago on Thu 01 Jan 1970.\n\n'],
  [
    'installed security notice',
    'Security: kernel-3.10.0-1160.el7.x86_64 is an installed security update\n',
  ],
  ['no architecture', 'bash 5.1.8-9.el9 baseos\n'],
  ['version without release', 'bash.x86_64 5.1.8 baseos\n'],
  ['two columns', 'bash.x86_64 5.1.8-9.el9\n'],
  ['a wrapped name without its continuation', 'very-long-name.x86_64\nbash 1 2 3 4\n'],
  ['an error message', 'Error: Cache-only enabled but no cache for baseos\n'],
] as const)
  test(`parseDnfCheckUpdate skips ${name}`, () => assert.deepEqual(parseDnfCheckUpdate(input), []));

test('parseDnfSecurityList: names of packages with security advisories; other lines skipped', () => {
  assert.deepEqual([...parseDnfSecurityList(fixture('dnf-updateinfo-security.txt'))].sort(), [
    'libsoup',
    'openssl-libs',
    'python3-libs',
    'shadow-utils',
    'vim-minimal',
  ]);
  assert.deepEqual(
    [
      ...parseDnfSecurityList(
        'Last metadata expiration check: 0:01:00 ago.\nALBA-2025:1 bugfix bash-5.1.8-9.el9.x86_64\nALSA-2025:2 Moderate/Sec.\n',
      ),
    ],
    [],
  );
});

/** A root file system with the given programs in /usr/bin (empty files: only their presence counts). */
const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));
function rootWith(programs: string[]): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-rpm-'));
  roots.push(root);
  mkdirSync(path.join(root, 'usr', 'bin'), { recursive: true });
  mkdirSync(path.join(root, 'etc'));
  writeFileSync(
    path.join(root, 'etc', 'os-release'),
    'NAME="AlmaLinux"\nVERSION_ID="9.7"\nID="almalinux"\nID_LIKE="rhel centos fedora"\n',
  );
  for (const p of programs) writeFileSync(path.join(root, 'usr', 'bin', p), '');
  return root;
}

/**
 * The package tools as recorded in `fixtures/rpm/`: `rpm -qa` answers its file; check-update exits
 * with 100 and the listing, as dnf and yum do when updates are pending; other commands are missing.
 */
function recordedTools(overrides: Record<string, () => string> = {}): {
  exec: ExecFn;
  calls: string[];
} {
  const calls: string[] = [];
  const exec: ExecFn = async (file, args) => {
    const line = [file, ...args].join(' ');
    calls.push(line);
    const override = overrides[line];
    if (override) return override();
    if (file === 'rpm') return fixture('rpm-qa.txt');
    if (args.includes('check-update'))
      throw Object.assign(new Error(`Command failed: ${line}`), {
        code: 100,
        stdout: fixture('dnf-check-update.txt'),
      });
    if (args.includes('updateinfo')) return fixture('dnf-updateinfo-security.txt');
    throw Object.assign(new Error(`spawn ${file} ENOENT`), { code: 'ENOENT' });
  };
  return { exec, calls };
}

test('scanPackages on a dnf host: PackageManager dnf, updates from the cached metadata', async () => {
  const root = rootWith(['dnf', 'yum']);
  const tools = recordedTools();
  const host = realHost(
    { proc: path.join(FIXTURES, 'debian12-vm', 'proc'), rootfs: root },
    tools.exec,
  );
  const scan = await scanPackages(host, { limitDescriptionLength: 80, updateCheck: true });
  assert.deepEqual(tools.calls.slice(1), [
    'dnf -C --quiet check-update',
    'dnf -C --quiet updateinfo list --available security',
  ]);
  assert.equal(scan.packageManager, 'dnf');
  assert.equal(scan.lastError, null);
  assert.equal(scan.packages.length, 15);
  assert.equal(scan.updates.length, 15);
  assert.deepEqual(
    scan.updates.find((u) => u.Name === 'NetworkManager'),
    {
      Name: 'NetworkManager',
      CurrentVersion: '1:1.52.0-7.el9_6',
      AvailableVersion: '1:1.54.0-3.el9_7',
      IsSecurityUpdate: false,
      IsPatch: false,
    },
  );
  assert.deepEqual(
    scan.updates.find((u) => u.Name === 'avahi-glib'),
    {
      Name: 'avahi-glib',
      CurrentVersion: '0.8-22.el9_6.1',
      AvailableVersion: '0.8-23.el9',
      IsSecurityUpdate: false,
      IsPatch: false,
    },
  );
  assert.deepEqual(
    scan.updates.filter((u) => u.IsSecurityUpdate).map((u) => u.Name),
    ['openssl-libs', 'python3-libs', 'vim-minimal'],
  );
  // Not installed (in this listing): no current version.
  assert.equal(scan.updates.find((u) => u.Name.startsWith('xorg'))?.CurrentVersion, '');

  const inv = await inventoryOf(host, scan, Date.UTC(2026, 11, 3), '3.5.0');
  assert.deepEqual([...Value.Errors(PackageInventory, inv)].slice(0, 3), []);
  const stats = inv.Stats as Record<string, unknown>;
  assert.deepEqual(
    [stats.PackageManager, stats.OsName, stats.OsVersion, stats.OsFamily],
    ['dnf', 'almalinux', '9.7', 'rhel'],
  );
  assert.deepEqual(
    [stats.InstalledPackages, stats.UpgradablePackages, stats.SecurityUpdates],
    [15, 15, 3],
  );
  // The same keys as the openITCOCKPIT agent's answer on AlmaLinux 9.
  const reference = JSON.parse(
    readFileSync(path.join(FIXTURES, 'oitc-packages', 'almalinux9.json'), 'utf8'),
  ) as { Stats: object; LinuxUpdates: object[] };
  assert.deepEqual(Object.keys(stats).sort(), Object.keys(reference.Stats).sort());
  assert.deepEqual(
    Object.keys(inv.LinuxUpdates[0]!).sort(),
    Object.keys(reference.LinuxUpdates[0]!).sort(),
  );
});

test('scanPackages on a yum host: PackageManager yum and its own security list syntax', async () => {
  const tools = recordedTools();
  const host = realHost({ rootfs: rootWith(['yum']) }, tools.exec);
  const scan = await scanPackages(host, { limitDescriptionLength: 0, updateCheck: true });
  assert.equal(scan.packageManager, 'yum');
  assert.deepEqual(tools.calls.slice(1), [
    'yum -C --quiet check-update',
    'yum -C --quiet updateinfo list security',
  ]);
  assert.equal(scan.updates.length, 15);
  assert.equal(scan.packages[0]!.Description, '');
});

test('scanPackages: check-update exit 0 means no updates; exit 1 is the last error', async () => {
  const none = recordedTools({ 'dnf -C --quiet check-update': () => '' });
  const clean = await scanPackages(realHost({ rootfs: rootWith(['dnf']) }, none.exec), {
    limitDescriptionLength: 80,
    updateCheck: true,
  });
  assert.deepEqual([clean.packageManager, clean.updates, clean.lastError], ['dnf', [], null]);

  const failing = recordedTools({
    'dnf -C --quiet check-update': () => {
      throw Object.assign(
        new Error(
          'Command failed: dnf -C --quiet check-update\nError: Cache-only enabled but no cache for baseos',
        ),
        {
          code: 1,
          stdout: '',
        },
      );
    },
  });
  const broken = await scanPackages(realHost({ rootfs: rootWith(['dnf']) }, failing.exec), {
    limitDescriptionLength: 80,
    updateCheck: true,
  });
  assert.equal(broken.packageManager, 'dnf');
  assert.equal(broken.packages.length, 15);
  assert.deepEqual(broken.updates, []);
  assert.equal(
    broken.lastError,
    'dnf check-update failed: Command failed: dnf -C --quiet check-update',
  );
});

test('scanPackages: rpm without dnf or yum lists packages only; no update check when off', async () => {
  const tools = recordedTools();
  const rpmOnly = await scanPackages(realHost({ rootfs: rootWith([]) }, tools.exec), {
    limitDescriptionLength: 80,
    updateCheck: true,
  });
  assert.deepEqual([rpmOnly.packageManager, rpmOnly.updates.length], ['rpm', 0]);
  const off = recordedTools();
  const noCheck = await scanPackages(realHost({ rootfs: rootWith(['dnf']) }, off.exec), {
    limitDescriptionLength: 80,
    updateCheck: false,
  });
  assert.deepEqual(
    [noCheck.packageManager, noCheck.updates.length, off.calls.length],
    ['dnf', 0, 1],
  );
});
