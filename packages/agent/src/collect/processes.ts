import { uptimeSeconds } from './agent.js';
import type { Collector } from './collector.js';
import { percent, round } from './numbers.js';
import { parseMeminfo } from './procfs/meminfo.js';
import { parsePasswd } from './procfs/passwd.js';
import { parseCmdline } from './procfs/pid-cmdline.js';
import { parsePidStat } from './procfs/pid-stat.js';
import { parsePidStatusMemory } from './procfs/pid-status.js';
import { parseStat } from './procfs/stat.js';

/** Clock ticks per second of /proc times (USER_HZ); 100 on every Linux architecture Node runs on. */
const TICKS_PER_SECOND = 100;

/** Process states as openITCOCKPIT names them (gopsutil's names for the /proc state letter). */
const STATE_NAMES: Record<string, string> = {
  R: 'Running',
  S: 'Sleep',
  D: 'Wait',
  T: 'Stop',
  t: 'Stop',
  I: 'Idle',
  Z: 'Zombie',
  X: 'Zombie',
  W: 'Wait',
  L: 'Lock',
};

/**
 * `processes`: every process in /proc with owner, CPU share, memory, command line, state, nice
 * level, open descriptors and start time. `cpu_percent` is the share of one CPU since the previous
 * cycle (like `top`); a process seen for the first time gets its average since it started (like
 * `ps`). Processes that end while being read are skipped. Per process it reads `stat` and
 * `status` every cycle (and `cmdline` and `exe` once per process): `status` rather than `statm`,
 * because only `status` has the peak resident set, stack, locked and swapped memory, and it holds
 * every figure `statm` has, so the number of reads stays the same. The owner comes from the
 * directory itself. Without privileges, `num_fds` and `exec` of other users' processes cannot be
 * read: they are then 0 and argv[0].
 */
export const processes = (): Collector<'processes'> => {
  let prev = new Map<
    number,
    { ticks: number; start: number; cmdline: string[]; exe: string | undefined }
  >();
  let prevMs: number | undefined;
  return {
    key: 'processes',
    toggle: 'processstats',
    async collect({ host, nowMs }) {
      const stat = parseStat(host.proc.read('stat'));
      const memTotal = parseMeminfo(host.proc.read('meminfo')).get('MemTotal') ?? 0;
      const uptime = uptimeSeconds(host, nowMs);
      const users = parsePasswd(host.rootfs.tryRead('etc/passwd') ?? '');
      const elapsed = prevMs === undefined ? 0 : (nowMs - prevMs) / 1000;
      const next = new Map<
        number,
        { ticks: number; start: number; cmdline: string[]; exe: string | undefined }
      >();
      const out = [];
      for (const entry of host.proc.list('.')) {
        if (!/^\d+$/.test(entry)) continue;
        const statText = host.proc.tryRead(`${entry}/stat`);
        const statusText = host.proc.tryRead(`${entry}/status`);
        const uid = host.proc.owner(entry);
        if (statText === undefined || statusText === undefined || uid === undefined) continue;
        let ps;
        try {
          ps = parsePidStat(statText);
        } catch {
          continue;
        }
        const memory = parsePidStatusMemory(statusText);
        const before = prev.get(ps.pid);
        // A process keeps its command line and executable for life (same pid and start time):
        // read them once, not every cycle.
        const same = before !== undefined && before.start === ps.startTicks;
        const args = same
          ? before.cmdline
          : parseCmdline(host.proc.tryRead(`${entry}/cmdline`) ?? '');
        const exe = same ? before.exe : host.proc.link(`${entry}/exe`);
        const ticks = ps.utimeTicks + ps.stimeTicks;
        next.set(ps.pid, { ticks, start: ps.startTicks, cmdline: args, exe });
        let cpuPercent: number;
        if (same && elapsed > 0)
          cpuPercent = ((ticks - before.ticks) / TICKS_PER_SECOND / elapsed) * 100;
        else {
          const alive = uptime - ps.startTicks / TICKS_PER_SECOND;
          cpuPercent = alive > 0 ? (ticks / TICKS_PER_SECOND / alive) * 100 : 0;
        }
        const rss = memory.rss;
        const kernelThread = args.length === 0;
        out.push({
          pid: ps.pid,
          ppid: ps.ppid,
          username: users.get(uid) ?? String(uid),
          name: kernelThread ? ps.comm : (args[0]!.split('/').pop() ?? ps.comm) || ps.comm,
          cpu_percent: round(Math.max(0, cpuPercent)),
          memory_percent: round(percent(rss, memTotal)),
          cmdline: kernelThread ? `[${ps.comm}]` : args.join(' '),
          status: [STATE_NAMES[ps.state] ?? ''],
          exec: exe ?? (kernelThread ? '' : args[0]!),
          nice_level: ps.nice,
          num_fds: host.proc.list(`${entry}/fd`).length,
          Memory: memory,
          CreateTime: Math.round((stat.bootTimeSeconds + ps.startTicks / TICKS_PER_SECOND) * 1000),
          threads: ps.threads,
        });
      }
      prev = next;
      prevMs = nowMs;
      return out;
    },
  };
};
