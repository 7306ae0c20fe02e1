import type { Collector } from './collector.js';
import { round } from './numbers.js';
import { cpuShares, parseStat, type CpuTimes } from './procfs/stat.js';

/** The openITCOCKPIT CPU breakdown: five shares of user+nice+system+idle+iowait, adding up to 100. */
function details(prev: CpuTimes, cur: CpuTimes) {
  const keys = ['user', 'nice', 'system', 'idle', 'iowait'] as const;
  const d = keys.map((k) => Math.max(0, cur[k] - prev[k]));
  const sum = d.reduce((a, b) => a + b, 0);
  const share = (i: number) => (sum > 0 ? round((d[i]! / sum) * 100) : 0);
  return { User: share(0), Nice: share(1), System: share(2), Idle: share(3), Iowait: share(4) };
}

/**
 * `cpu`: busy percentage of the machine and of each core, and their breakdowns, from the change
 * of /proc/stat since the previous cycle. The first cycle, with nothing to compare against,
 * reports the shares since boot.
 */
export const cpu = (): Collector<'cpu'> => {
  let prev: ReturnType<typeof parseStat> | undefined;
  return {
    key: 'cpu',
    toggle: 'cpustats',
    async collect({ host }) {
      const cur = parseStat(host.proc.read('stat'));
      const zero: CpuTimes = {
        user: 0,
        nice: 0,
        system: 0,
        idle: 0,
        iowait: 0,
        irq: 0,
        softirq: 0,
        steal: 0,
        guest: 0,
        guestNice: 0,
      };
      // A changed core count (CPU hot-plug) makes per-core deltas meaningless: start over.
      const base = prev && prev.cores.length === cur.cores.length ? prev : undefined;
      prev = cur;
      const pTotal = base?.total ?? zero;
      const pCores = base?.cores ?? cur.cores.map(() => zero);
      return {
        cpu_total_percentage: round(cpuShares(pTotal, cur.total).busy),
        cpu_percentage: cur.cores.map((c, i) => round(cpuShares(pCores[i]!, c).busy)),
        cpu_total_percentage_detailed: details(pTotal, cur.total),
        cpu_percentage_detailed: cur.cores.map((c, i) => details(pCores[i]!, c)),
      };
    },
  };
};
