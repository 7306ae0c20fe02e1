import { uptimeSeconds } from './agent.js';
import type { Collector } from './collector.js';
import { parseMeminfo } from './meminfo.js';
import { percent, round } from './parse.js';
import { parsePasswd } from './passwd.js';
import { parseCmdline, parsePidStat, parsePidStatus, statusBytes } from './pid.js';
import { parseStat } from './stat.js';

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
 * `ps`). Processes that end while being read are skipped. Without privileges, `num_fds` and
 * `exec` of other users' processes cannot be read: they are then 0 and argv[0].
 */
export const processes = (): Collector => {
  let prev = new Map<number, { ticks: number; start: number }>();
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
      const next = new Map<number, { ticks: number; start: number }>();
      const out = [];
      for (const entry of host.proc.list('.')) {
        if (!/^\d+$/.test(entry)) continue;
        const statText = host.proc.tryRead(`${entry}/stat`);
        const statusText = host.proc.tryRead(`${entry}/status`);
        if (statText === undefined || statusText === undefined) continue;
        let ps;
        try {
          ps = parsePidStat(statText);
        } catch {
          continue;
        }
        const status = parsePidStatus(statusText);
        const args = parseCmdline(host.proc.tryRead(`${entry}/cmdline`) ?? '');
        const ticks = ps.utimeTicks + ps.stimeTicks;
        next.set(ps.pid, { ticks, start: ps.startTicks });
        const before = prev.get(ps.pid);
        let cpuPercent: number;
        if (before && before.start === ps.startTicks && elapsed > 0)
          cpuPercent = ((ticks - before.ticks) / TICKS_PER_SECOND / elapsed) * 100;
        else {
          const alive = uptime - ps.startTicks / TICKS_PER_SECOND;
          cpuPercent = alive > 0 ? (ticks / TICKS_PER_SECOND / alive) * 100 : 0;
        }
        const uid = Number((status.get('Uid') ?? '').split(/\s+/)[0]);
        const rss = statusBytes(status, 'VmRSS');
        const kernelThread = args.length === 0;
        const exe = host.proc.link(`${entry}/exe`);
        out.push({
          pid: ps.pid,
          ppid: ps.ppid,
          username: users.get(uid) ?? (Number.isInteger(uid) ? String(uid) : ''),
          name: kernelThread ? ps.comm : (args[0]!.split('/').pop() ?? ps.comm) || ps.comm,
          cpu_percent: round(Math.max(0, cpuPercent)),
          memory_percent: round(percent(rss, memTotal)),
          cmdline: kernelThread ? `[${ps.comm}]` : args.join(' '),
          status: [STATE_NAMES[ps.state] ?? ''],
          exec: exe ?? (kernelThread ? '' : args[0]!),
          nice_level: ps.nice,
          num_fds: host.proc.list(`${entry}/fd`).length,
          Memory: {
            rss,
            vms: statusBytes(status, 'VmSize'),
            hwm: statusBytes(status, 'VmHWM'),
            data: statusBytes(status, 'VmData'),
            stack: statusBytes(status, 'VmStk'),
            locked: statusBytes(status, 'VmLck'),
            swap: statusBytes(status, 'VmSwap'),
          },
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
