import { ParseError, uint } from './parse.js';

/** One CPU line of /proc/stat, in USER_HZ ticks. */
export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
  guest: number;
  guestNice: number;
}

/** What /proc/stat says: the total, each core in order, boot time, process counts. */
export interface StatSample {
  total: CpuTimes;
  cores: CpuTimes[];
  bootTimeSeconds: number;
  processesRunning: number;
  processesBlocked: number;
}

const CPU_FIELDS = [
  'user',
  'nice',
  'system',
  'idle',
  'iowait',
  'irq',
  'softirq',
  'steal',
  'guest',
  'guestNice',
] as const;

/** Parses /proc/stat. Older kernels have fewer CPU columns; missing ones are 0. */
export function parseStat(text: string): StatSample {
  let total: CpuTimes | undefined;
  const cores: CpuTimes[] = [];
  let bootTimeSeconds = 0;
  let processesRunning = 0;
  let processesBlocked = 0;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const name = f[0];
    if (name === undefined || name === '') continue;
    if (name.startsWith('cpu')) {
      if (f.length < 5) throw new ParseError('stat', `${name}: fewer than 4 time columns`);
      const t = {} as CpuTimes;
      CPU_FIELDS.forEach((k, i) => {
        const raw = f[i + 1];
        t[k] = raw === undefined ? 0 : uint(raw, 'stat', `${name} ${k}`);
      });
      if (name === 'cpu') total = t;
      else cores[uint(name.slice(3), 'stat', 'cpu number')] = t;
    } else if (name === 'btime') bootTimeSeconds = uint(f[1], 'stat', 'btime');
    else if (name === 'procs_running') processesRunning = uint(f[1], 'stat', 'procs_running');
    else if (name === 'procs_blocked') processesBlocked = uint(f[1], 'stat', 'procs_blocked');
  }
  if (!total) throw new ParseError('stat', 'no "cpu" line');
  // Offline CPUs leave holes in the numbering; keep the order of the ones present.
  return {
    total,
    cores: cores.filter((c) => c !== undefined),
    bootTimeSeconds,
    processesRunning,
    processesBlocked,
  };
}

/**
 * The boot time (Unix seconds) of /proc/stat's `btime` line alone, or undefined when there is
 * none: for readers that must not fail when the rest of the file does not parse.
 */
export function parseBtime(text: string): number | undefined {
  const m = /^btime (\d+)$/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Total ticks of a CPU line. Guest time is already counted in user and nice, so it is left out. */
export function totalTicks(t: CpuTimes): number {
  return t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal;
}

/**
 * The share (0–100) of each kind of CPU time between two samples of one CPU line, and the busy
 * share (everything but idle and iowait). When the counters went backwards (a CPU went offline
 * and came back) or no time passed, every share is 0.
 */
export function cpuShares(
  prev: CpuTimes,
  cur: CpuTimes,
): { busy: number } & Record<keyof CpuTimes, number> {
  const dt = totalTicks(cur) - totalTicks(prev);
  const share = (k: keyof CpuTimes) => {
    const d = cur[k] - prev[k];
    return dt > 0 && d > 0 ? (d / dt) * 100 : 0;
  };
  const out = { busy: 0 } as { busy: number } & Record<keyof CpuTimes, number>;
  for (const k of CPU_FIELDS) out[k] = share(k);
  out.busy = dt > 0 ? Math.max(0, Math.min(100, 100 - out.idle - out.iowait)) : 0;
  return out;
}
