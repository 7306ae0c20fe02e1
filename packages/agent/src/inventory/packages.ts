import type { PackageInventory } from '@vigil/protocol';
import type { Host } from '../host.js';

/** One installed package, as the openITCOCKPIT agent lists it under `LinuxPackages`. */
export interface LinuxPackage {
  Name: string;
  Version: string;
  Description: string;
}

/** One pending update, as under `LinuxUpdates`. */
export interface LinuxUpdate {
  Name: string;
  CurrentVersion: string;
  AvailableVersion: string;
  IsSecurityUpdate: boolean;
  IsPatch: boolean;
}

/** Cuts a description to `limit` characters (-1: no limit, 0: none), as `limit-description-length`. */
export function limitDescription(text: string, limit: number): string {
  if (limit < 0) return text;
  return text.slice(0, limit);
}

/**
 * Parses dpkg's status file into the installed packages (status `install ok installed`, and held
 * ones), sorted by name. The description keeps its first line and the extended lines as dpkg
 * stores them (`\n` plus a leading space), then is cut to `limit` characters.
 */
export function parseDpkgStatus(text: string, limit: number): LinuxPackage[] {
  const out: LinuxPackage[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of stanza.split('\n')) {
      if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
        fields.set(last, `${fields.get(last)}\n${line}`);
        continue;
      }
      const i = line.indexOf(':');
      if (i <= 0) continue;
      last = line.slice(0, i);
      fields.set(last, line.slice(i + 1).trim());
    }
    const name = fields.get('Package');
    const status = fields.get('Status') ?? '';
    // Status is "want flag status"; only the status "installed" counts (not half-installed).
    if (!name || status.split(/\s+/)[2] !== 'installed') continue;
    out.push({
      Name: name,
      Version: fields.get('Version') ?? '',
      Description: limitDescription(fields.get('Description') ?? '', limit),
    });
  }
  return out.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
}

/**
 * Parses the `Inst` lines of `apt-get --simulate upgrade`:
 * `Inst name [current] (candidate origin [arch])`. An update whose origin names a security archive
 * (`…-security`, `…/updates` on old Debian) is a security update.
 */
export function parseAptSimulate(text: string): LinuxUpdate[] {
  const out: LinuxUpdate[] = [];
  for (const line of text.split('\n')) {
    const m = /^Inst (\S+) (?:\[([^\]]*)\] )?\((\S+) ([^)]*)\)/.exec(line);
    if (!m) continue;
    const origin = m[4]!;
    out.push({
      Name: m[1]!,
      CurrentVersion: m[2] ?? '',
      AvailableVersion: m[3]!,
      IsSecurityUpdate: /-security\b|\/updates\b|Security/i.test(origin),
      IsPatch: false,
    });
  }
  return out.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
}

/** Parses apk's installed database (`P:` name, `V:` version, `T:` description stanzas). */
export function parseApkInstalled(text: string, limit: number): LinuxPackage[] {
  const out: LinuxPackage[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const f = new Map<string, string>();
    for (const line of stanza.split('\n')) if (line[1] === ':') f.set(line[0]!, line.slice(2));
    if (f.has('P'))
      out.push({
        Name: f.get('P')!,
        Version: f.get('V') ?? '',
        Description: limitDescription(f.get('T') ?? '', limit),
      });
  }
  return out.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
}

/** Parses `rpm -qa --qf '%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\t%{SUMMARY}\n'`. */
export function parseRpmQuery(text: string, limit: number): LinuxPackage[] {
  const out: LinuxPackage[] = [];
  for (const line of text.split('\n')) {
    const [name, version, summary = ''] = line.split('\t');
    if (!name || !version) continue;
    out.push({
      Name: name,
      Version: version.startsWith('0:') ? version.slice(2) : version,
      Description: limitDescription(summary, limit),
    });
  }
  return out.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
}

/**
 * The package name of an RPM `name-[epoch:]version-release.arch` string (what `dnf updateinfo`
 * lists): the architecture, release and version are cut from the right, since names may contain
 * hyphens and digits (`python3-libs`, `ImageMagick7-libs`). Returns undefined when it has fewer
 * than three parts or the version does not start with a digit.
 */
export function rpmNameOfNevra(nevra: string): string | undefined {
  const dot = nevra.lastIndexOf('.');
  const noArch = dot > 0 ? nevra.slice(0, dot) : nevra;
  const release = noArch.lastIndexOf('-');
  const version = release > 0 ? noArch.lastIndexOf('-', release - 1) : -1;
  if (version <= 0 || !/^(\d+:)?\d/.test(noArch.slice(version + 1, release))) return undefined;
  return noArch.slice(0, version);
}

