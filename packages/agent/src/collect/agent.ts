import os from 'node:os';
import { parseOsRelease, osFamily } from '../inventory/packages.js';
import { AGENT_VERSION } from '../version.js';
import type { Host } from '../host.js';
import type { Collector } from './collector.js';
import { parseBtime } from './procfs/stat.js';
import { parseUptime } from './procfs/uptime.js';

/** Node's architecture names as Go's GOARCH spells them (openITCOCKPIT reports `goarch`). */
const GOARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
};

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/**
 * A time as Go's `time.Time.String()` prints it in the local zone, which is the format of
 * openITCOCKPIT's `last_updated`: `2006-01-02 15:04:05.999 -0700 MST` (fractional seconds without
 * trailing zeros). The zone abbreviation is `UTC` at offset zero and otherwise the numeric offset,
 * as Go prints it for zones without an abbreviation: naming zones would need ICU's time zone
 * data, which costs the agent about 8 MB of memory.
 */
export function goTimeString(d: Date): string {
  const offsetMin = -d.getTimezoneOffset();
  const sign = offsetMin >= 0 ? '+' : '-';
  const abs = Math.abs(offsetMin);
  const offset = `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
  const ms = d.getMilliseconds();
  const frac = ms === 0 ? '' : `.${pad(ms, 3)}`.replace(/0+$/, '');
  const zone = offsetMin === 0 ? 'UTC' : offset;
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${frac} ${offset} ${zone}`
  );
}

/**
 * Seconds since boot: /proc/uptime, else the boot time in /proc/stat (some container runtimes
 * hide /proc/uptime), else 0.
 */
export function uptimeSeconds(host: Host, nowMs: number): number {
  const uptime = host.proc.tryRead('uptime');
  const up = uptime === undefined ? NaN : parseUptime(uptime);
  if (Number.isFinite(up) && up > 0) return up;
  const btime = parseBtime(host.proc.tryRead('stat') ?? '');
  return btime === undefined ? 0 : Math.max(0, nowMs / 1000 - btime);
}

/**
 * The distribution's version as the openITCOCKPIT agent reports it in `mac_version` (gopsutil's
 * platform version): Debian's full point release from /etc/debian_version (`12.11`, where
 * os-release only says `12`), the release of /etc/redhat-release on Red Hat-like systems
 * (`7.9.2009`), otherwise os-release's `VERSION_ID`. Ubuntu's /etc/debian_version names the Debian
 * release it branched from (`trixie/sid`), so it is used only on Debian and Raspbian.
 */
export function platformVersion(
  release: Map<string, string>,
  debianVersion: string | undefined,
  redhatRelease: string | undefined,
): string {
  const id = release.get('ID') ?? '';
  const debian = debianVersion?.trim();
  if ((id === 'debian' || id === 'raspbian') && debian && /^\d/.test(debian)) return debian;
  const redhat = / release (\d[^\s(]*)/.exec(redhatRelease ?? '');
  if (redhat) return redhat[1]!;
  return release.get('VERSION_ID') ?? '';
}

/** `agent`: who is reporting — OS, kernel, uptime, agent version, interval. */
export const agent = (): Collector<'agent'> => ({
  key: 'agent',
  async collect({ host, nowMs, intervalSeconds }) {
    const release = parseOsRelease(host.rootfs.tryRead('etc/os-release') ?? '');
    const uptime = uptimeSeconds(host, nowMs);
    const kernel = host.proc.tryRead('sys/kernel/osrelease')?.trim() ?? os.release();
    return {
      last_updated: goTimeString(new Date(nowMs)),
      last_updated_timestamp: Math.floor(nowMs / 1000),
      system: release.get('ID') ?? 'linux',
      system_uptime: Number.isFinite(uptime) ? Math.floor(uptime) : 0,
      kernel_version: kernel,
      mac_version: platformVersion(
        release,
        host.rootfs.tryRead('etc/debian_version'),
        host.rootfs.tryRead('etc/redhat-release'),
      ),
      family: osFamily(release),
      agent_version: AGENT_VERSION,
      temperature_unit: 'C',
      goos: process.platform,
      goarch: GOARCH[process.arch] ?? process.arch,
      check_interval: intervalSeconds,
      hostname: os.hostname(),
      node_version: process.version,
    };
  },
});
