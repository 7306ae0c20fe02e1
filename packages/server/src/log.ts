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

/** The server's logger: JSON lines, one per event, secrets redacted. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'vigil' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