/** One line of `dnf check-update`: the package name without its architecture, and the candidate. */
export interface RpmCandidate {
  name: string;
  version: string;
}

/**
 * Parses `dnf check-update` / `yum check-update` (`name.arch  [epoch:]version-release  repo`).
 * A name too long for its column is printed alone, with the version and repository on the next
 * line. The list ends at `Obsoleting Packages`; notices (`Last metadata expiration check: …`,
 * `Security: kernel-… is an installed security update`) and other lines that are not three
 * columns with an architecture are skipped.
 */
export function parseDnfCheckUpdate(text: string): RpmCandidate[] {
  const out: RpmCandidate[] = [];
  let pending: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === 'Obsoleting Packages' || line === 'Obsoleting packages') break;
    let fields = line === '' ? [] : line.split(/\s+/);
    if (pending !== undefined && fields.length === 2 && /^\s/.test(raw))
      fields = [pending, ...fields];
    pending = undefined;
    if (fields.length === 1 && /^[^\s:]+\.[A-Za-z0-9_]+$/.test(fields[0]!)) {
      pending = fields[0];
      continue;
    }
    if (fields.length !== 3) continue;
    const [nameArch, version] = fields as [string, string, string];
    const dot = nameArch.lastIndexOf('.');
    if (dot <= 0 || !/^(\d+:)?[^-\s]*\d[^-\s]*-[^-\s]+$/.test(version)) continue;
    out.push({ name: nameArch.slice(0, dot), version });
  }
  return out;
}

/**
 * Parses `dnf updateinfo list --available security` (`ALSA-2025:20532 Moderate/Sec.  name-…`)
 * into the names of the packages that have a security advisory.
 */
export function parseDnfSecurityList(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length !== 3 || !/\/Sec\.$|^security$/i.test(fields[1]!)) continue;
    const name = rpmNameOfNevra(fields[2]!);
    if (name) out.add(name);
  }
  return out;
}

/**
 * The pending updates from `dnf check-update` output, the installed packages (for the current
 * versions) and the names with security advisories, sorted by name. A package with several
 * architectures installed appears once per architecture, as dnf lists it.
 */
export function rpmUpdates(
  candidates: readonly RpmCandidate[],
  installed: readonly LinuxPackage[],
  security: ReadonlySet<string>,
): LinuxUpdate[] {
  const current = new Map(installed.map((p) => [p.Name, p.Version]));
  return candidates
    .map((c) => ({
      Name: c.name,
      CurrentVersion: current.get(c.name) ?? '',
      AvailableVersion: c.version,
      IsSecurityUpdate: security.has(c.name),
      IsPatch: false,
    }))
    .sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
}

/**
 * Runs dnf or yum's `check-update` and security list against the cached metadata only (`-C`:
 * refreshing it needs the network and takes minutes; the system's own timer, dnf-makecache,
 * keeps it fresh). `check-update` exits with 100 when updates are pending, which is no failure.
 * Throws when check-update fails (no cache yet, a broken repository); a failing security list
 * only leaves the security flags off.
 */
async function rpmPendingUpdates(
  host: Host,
  manager: 'dnf' | 'yum',
  installed: readonly LinuxPackage[],
): Promise<LinuxUpdate[]> {
  const opts = { timeoutMs: 300_000 };
  let listing: string;
  try {
    listing = await host.exec(manager, ['-C', '--quiet', 'check-update'], opts);
  } catch (err) {
    const e = err as { code?: unknown; stdout?: unknown };
    if (e.code !== 100 || typeof e.stdout !== 'string') throw err;
    listing = e.stdout;
  }
  let security = new Set<string>();
  try {
    const args =
      manager === 'dnf'
        ? ['-C', '--quiet', 'updateinfo', 'list', '--available', 'security']
        : ['-C', '--quiet', 'updateinfo', 'list', 'security'];
    security = parseDnfSecurityList(await host.exec(manager, args, opts));
  } catch {
    // Repositories without advisories (Fedora's updates-testing, third parties) say nothing.
  }
  return rpmUpdates(parseDnfCheckUpdate(listing), installed, security);
}

