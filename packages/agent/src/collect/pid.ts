import { ParseError, uint } from './parse.js';

/** The fields of /proc/<pid>/stat that the process list uses. */
export interface PidStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  utimeTicks: number;
  stimeTicks: number;
  nice: number;
  threads: number;
  startTicks: number;
  vsizeBytes: number;
  rssPages: number;
}

/**
 * Parses /proc/<pid>/stat. The command name is in parentheses and may itself contain spaces and
 * parentheses, so it ends at the last `)`.
 */
export function parsePidStat(text: string): PidStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open === -1 || close < open) throw new ParseError('pid/stat', 'no (comm)');
  const f = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // f[0] is field 3 (state); field n is f[n - 3].
  if (f.length < 22) throw new ParseError('pid/stat', 'fewer than 24 fields');
  const n = (field: number, name: string) => uint(f[field - 3], 'pid/stat', name);
  const nice = Number(f[19 - 3]);
  if (!Number.isInteger(nice)) throw new ParseError('pid/stat', 'nice is not a number');
  return {
    pid: uint(text.slice(0, open).trim(), 'pid/stat', 'pid'),
    comm: text.slice(open + 1, close),
    state: f[0]!,
    ppid: n(4, 'ppid'),
    utimeTicks: n(14, 'utime'),
    stimeTicks: n(15, 'stime'),
    nice,
    threads: n(20, 'num_threads'),
    startTicks: n(22, 'starttime'),
    vsizeBytes: n(23, 'vsize'),
    rssPages: Number(f[24 - 3]) || 0,
  };
}

/** The `Key:\tvalue` lines of /proc/<pid>/status. */
export function parsePidStatus(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return out;
}

/** A `kB` value of /proc/<pid>/status in bytes, or 0 when absent. */
export function statusBytes(status: Map<string, string>, key: string): number {
  const m = /^(\d+)\s*kB$/.exec(status.get(key) ?? '');
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * A process's memory in bytes, in the fields of the openITCOCKPIT agent's `Memory` object (gopsutil's
 * `MemoryInfoStat`: `rss`, `vms`, `hwm`, `data`, `stack`, `locked`, `swap`) plus `shared` and `text`.
 */
export interface PidMemory {
  /** Resident set (VmRSS). */
  rss: number;
  /** Virtual size (VmSize). */
  vms: number;
  /** Resident file and shared-memory pages (RssFile + RssShmem), as statm's `shared`. */
  shared: number;
  /** Program text (VmExe). */
  text: number;
  /** Data and stack segments (VmData + VmStk), as statm's `data`. */
  data: number;
  /** Peak resident set, the high-water mark (VmHWM). */
  hwm: number;
  /** Stack (VmStk). */
  stack: number;
  /** Locked in memory (VmLck). */
  locked: number;
  /** Swapped out (VmSwap). */
  swap: number;
}

/**
 * The memory figures of /proc/<pid>/status (its `Vm…` and `Rss…` lines, in kB). Keys that are
 * absent (kernel threads and zombies have none) or malformed count as 0; a line is read only when
 * its value is a whole number of kB.
 */
export function parsePidStatusMemory(text: string): PidMemory {
  const kb: Record<string, number> = {};
  // Only the block from `VmPeak` to the end of `VmSwap` is read: this runs for every process every
  // cycle, in an agent whose V8 runs without optimizing compilers, and the block is a third of the
  // text. Kernel threads have no such block.
  const from = text.indexOf('VmPeak:');
  if (from !== -1) {
    const swap = text.indexOf('VmSwap:', from);
    const to = swap === -1 ? text.length : text.indexOf('\n', swap) >>> 0;
    const re = /^(Vm[A-Za-z]+|Rss[A-Za-z]+):\s+(\d+) kB$/gm;
    const block = text.slice(from, to);
    for (let m = re.exec(block); m !== null; m = re.exec(block)) kb[m[1]!] = Number(m[2]) * 1024;
  }
  const v = (key: string) => kb[key] ?? 0;
  return {
    rss: v('VmRSS'),
    vms: v('VmSize'),
    shared: v('RssFile') + v('RssShmem'),
    text: v('VmExe'),
    data: v('VmData') + v('VmStk'),
    hwm: v('VmHWM'),
    stack: v('VmStk'),
    locked: v('VmLck'),
    swap: v('VmSwap'),
  };
}

/** /proc/<pid>/cmdline: NUL-separated arguments. */
export function parseCmdline(text: string): string[] {
  const args = text.split('\0');
  if (args.length > 0 && args[args.length - 1] === '') args.pop();
  return args;
}

/** /proc/<pid>/statm: sizes in pages. */
export interface Statm {
  sizePages: number;
  residentPages: number;
  sharedPages: number;
  textPages: number;
  dataPages: number;
}

/** Parses /proc/<pid>/statm (`size resident shared text lib data dt`). */
export function parseStatm(text: string): Statm {
  const f = text.trim().split(' ');
  if (f.length < 6) throw new ParseError('pid/statm', 'fewer than 6 fields');
  const n = (i: number, name: string) => uint(f[i], 'pid/statm', name);
  return {
    sizePages: n(0, 'size'),
    residentPages: n(1, 'resident'),
    sharedPages: n(2, 'shared'),
    textPages: n(3, 'text'),
    dataPages: n(5, 'data'),
  };
}
