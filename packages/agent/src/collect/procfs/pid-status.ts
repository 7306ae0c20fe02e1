/** The `Key:\tvalue` lines of /proc/<pid>/status. */
export function parsePidStatus(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return out;
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
