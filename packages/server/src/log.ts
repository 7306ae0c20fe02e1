import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Paths that could carry secrets; pino replaces their values before a line is written. Only fixed
 * paths: wildcards would cost a scan of every line, and request logs never include bodies.
 */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
];

/** Bytes of log lines gathered before a write to standard output. */
const BUFFER_BYTES = 8 * 1024;
/** The longest a gathered log line waits before it is written. */
const FLUSH_INTERVAL_MS = 100;

/**
 * Standard output as a buffered log destination: lines are gathered and written in one system
 * call once `BUFFER_BYTES` are waiting or `FLUSH_INTERVAL_MS` has passed, instead of one write
 * (through the thread pool) per line, which under load cost as much as answering the request.
 * What is still buffered is written synchronously when the process exits.
 */
function bufferedStdout(): DestinationStream {
  const dest = pino.destination({ fd: 1, sync: false, minLength: BUFFER_BYTES });
  const timer = setInterval(() => dest.flush(), FLUSH_INTERVAL_MS);
  timer.unref();
  process.once('exit', () => {
    clearInterval(timer);
    try {
      dest.flushSync();
    } catch {
      // Standard output is gone; nothing is left to write to.
    }
  });
  return dest;
}

/** How log lines are written: see the `log.format` configuration key. */
export type LogFormat = 'auto' | 'json' | 'pretty';

/**
 * Whether lines are written for people: `pretty`, or `auto` when `stdout` is a terminal (someone
 * watching `vigil serve` or `npm start`). A pipe, a file or a log collector gets JSON.
 */
export function isPretty(format: LogFormat, stdout: { isTTY?: boolean } = process.stdout): boolean {
  return format === 'pretty' || (format === 'auto' && stdout.isTTY === true);
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};
/** Fields every line has, or that a human line shows in its own place. */
const FIXED = new Set(['time', 'level', 'msg', 'service', 'pid', 'hostname']);

/** A field value as `key=value` shows it: bare when it is one word, else as JSON. */
function fieldText(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (value instanceof Object) return JSON.stringify(value);
  return String(value);
}

/**
 * One JSON log line as a short human-readable line: the time of day (UTC), the level, then for
 * a request its method, route, status and duration, for anything else the message and its
 * fields as `key=value`. A line that is not a JSON object is returned as it is.
 */
export function humanLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  if (typeof o !== 'object' || o === null) return json;
  const time = typeof o.time === 'string' ? o.time.slice(11, 19) : '--:--:--';
  const level = LEVEL_NAMES[o.level as number] ?? String(o.level).padEnd(5);
  if (o.msg === 'request' && typeof o.method === 'string') {
    const route = o.route ?? o.path ?? '-';
    return `${time} ${level} ${o.method} ${String(route)} ${String(o.status)} ${String(o.duration_ms)}ms\n`;
  }
  let out = `${time} ${level} ${typeof o.msg === 'string' ? o.msg : ''}`;
  for (const [k, v] of Object.entries(o)) {
    if (FIXED.has(k) || v === undefined || v === null) continue;
    const err = k === 'err' && v instanceof Object ? (v as { message?: unknown }) : undefined;
    out += ` ${k}=${fieldText(err?.message ?? v)}`;
  }
  return `${out}\n`;
}

/** A destination that writes each line of pino's through `humanLine` to `dest`. */
function humanDestination(dest: DestinationStream): DestinationStream {
  const inner = dest as DestinationStream & { flush?: () => void; flushSync?: () => void };
  return {
    write: (line: string) => dest.write(humanLine(line)),
    // What the logger's flush() asks of its stream: what is buffered is written.
    flush: () => inner.flush?.(),
    flushSync: () => inner.flushSync?.(),
  } as DestinationStream;
}

/** Where and how `createLogger` writes; by default buffered standard output, format `auto`. */
export interface LoggerOutput {
  destination?: DestinationStream;
  format?: LogFormat;
  /** The stream whose being a terminal `auto` asks about; standard output by default. */
  stdout?: { isTTY?: boolean };
}

/**
 * The server's logger: one line per event, secrets redacted; JSON lines, or short human-readable
 * ones where `isPretty` says so. JSON is built by pino as always and only a human line is
 * rebuilt from it, so a JSON log (a pipe, the benchmarks) costs nothing more.
 */
export function createLogger(level: string, output: LoggerOutput = {}): Logger {
  const dest = output.destination ?? bufferedStdout();
  return pino(
    {
      level,
      base: { service: 'vigil' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    isPretty(output.format ?? 'auto', output.stdout) ? humanDestination(dest) : dest,
  );
}
