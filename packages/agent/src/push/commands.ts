import type { AgentCommand, CommandResult, ProcessDetail } from '@vigil/protocol';
import { parsePasswd } from '../collect/procfs/passwd.js';
import { parseCmdline } from '../collect/procfs/pid-cmdline.js';
import { parsePidStat } from '../collect/procfs/pid-stat.js';
import { parsePidStatus } from '../collect/procfs/pid-status.js';
import { parseBtime } from '../collect/procfs/stat.js';
import type { Host } from '../host.js';

const PAGE_BYTES = 4096;
const TICKS_PER_SECOND = 100;
/** Signals an operator may send; the server checks too, the agent does not rely on it. */
const ALLOWED = new Set([1, 2, 9, 15, 18, 19]);

/** Reads one process's detail from procfs (Tyto's shape); undefined when there is no such pid. */
export function processDetail(host: Host, pid: number, nowMs: number): ProcessDetail | undefined {
  const statText = host.proc.tryRead(`${pid}/stat`);
  if (statText === undefined) return undefined;
  const stat = parsePidStat(statText);
  const status = parsePidStatus(host.proc.tryRead(`${pid}/status`) ?? '');
  const uid = Number((status.get('Uid') ?? '').split(/\s+/)[0]);
  const users = parsePasswd(host.rootfs.tryRead('etc/passwd') ?? '');
  const btime = parseBtime(host.proc.tryRead('stat') ?? '');
  const bootMs = btime === undefined ? 0 : btime * 1000;
  const startMs = bootMs + (stat.startTicks / TICKS_PER_SECOND) * 1000;
  const aliveSeconds = Math.max((nowMs - startMs) / 1000, 0.001);
  const cpuSeconds = (stat.utimeTicks + stat.stimeTicks) / TICKS_PER_SECOND;
  const args = parseCmdline(host.proc.tryRead(`${pid}/cmdline`) ?? '');
  return {
    pid,
    name: stat.comm,
    cmdline: args.length > 0 ? args.join(' ') : `[${stat.comm}]`,
    user: Number.isInteger(uid) ? (users.get(uid) ?? String(uid)) : '',
    state: stat.state,
    cpu: Math.round((cpuSeconds / aliveSeconds) * 100 * 100) / 100,
    memory: stat.rssPages * PAGE_BYTES,
    threads: stat.threads,
    startTime: new Date(Math.round(startMs / 1000) * 1000).toISOString(),
    ppid: stat.ppid,
  };
}

/**
 * Carries out a command from the server on this machine. Signals to pid 1 and to the agent
 * itself are refused: the first would take the machine down, the second the channel.
 */
export function runCommand(host: Host, command: AgentCommand, nowMs = Date.now()): CommandResult {
  if (!Number.isInteger(command.pid) || command.pid < 1)
    return { ok: false, failure: 'bad_command', message: `invalid pid ${command.pid}` };
  if (command.kind === 'process.get') {
    const p = processDetail(host, command.pid, nowMs);
    return p
      ? { ok: true, process: p }
      : { ok: false, failure: 'no_such_process', message: `no process ${command.pid}` };
  }
  if (command.kind === 'process.signal') {
    if (!ALLOWED.has(command.signal))
      return {
        ok: false,
        failure: 'bad_command',
        message: `signal ${command.signal} is not allowed`,
      };
    if (command.pid === 1 || command.pid === process.pid)
      return {
        ok: false,
        failure: 'protected_process',
        message:
          command.pid === 1
            ? 'the agent does not signal pid 1'
            : 'the agent does not signal itself',
      };
    try {
      process.kill(command.pid, command.signal);
      return { ok: true };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ESRCH')
        return { ok: false, failure: 'no_such_process', message: `no process ${command.pid}` };
      if (code === 'EPERM')
        return {
          ok: false,
          failure: 'permission_denied',
          message: `the agent's user may not signal process ${command.pid}`,
        };
      return { ok: false, failure: 'bad_command', message: (err as Error).message };
    }
  }
  return {
    ok: false,
    failure: 'bad_command',
    message: `unknown command ${(command as { kind: string }).kind}`,
  };
}
