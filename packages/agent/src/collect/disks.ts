import type { Collector } from './collector.js';
import { diskMounts, parseMounts } from './mounts.js';
import { percent, round } from './parse.js';

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
export const disks = (): Collector => ({
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
