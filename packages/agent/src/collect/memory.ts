import type { Collector } from './collector.js';
import { parseMeminfo, parseVmstat } from './meminfo.js';
import { percent, round } from './parse.js';

/** The page size that /proc/vmstat's pswpin/pswpout count in. */
const PAGE_BYTES = 4096;

/** Memory figures in bytes from /proc/meminfo, as openITCOCKPIT's `memory` reports them. */
export function memoryFromMeminfo(m: Map<string, number>) {
  const g = (k: string) => m.get(k) ?? 0;
  const total = g('MemTotal');
  const free = g('MemFree');
  const cached = g('Cached') + g('SReclaimable');
  const buffers = g('Buffers');
  // Kernels before 3.14 lack MemAvailable; estimate it the way `free` did then.
  const available = m.has('MemAvailable') ? g('MemAvailable') : free + buffers + cached;
  let used = total - free - buffers - cached;
  if (used < 0) used = total - free;
  return {
    total,
    available,
    percent: round(percent(used, total)),
    used,
    free,
    active: g('Active'),
    inactive: g('Inactive'),
    buffers,
    cached,
    shared: g('Shmem'),
  };
}

/** Swap figures from /proc/meminfo and the swap-in/out page counters of /proc/vmstat. */
export function swapFromMeminfo(m: Map<string, number>, vmstat: Map<string, number>) {
  const total = m.get('SwapTotal') ?? 0;
  const free = m.get('SwapFree') ?? 0;
  const used = total - free;
  return {
    total,
    percent: round(percent(used, total)),
    used,
    free,
    sin: (vmstat.get('pswpin') ?? 0) * PAGE_BYTES,
    sout: (vmstat.get('pswpout') ?? 0) * PAGE_BYTES,
  };
}

/** `memory`. */
export const memory = (): Collector => ({
  key: 'memory',
  toggle: 'memory',
  async collect({ host }) {
    return memoryFromMeminfo(parseMeminfo(host.proc.read('meminfo')));
  },
});

/** `swap`. */
export const swap = (): Collector => ({
  key: 'swap',
  toggle: 'swap',
  async collect({ host }) {
    const m = parseMeminfo(host.proc.read('meminfo'));
    const vm = parseVmstat(host.proc.tryRead('vmstat') ?? '');
    return swapFromMeminfo(m, vm);
  },
});
