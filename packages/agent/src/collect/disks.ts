import type { Collector } from './collector.js';
import { percent, round } from './numbers.js';
import { parseMounts, type MountEntry } from './procfs/mounts.js';

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

/** How long one mount's statfs may take: a hung network mount must not stall the cycle. */
const USAGE_TIMEOUT_MS = 3000;

/** `p`, or a rejection after `ms`. */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * `disks`: every real mounted file system with its usage. A mount whose usage cannot be read
 * (permissions, a network mount that does not answer within `USAGE_TIMEOUT_MS`) is still listed,
 * with zero usage, as openITCOCKPIT does.
 */
export const disks = (): Collector<'disks'> => ({
  key: 'disks',
  toggle: 'diskstats',
  async collect({ host }) {
    const text = host.proc.tryRead('self/mounts') ?? host.proc.read('mounts');
    const out = [];
    for (const m of diskMounts(parseMounts(text))) {
      let usage = { total: 0, used: 0, free: 0, percent: 0 };
      try {
        const u = await withTimeout(host.usage(m.mountpoint), USAGE_TIMEOUT_MS);
        const used = u.total - u.free;
        usage = {
          total: u.total,
          used,
          free: u.available,
          percent: round(percent(used, used + u.available)),
        };
      } catch {
        // Listed with zero usage.
      }
      out.push({
        disk: { device: m.device, mountpoint: m.mountpoint, fstype: m.fstype, opts: m.opts },
        usage,
      });
    }
    return out;
  },
});
