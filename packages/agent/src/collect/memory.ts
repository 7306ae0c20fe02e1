import type { Collector } from './collector.js';
import { percent, round } from './numbers.js';
import { parseMeminfo } from './procfs/meminfo.js';

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

/** `memory`. */
export const memory = (): Collector<'memory'> => ({
  key: 'memory',
  toggle: 'memory',
  async collect({ host }) {
    return memoryFromMeminfo(parseMeminfo(host.proc.read('meminfo')));
  },
});
