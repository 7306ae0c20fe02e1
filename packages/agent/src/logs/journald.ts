import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { isRecord } from '@vigil/protocol/guards';
import { levelOfPriority } from '@vigil/protocol/log-levels';
import type { LogLine, LogSink, LogSourceReader } from './model.js';
import { cutMessage } from './multiline.js';
import { positionFile } from './positions.js';

/** How the journal source runs `journalctl`. */
export interface JournalSourceOptions {
  /** The folder the journal cursor is kept in (`journal.json`). */
  stateDir: string;
  /** The `journalctl` program (default `journalctl`, found on PATH). */
  journalctl?: string;
  /** Arguments put before the source's own (`--namespace=x`, `--directory=/path`, `-u nginx`). */
  args?: string[];
  /** Most entries in one sink call (default 1,000). */
  batchMax?: number;
  /** First wait before `journalctl` is started again after it exited, in ms (default 1,000). */
  restartMs?: number;
  /** The agent's own log. */
  log?: (msg: string) => void;
}

/** The journal fields a line carries, when present. */
const FIELDS = [
  '_PID',
  '_COMM',
  '_HOSTNAME',
  'SYSLOG_IDENTIFIER',
  '_SYSTEMD_UNIT',
  'CONTAINER_NAME',
] as const;
/** Entries held in memory before `journalctl` is made to wait (its pipe fills up). */
const QUEUE_MAX = 10_000;

/**
 * A journal field's value as `journalctl --output=json` prints it: a string; an array of bytes
 * for a value that is not valid text (decoded as UTF-8, bad sequences replaced); null for a
 * value over 4 KiB printed without `--all`; an array of those for a field set more than once
 * (the first is taken).
 */
export function journalValue(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    if (v.length > 0 && v.every((b) => Number.isInteger(b) && b >= 0 && b <= 255))
      return Buffer.from(v as number[]).toString('utf8');
    return v.length > 0 ? journalValue(v[0]) : '';
  }
  return undefined;
}

/** One journal entry as a log line, with its cursor. */
export interface JournalEntry {
  line: LogLine;
  /** The entry's `__CURSOR`: where reading resumes after it. */
  cursor: string;
}

/**
 * Turns one line of `journalctl --output=json` into a log line: MESSAGE (cut at the protocol's
 * limit), PRIORITY by its syslog severity (info without one), `__REALTIME_TIMESTAMP`
 * (microseconds) as milliseconds, the unit (else the syslog identifier, else the command) as the
 * source name. Returns undefined for text that is not a journal entry with a cursor.
 */
export function parseJournalLine(text: string, now = Date.now()): JournalEntry | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(json) || typeof json.__CURSOR !== 'string') return undefined;
  const priority = Number(journalValue(json.PRIORITY));
  const micros = Number(journalValue(json.__REALTIME_TIMESTAMP));
  const fields: Record<string, string> = {};
  for (const f of FIELDS) {
    const v = journalValue(json[f]);
    if (v !== undefined) fields[f] = v.slice(0, 4_096);
  }
  const name = fields._SYSTEMD_UNIT || fields.SYSLOG_IDENTIFIER || fields._COMM || 'journal';
  return {
    cursor: json.__CURSOR,
    line: {
      timestamp: Number.isFinite(micros) && micros > 0 ? Math.floor(micros / 1000) : now,
      source: 'journal',
      source_name: name.slice(0, 512),
      level: Number.isInteger(priority) && priority >= 0 ? levelOfPriority(priority) : 'info',
      message: cutMessage(journalValue(json.MESSAGE) ?? ''),
      fields,
    },
  };
}

/**
 * Whether the journal can be read here: `journalctl` runs and finds journal files (a container
 * usually has the program but no journal).
 */
export function journalAvailable(journalctl = 'journalctl', args: string[] = []): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      journalctl,
      [...args, '--header', '--no-pager'],
      { timeout: 10_000, maxBuffer: 1 << 20 },
      (err, stdout) => resolve(!err && /\S/.test(stdout)),
    );
  });
}

/**
 * The journal source: runs `journalctl --follow --output=json` and hands its entries to the sink
 * in order. The cursor of the last entry the sink took is saved in `<stateDir>/journal.json`
 * only after the sink resolved; the next start resumes with `--after-cursor`, so a restart
 * neither repeats nor skips entries. With no saved cursor reading starts at the journal's end
 * (`--lines=0`): no history. When `journalctl` exits it is started again after a growing pause
 * (1 s doubling up to a minute), after the last entry it printed.
 */
