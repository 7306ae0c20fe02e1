import { ParseError } from './parse.js';

/** One line of /proc/self/mounts. */
export interface MountEntry {
  device: string;
  mountpoint: string;
  fstype: string;
  opts: string[];
}

/** Undoes the octal escapes the kernel uses for space, tab, newline and backslash in mounts. */
function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses /proc/self/mounts (or /proc/mounts). */
export function parseMounts(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const f = line.split(' ');
    if (f.length < 4) throw new ParseError('mounts', `malformed line ${JSON.stringify(line)}`);
    out.push({
      device: unescapeMount(f[0]!),
      mountpoint: unescapeMount(f[1]!),
      fstype: f[2]!,
      opts: f[3]!.split(','),
    });
  }
  return out;
}

/**
 * File system types that hold no disk space of their own: kernel views, memory-backed and
 * container overlay plumbing. Their mounts are left out of `disks`, as the openITCOCKPIT agent
 * (through gopsutil's `Partitions(false)`) leaves out everything that is not a physical device.
 */
export const PSEUDO_FS = new Set([
  'autofs',
  'binfmt_misc',
  'bpf',
  'cgroup',
  'cgroup2',
  'configfs',
  'debugfs',
  'devpts',
  'devtmpfs',
  'efivarfs',
  'fusectl',
  'fuse.gvfsd-fuse',
  'fuse.lxcfs',
  'fuse.portal',
  'hugetlbfs',
  'mqueue',
  'nsfs',
  'overlay',
  'proc',
  'pstore',
  'ramfs',
  'rpc_pipefs',
  'securityfs',
  'selinuxfs',
  'squashfs',
  'sysfs',
  'tmpfs',
  'tracefs',
]);

/**
 * Mount sources that name no device, as the openITCOCKPIT agent skips them (it filters on the
 * source as well as on the type).
 */
export const PSEUDO_DEVICES = new Set([
  'sysfs',
  'proc',
  'udev',
  'devpts',
  'devfs',
  'tmpfs',
  'securityfs',
  'cgroup',
  'cgroup2',
  'pstore',
  'debugfs',
  'hugetlbfs',
  'systemd-1',
  'mqueue',
  'none',
  'sunrpc',
  'nfsd',
  'nsfs',
  'fusectl',
  'configfs',
  'overlay',
  'shm',
  'tracefs',
  'binfmt_misc',
]);

/**
 * The mounts worth reporting: real file systems, each mount point once (the last mount over a
 * path hides the earlier ones), bind mounts of the same device kept apart by mount point.
 */
export function diskMounts(entries: readonly MountEntry[]): MountEntry[] {
  const byPoint = new Map<string, MountEntry>();
  for (const e of entries) {
    if (PSEUDO_FS.has(e.fstype)) continue;
    if (PSEUDO_DEVICES.has(e.device) || e.device === '') continue;
    byPoint.set(e.mountpoint, e);
  }
  return [...byPoint.values()];
}
