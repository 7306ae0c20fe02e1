import type { Collector } from './collector.js';
import { percent, round } from './numbers.js';
import { parseMeminfo } from './procfs/meminfo.js';
import { parseVmstat } from './procfs/vmstat.js';

/** The page size that /proc/vmstat's pswpin/pswpout count in. */
const PAGE_BYTES = 4096;

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

/** `swap`. */
export const swap = (): Collector<'swap'> => ({
  key: 'swap',
  toggle: 'swap',
  async collect({ host }) {
    const m = parseMeminfo(host.proc.read('meminfo'));
    const vm = parseVmstat(host.proc.tryRead('vmstat') ?? '');
    return swapFromMeminfo(m, vm);
  },
});
