import { RateTracker } from '../rates.js';
import type { Collected } from '@vigil/protocol';
import type { Collector } from './collector.js';
import { round } from './numbers.js';
import { parseDiskstats, type DiskStats } from './procfs/diskstats.js';

/** The unit of /proc/diskstats' sector counts, whatever the device's own sector size. */
const SECTOR_BYTES = 512;

/**
 * Whether a block device is worth reporting: not a loop, RAM or zram device, and not one that
 * never did any I/O.
 */
export function isReportedDisk(d: DiskStats): boolean {
  if (/^(loop|ram|zram|fd|sr)\d*/.test(d.name)) return false;
  return d.readsCompleted + d.writesCompleted > 0;
}

/**
 * `disk_io`: per block device, the cumulative counters and the rates since the previous cycle
 * (IOPS, bytes/s, average wait and size, busy percentage). A device's first cycle has zero rates.
 * `ReadBytes`/`WriteBytes` are bytes (sectors × 512).
 */
export const diskIo = (): Collector<'disk_io'> => {
  const deltas = new RateTracker();
  let prevMs: number | undefined;
  return {
    key: 'disk_io',
    toggle: 'diskio',
    async collect({ host, nowMs }) {
      const stats = parseDiskstats(host.proc.read('diskstats'));
      const seconds = prevMs === undefined ? 0 : (nowMs - prevMs) / 1000;
      prevMs = nowMs;
      const out: Collected<'disk_io'> = {};
      for (const d of stats) {
        if (!isReportedDisk(d)) continue;
        const delta = (field: string, v: number) => deltas.delta(`${d.name}/${field}`, v, nowMs);
        const dr = delta('r', d.readsCompleted);
        const dw = delta('w', d.writesCompleted);
        const drs = delta('rs', d.sectorsRead);
        const dws = delta('ws', d.sectorsWritten);
        const drt = delta('rt', d.readTimeMs);
        const dwt = delta('wt', d.writeTimeMs);
        const dio = delta('io', d.ioTimeMs);
        const fresh = dr === undefined || seconds <= 0;
        const per = (v: number | undefined) => (fresh || v === undefined ? 0 : round(v / seconds));
        const div = (a: number | undefined, b: number | undefined) =>
          fresh || !a || !b ? 0 : round(a / b);
        out[d.name] = {
          Timestamp: Math.floor(nowMs / 1000),
          Device: d.name,
          ReadBytes: d.sectorsRead * SECTOR_BYTES,
          WriteBytes: d.sectorsWritten * SECTOR_BYTES,
          ReadCount: d.readsCompleted,
          WriteCount: d.writesCompleted,
          ReadTime: d.readTimeMs,
          WriteTime: d.writeTimeMs,
          IoTime: d.ioTimeMs,
          ReadIopsPerSecond: per(dr),
          WriteIopsPerSecond: per(dw),
          TotalIopsPerSecond: per(fresh ? 0 : dr! + dw!),
          ReadBytesPerSecond: per(drs === undefined ? undefined : drs * SECTOR_BYTES),
          WriteBytesPerSecond: per(dws === undefined ? undefined : dws * SECTOR_BYTES),
          TotalAvgWait: div(fresh ? 0 : drt! + dwt!, fresh ? 0 : dr! + dw!),
          ReadAvgWait: div(drt, dr),
          WriteAvgWait: div(dwt, dw),
          ReadAvgSize: div(drs === undefined ? undefined : drs * SECTOR_BYTES, dr),
          WriteAvgSize: div(dws === undefined ? undefined : dws * SECTOR_BYTES, dw),
          LoadPercent: fresh ? 0 : round(Math.min(100, (dio! / (seconds * 1000)) * 100)),
        };
      }
      deltas.sweep();
      return out;
    },
  };
};
