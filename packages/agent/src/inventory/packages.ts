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
 * Scans the installed packages with whichever package manager the machine has (dpkg, then rpm,
 * then apk) and, when asked, the pending updates from the package manager's cached candidate
 * versions (it never refreshes the package lists: that needs root and network).
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
  try {
    const out = await host.exec(
      'rpm',
      ['-qa', '--qf', '%{NAME}\\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\\t%{SUMMARY}\\n'],
      { timeoutMs: 120_000 },
    );
    return {
      packageManager: 'rpm',
      packages: parseRpmQuery(out, limit),
      updates: [],
      lastError: null,
    };
  } catch {
    return {
      packageManager: 'none',
      packages: [],
      updates: [],
      lastError: 'no supported package manager found (dpkg, rpm, apk)',
    };
  }
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
