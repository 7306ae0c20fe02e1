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

/** The server's logger: JSON lines, one per event, secrets redacted. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'vigil' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    destination ?? bufferedStdout(),
  );
}
