/**
 * The log vocabulary without schemas: levels, sources, limits and the level of a syslog priority
 * or a text word. The agent imports these values from here (`@vigil/protocol/log-levels`):
 * loading the schemas of `logs.ts` would cost it their construction.
 */
/** The normalised log levels, least to most severe. */
export const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical'] as const;
/** A normalised log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where an agent reads log lines: the systemd journal, files, Docker containers. */
export const AGENT_LOG_SOURCES = ['journal', 'file', 'docker'] as const;
/** Every log source: the agent's, and the server's syslog listener. */
export const LOG_SOURCES = [...AGENT_LOG_SOURCES, 'syslog'] as const;
/** A log source. */
export type LogSource = (typeof LOG_SOURCES)[number];

/** Longest message an agent sends, in characters; longer lines are cut there. */
export const LOG_MESSAGE_MAX = 16_384;
/** Most entries one log push carries. */
export const LOG_PUSH_MAX_ENTRIES = 5_000;

/**
 * The level of a syslog priority (RFC 5424 severity 0–7, or a whole PRI: its low three bits):
 * emergency, alert and critical are `critical`; debug stays `debug`.
 */
export function levelOfPriority(priority: number): LogLevel {
  const severity = priority & 7;
  if (severity <= 2) return 'critical';
  if (severity === 3) return 'error';
  if (severity === 4) return 'warning';
  if (severity === 5) return 'notice';
  if (severity === 6) return 'info';
  return 'debug';
}

const TEXT_LEVELS: Readonly<Record<string, LogLevel>> = {
  trace: 'debug',
  debug: 'debug',
  dbg: 'debug',
  verbose: 'debug',
  info: 'info',
  information: 'info',
  informational: 'info',
  notice: 'notice',
  warn: 'warning',
  warning: 'warning',
  err: 'error',
  error: 'error',
  severe: 'error',
  crit: 'critical',
  critical: 'critical',
  fatal: 'critical',
  panic: 'critical',
  alert: 'critical',
  emerg: 'critical',
  emergency: 'critical',
};

/**
 * The level a common text level names (`WARN`, `Error`, `fatal`, `E`…, case-insensitive), or
 * undefined for a word that names none.
 */
export function levelOfText(text: string): LogLevel | undefined {
  const word = text.trim().toLowerCase();
  if (word.length === 1)
    return ({ d: 'debug', i: 'info', w: 'warning', e: 'error', f: 'critical' } as const)[
      word as 'd'
    ];
  return TEXT_LEVELS[word];
}
