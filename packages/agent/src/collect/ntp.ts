import type { ExecFn } from '../host.js';
import type { UndescribedCollector } from './collector.js';

/** What one time daemon says about the clock. */
export interface NtpState {
  /** Whether the clock is synchronised to a time source. */
  synced: boolean;
  /** How far the local clock is behind its time source, in seconds (negative: ahead). */
  offsetSeconds: number;
  /** The stratum of this machine's clock (its source's plus one), or null when not reported. */
  stratum: number | null;
}

/** The daemons the collector asks, in order, and how they are named in `Source`. */
export type NtpSource = 'chrony' | 'timesyncd' | 'ntpd';

/**
 * Parses `chronyc -c tracking` (one CSV line: reference ID, reference name, stratum, reference
 * time, system time correction, last offset, RMS offset, frequency, residual frequency, skew, root
 * delay, root dispersion, update interval, leap status). The system time correction is positive
 * when the local clock is slow, as chronyc's human form says (`… seconds slow of NTP time`).
 * chronyd reports stratum 0 and leap status `Not synchronised` before it has a source. Throws on
 * anything else.
 */
export function parseChronyTracking(text: string): NtpState {
  const f = text.trim().split(',');
  if (f.length < 14) throw new Error('chronyc tracking: fewer than 14 fields');
  const stratum = Number(f[2]);
  const correction = Number(f[4]);
  if (!Number.isInteger(stratum) || !Number.isFinite(correction) || f[4]!.trim() === '')
    throw new Error('chronyc tracking: stratum or system time is not a number');
  const leap = f[13]!.trim();
  return {
    synced: leap !== 'Not synchronised' && stratum > 0 && stratum < 16,
    offsetSeconds: correction,
    stratum,
  };
}

/** `key=value` lines (`timedatectl show`, `timedatectl show-timesync`) as a map. */
export function parseKeyValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return out;
}

/** Powers of ten of the sub-minute units (shifting the decimal text keeps `-1.166ms` exact). */
const DURATION_EXPONENTS: Record<string, number> = { ns: -9, us: -6, µs: -6, ms: -3, s: 0 };

/** A systemd time span as timedatectl prints it (`-166us`, `+1.5ms`, `2s`), in seconds. */
export function parseSystemdSpan(text: string): number | undefined {
  const m = /^([+-]?\d+(?:\.\d+)?)(ns|us|µs|ms|s|min)$/.exec(text.trim());
  if (!m) return undefined;
  return m[2] === 'min' ? Number(m[1]) * 60 : Number(`${m[1]}e${DURATION_EXPONENTS[m[2]!]}`);
}

/**
 * The state of systemd-timesyncd from `timedatectl show` (`NTPSynchronized=yes|no`: the kernel's
 * own synchronisation flag, which timesyncd sets) and `timedatectl show-timesync` (its last NTP
 * answer: `NTPMessage={ Leap=0, …, Stratum=2, … }`). The offset comes from the `Offset:` line of
 * `timedatectl timesync-status`, the only place timesyncd reports it; it is 0 when that is missing.
 * Throws when `timedatectl show` has no `NTPSynchronized` (an old or foreign timedatectl).
 */
export function parseTimesyncd(show: string, showTimesync: string, status: string): NtpState {
  const sync = parseKeyValues(show).get('NTPSynchronized');
  if (sync !== 'yes' && sync !== 'no') throw new Error('timedatectl show: no NTPSynchronized');
  const message = parseKeyValues(showTimesync).get('NTPMessage') ?? '';
  const stratum = /\bStratum=(\d+)/.exec(message);
  const offset = /^\s*Offset:\s*(\S+)\s*$/m.exec(status);
  return {
    synced: sync === 'yes',
    offsetSeconds: (offset && parseSystemdSpan(offset[1]!)) ?? 0,
    stratum: stratum ? Number(stratum[1]) : null,
  };
}

/**
 * Parses `ntpq -c rv`: comma-separated `name=value` variables over several lines, led by the
 * system status word (`associd=0 status=0615 leap_none, sync_ntp, 1 event, clock_sync,`). The
 * clock is synchronised when the status names a sync source other than `sync_unspec` and the leap
 * indicator is not `leap_alarm`. ntpd's `offset` is in milliseconds. Throws when there is no
 * status word or no numeric offset.
 */