export function createJournalSource(opts: JournalSourceOptions): LogSourceReader {
  const journalctl = opts.journalctl ?? 'journalctl';
  const batchMax = opts.batchMax ?? 1_000;
  const restartMs = opts.restartMs ?? 1_000;
  const log = opts.log ?? (() => undefined);
  const positions = positionFile(opts.stateDir, 'journal', (j) =>
    isRecord(j) && typeof j.cursor === 'string' ? { cursor: j.cursor } : undefined,
  );
  const queue: JournalEntry[] = [];
  let committed: string | undefined;
  /** The cursor of the last entry read from `journalctl` (queued or taken). */
  let lastRead: string | undefined;
  let child: ChildProcess | undefined;
  let sink: LogSink | undefined;
  let stopped = false;
  let restartDelay = restartMs;
  let restartTimer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  let pumping: Promise<void> | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopped) return resolve();
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  const run = (): void => {
    if (stopped) return;
    const args = [
      ...(opts.args ?? []),
      '--follow',
      '--output=json',
      '--all',
      '--no-pager',
      '--quiet',
    ];
    args.push(lastRead ? `--after-cursor=${lastRead}` : '--lines=0');
    const started = Date.now();
    const proc = spawn(journalctl, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let rest = '';
    let errText = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      for (const text of lines) {
        if (!text.trim()) continue;
        const e = parseJournalLine(text);
        if (!e) {
          log(`logs: journalctl printed a line that is not a journal entry: ${text.slice(0, 120)}`);
          continue;
        }
        queue.push(e);
        lastRead = e.cursor;
      }
      if (queue.length >= QUEUE_MAX) proc.stdout.pause();
      wake?.();
    });
    proc.stderr.setEncoding('utf8').on('data', (c: string) => {
      if (errText.length < 2_000) errText += c;
    });
    const ended = (why: string) => {
      if (child !== proc) return;
      child = undefined;
      if (stopped) return;
      if (Date.now() - started > 60_000) restartDelay = restartMs;
      if (lastRead && /cursor/i.test(errText)) {
        // A cursor journalctl cannot seek to (a journal from another machine, a damaged state
        // file) would fail every restart: reading goes on from the journal's end instead.
        log(`logs: journalctl refused the cursor ${lastRead}; reading from the journal's end`);
        lastRead = undefined;
      }
      log(
        `logs: journalctl ${why}${errText ? `: ${errText.trim().slice(0, 300)}` : ''}; restarting in ${restartDelay} ms`,
      );
      restartTimer = setTimeout(run, restartDelay);
      restartDelay = Math.min(restartDelay * 2, 60_000);
    };
    proc.on('error', (err) => ended(`could not run (${err.message})`));
    proc.on('close', (code, signal) => ended(`exited (${signal ?? `code ${code}`})`));
  };

  const pump = async (): Promise<void> => {
    let retryDelay = 1_000;
    while (!stopped) {
      if (queue.length === 0) {
        await sleep(60_000);
        continue;
      }
      const batch = queue.slice(0, batchMax);
      try {
        await sink!(batch.map((e) => e.line));
      } catch (err) {
        log(
          `logs: journal lines not taken (${(err as Error).message}); retrying in ${retryDelay} ms`,
        );
        await sleep(retryDelay);
        retryDelay = Math.min(retryDelay * 2, 30_000);
        continue;
      }
      retryDelay = 1_000;
      queue.splice(0, batch.length);
      committed = batch[batch.length - 1]!.cursor;
      try {
        positions.save({ cursor: committed });
      } catch (err) {
        log(`logs: cannot save the journal cursor: ${(err as Error).message}`);
      }
      if (child?.stdout?.isPaused() && queue.length < QUEUE_MAX / 2) child.stdout.resume();
    }
  };

  return {
    description: `journal (${journalctl}${opts.args?.length ? ` ${opts.args.join(' ')}` : ''})`,
    start(s) {
      sink = s;
      committed = positions.load()?.cursor;
      lastRead = committed;
      run();
      pumping = pump();
    },
    async stop() {
      stopped = true;
      clearTimeout(restartTimer);
      const proc = child;
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise<void>((resolve) => proc.once('close', () => resolve()));
        proc.kill('SIGTERM');
        const kill = setTimeout(() => proc.kill('SIGKILL'), 2_000);
        await exited;
        clearTimeout(kill);
      }
      wake?.();
      await pumping;
    },
  };
}
