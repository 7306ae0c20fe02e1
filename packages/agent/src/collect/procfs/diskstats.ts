import { ParseError, uint } from './parse.js';

/** One line of /proc/diskstats (sectors are 512 bytes, times in milliseconds). */
export interface DiskStats {
  major: number;
  minor: number;
  name: string;
  readsCompleted: number;
  readsMerged: number;
  sectorsRead: number;
  readTimeMs: number;
  writesCompleted: number;
  writesMerged: number;
  sectorsWritten: number;
  writeTimeMs: number;
  ioInProgress: number;
  ioTimeMs: number;
  weightedIoTimeMs: number;
}

/** Parses /proc/diskstats (14 or more columns per line; kernels ≥ 4.18 add discard columns). */
export function parseDiskstats(text: string): DiskStats[] {
  const out: DiskStats[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const f = line.trim().split(/\s+/);
    if (f.length < 14)
      throw new ParseError('diskstats', `fewer than 14 columns: ${JSON.stringify(line)}`);
    const n = (i: number, field: string) => uint(f[i], 'diskstats', `${f[2]} ${field}`);
    out.push({
      major: n(0, 'major'),
      minor: n(1, 'minor'),
      name: f[2]!,
      readsCompleted: n(3, 'reads'),
      readsMerged: n(4, 'reads merged'),
      sectorsRead: n(5, 'sectors read'),
      readTimeMs: n(6, 'read time'),
      writesCompleted: n(7, 'writes'),
      writesMerged: n(8, 'writes merged'),
      sectorsWritten: n(9, 'sectors written'),
      writeTimeMs: n(10, 'write time'),
      ioInProgress: n(11, 'in progress'),
      ioTimeMs: n(12, 'io time'),
      weightedIoTimeMs: n(13, 'weighted io time'),
    });
  }
  return out;
}