export function parseNtpqRv(text: string): NtpState {
  if (!/\bstatus=[0-9a-f]{4}\b/i.test(text)) throw new Error('ntpq rv: no status word');
  const vars = new Map<string, string>();
  for (const part of text.split(/[,\n]/)) {
    const m = /^\s*([a-z_]+)=(.*?)\s*$/.exec(part);
    if (m) vars.set(m[1]!, m[2]!);
  }
  const offsetMs = vars.get('offset') ?? '';
  if (!/^[+-]?\d+(\.\d+)?$/.test(offsetMs)) throw new Error('ntpq rv: offset is not a number');
  const stratum = Number(vars.get('stratum'));
  const synced = /\bsync_(?!unspec)[a-z_]+/.test(text) && !/\bleap_alarm\b/.test(text);
  return {
    synced: synced && stratum < 16,
    offsetSeconds: Number(`${offsetMs}e-3`),
    stratum: Number.isInteger(stratum) ? stratum : null,
  };
}

/** How long an answer is kept: time daemons change slowly, and asking them costs a process. */
export const NTP_REFRESH_MS = 5 * 60_000;

const ASK_TIMEOUT_MS = 5_000;

/**
 * Asks the time daemons in turn (chrony, then systemd-timesyncd, then ntpd) and returns the first
 * answer; undefined when none is installed or running.
 */
export async function askTimeDaemons(
  exec: ExecFn,
): Promise<{ source: NtpSource; state: NtpState } | undefined> {
  const run = (file: string, args: string[]) => exec(file, args, { timeoutMs: ASK_TIMEOUT_MS });
  const attempts: [NtpSource, () => Promise<NtpState>][] = [
    ['chrony', async () => parseChronyTracking(await run('chronyc', ['-c', 'tracking']))],
    [
      'timesyncd',
      async () => {
        const show = await run('timedatectl', ['show']);
        // timedated answers for any daemon; only timesyncd answers show-timesync.
        const timesync = await run('timedatectl', ['show-timesync']);
        const status = await run('timedatectl', ['timesync-status']).catch(() => '');
        return parseTimesyncd(show, timesync, status);
      },
    ],
    ['ntpd', async () => parseNtpqRv(await run('ntpq', ['-c', 'rv']))],
  ];
  for (const [source, attempt] of attempts) {
    try {
      return { source, state: await attempt() };
    } catch {
      // Not installed, not running or not understood: ask the next one.
    }
  }
  return undefined;
}

/**
 * `ntp`: whether the clock is synchronised and its offset, in the openITCOCKPIT agent's fields
 * (`Timestamp`, `TimestampMicro`, `SyncStatus`, `Offset` in seconds), plus Vigil's `Stratum` and
 * `Source` (the daemon asked). The openITCOCKPIT agent reads the kernel's adjtimex state, which
 * Node cannot; the daemons' own tools say the same and more. The first cycle waits for the
 * daemons' answer; after that they are asked in the background at most every `refreshMs`, so that
 * a slow daemon never holds a cycle up, and each cycle reports the latest answer with its own
 * timestamps. The key is left out when no daemon answers.
 */
export const ntp = (refreshMs: number = NTP_REFRESH_MS): UndescribedCollector => {
  let answer: Awaited<ReturnType<typeof askTimeDaemons>>;
  let askedAtMs: number | undefined;
  let asking: Promise<void> | undefined;
  const ask = (exec: ExecFn, nowMs: number): Promise<void> => {
    askedAtMs = nowMs;
    asking = askTimeDaemons(exec)
      .then((a) => void (answer = a))
      .finally(() => (asking = undefined));
    return asking;
  };
  return {
    key: 'ntp',
    toggle: 'ntp',
    async collect({ host, nowMs }) {
      if (askedAtMs === undefined) await ask(host.exec, nowMs);
      else if (asking === undefined && (nowMs - askedAtMs >= refreshMs || nowMs < askedAtMs))
        void ask(host.exec, nowMs);
      if (answer === undefined) return undefined;
      return {
        Timestamp: Math.floor(nowMs / 1000),
        TimestampMicro: Math.floor(nowMs * 1000),
        SyncStatus: answer.state.synced,
        Offset: answer.state.offsetSeconds,
        Stratum: answer.state.stratum,
        Source: answer.source,
      };
    },
  };
};