/** /etc/os-release as a map. */
export function parseOsRelease(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2]!.replace(/^(["'])(.*)\1$/, '$2'));
  }
  return out;
}

/** The OS family the openITCOCKPIT agent reports: `debian`, `rhel`, `suse`, `alpine`, … */
export function osFamily(os: Map<string, string>): string {
  const like = `${os.get('ID') ?? ''} ${os.get('ID_LIKE') ?? ''}`.split(/\s+/);
  for (const family of ['debian', 'rhel', 'suse', 'arch', 'alpine'])
    if (like.includes(family)) return family;
  if (like.includes('fedora') || like.includes('centos')) return 'rhel';
  return os.get('ID') ?? 'linux';
}

/** What one scan found. */
export interface ScanResult {
  packageManager: string;
  packages: LinuxPackage[];
  updates: LinuxUpdate[];
  lastError: string | null;
}

/**
 * Scans the installed packages with whichever package manager the machine has (dpkg, then apk,
 * then rpm, with dnf or yum for updates) and, when asked, the pending updates from the package
 * manager's cached candidate versions (it never refreshes the package lists: that needs root and
 * network).
 */
export async function scanPackages(
  host: Host,
  opts: { limitDescriptionLength: number; updateCheck: boolean },
): Promise<ScanResult> {
  const limit = opts.limitDescriptionLength;
  const dpkg = host.rootfs.tryRead('var/lib/dpkg/status');
  if (dpkg !== undefined) {
    let updates: LinuxUpdate[] = [];
    let lastError: string | null = null;
    if (opts.updateCheck) {
      try {
        updates = parseAptSimulate(
          await host.exec('apt-get', ['--simulate', '-o', 'Debug::NoLocking=true', 'upgrade'], {
            timeoutMs: 120_000,
          }),
        );
      } catch (err) {
        lastError = `apt-get --simulate upgrade failed: ${(err as Error).message.split('\n')[0]}`;
      }
    }
    return { packageManager: 'apt', packages: parseDpkgStatus(dpkg, limit), updates, lastError };
  }
  const apk = host.rootfs.tryRead('lib/apk/db/installed');
  if (apk !== undefined)
    return {
      packageManager: 'apk',
      packages: parseApkInstalled(apk, limit),
      updates: [],
      lastError: null,
    };
  let packages: LinuxPackage[];
  try {
    const out = await host.exec(
      'rpm',
      ['-qa', '--qf', '%{NAME}\\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\\t%{SUMMARY}\\n'],
      { timeoutMs: 120_000 },
    );
    packages = parseRpmQuery(out, limit);
  } catch {
    return {
      packageManager: 'none',
      packages: [],
      updates: [],
      lastError: 'no supported package manager found (dpkg, rpm, apk)',
    };
  }
  // The installed list comes from rpm itself (fast, with summaries); dnf or yum, when present,
  // know the pending updates. As the openITCOCKPIT agent, report the manager that knows them.
  const manager = ['dnf', 'yum'].find((m) => host.rootfs.owner(`usr/bin/${m}`) !== undefined) as
    'dnf' | 'yum' | undefined;
  if (manager === undefined)
    return { packageManager: 'rpm', packages, updates: [], lastError: null };
  let updates: LinuxUpdate[] = [];
  let lastError: string | null = null;
  if (opts.updateCheck) {
    try {
      updates = await rpmPendingUpdates(host, manager, packages);
    } catch (err) {
      lastError = `${manager} check-update failed: ${(err as Error).message.split('\n')[0]}`;
    }
  }
  return { packageManager: manager, packages, updates, lastError };
}

/** The `GET /packages` answer before the first scan has finished. */
export function pendingInventory(enabled: boolean): PackageInventory {
  return {
    Enabled: enabled,
    Pending: enabled,
    LastUpdate: 0,
    Stats: null,
    LinuxPackages: [],
    LinuxUpdates: [],
    WindowsApps: [],
    WindowsUpdates: [],
    MacosApps: [],
    MacosUpdates: [],
  };
}

/** Assembles the `GET /packages` answer from a scan. */
export async function inventoryOf(
  host: Host,
  scan: ScanResult,
  atMs: number,
  agentVersion: string,
): Promise<PackageInventory> {
  const os = parseOsRelease(host.rootfs.tryRead('etc/os-release') ?? '');
  const uptime = Number((host.proc.tryRead('uptime') ?? '0').split(/\s+/)[0]) || 0;
  const reboot = host.rootfs.tryRead('run/reboot-required') !== undefined;
  return {
    Enabled: true,
    Pending: false,
    LastUpdate: Math.floor(atMs / 1000),
    Stats: {
      InstalledPackages: scan.packages.length,
      UpgradablePackages: scan.updates.length,
      SecurityUpdates: scan.updates.filter((u) => u.IsSecurityUpdate).length,
      RebootRequired: reboot,
      LastError: scan.lastError,
      OperatingSystem: 'linux',
      PackageManager: scan.packageManager,
      OsName: os.get('ID') ?? 'linux',
      OsVersion: os.get('VERSION_ID') ?? '',
      OsFamily: osFamily(os),
      AgentVersion: agentVersion,
      Uptime: Math.floor(uptime),
    },
    LinuxPackages: scan.packages,
    LinuxUpdates: scan.updates,
    WindowsApps: [],
    WindowsUpdates: [],
    MacosApps: [],
    MacosUpdates: [],
  };
}
