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
