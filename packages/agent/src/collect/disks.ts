import type { Collector } from './collector.js';
import { diskMounts, parseMounts } from './mounts.js';
import { percent, round } from './parse.js';

/**
 * `disks`: every real mounted file system with its usage. A mount whose usage cannot be read
 * (permissions, a hung network mount) is still listed, with zero usage, as openITCOCKPIT does.
 */
export const disks = (): Collector => ({
  key: 'disks',
  toggle: 'diskstats',
  async collect({ host }) {
    const text = host.proc.tryRead('self/mounts') ?? host.proc.read('mounts');
    const out = [];
    for (const m of diskMounts(parseMounts(text))) {
      let usage = { total: 0, used: 0, free: 0, percent: 0 };
      try {
        const u = await host.usage(m.mountpoint);
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
