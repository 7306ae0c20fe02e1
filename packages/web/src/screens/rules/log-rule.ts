import { RANGES, type RangeId } from '../logs/query';
import type { Comparator } from './queries';

/** A `log_count` rule's filter and window, as its `params` hold them. */
export interface LogFilter {
  q?: string;
  level?: string[];
  source?: string;
  source_name?: string;
  window_seconds: number;
}

/** The window a `log_count` rule counts over when it names none: 5 minutes. */
export const LOG_WINDOW_DEFAULT_SECONDS = 300;

/** Reads the filter of a `log_count` rule's `params`, ignoring what is not of the right type. */
export function logFilterOf(params: Record<string, unknown>): LogFilter {
  const { q, level, source, source_name, window_seconds } = params;
  return {
    q: typeof q === 'string' ? q : undefined,
    level: Array.isArray(level)
      ? level.filter((l): l is string => typeof l === 'string')
      : undefined,
    source: typeof source === 'string' ? source : undefined,
    source_name: typeof source_name === 'string' ? source_name : undefined,
    window_seconds:
      typeof window_seconds === 'number' ? window_seconds : LOG_WINDOW_DEFAULT_SECONDS,
  };
}

/** A window in the largest unit that divides it: `5 min`, `1 h`, `90 s`. */
export function windowText(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return '—';
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** A comparator as a sign: `≥`, `>`, `<`, `≤`. */
export const comparatorSign = (c: Comparator): string => (c === '>=' ? '≥' : c === '<=' ? '≤' : c);

/** A query as the summary quotes it: as typed when it holds quotes, else in quotes. */
const quoted = (q: string) => (q.includes('"') ? q : `"${q}"`);

/**
 * What a filter selects, in words: `error or critical lines matching "timeout" from journal
 * sshd`; `lines` alone for every line.
 */
export function filterText(f: LogFilter): string {
  const levels = f.level && f.level.length > 0 ? `${f.level.join(' or ')} ` : '';
  const q = f.q?.trim() ? ` matching ${quoted(f.q.trim())}` : '';
  const from = [f.source, f.source_name].filter(Boolean).join(' ');
  return `${levels}lines${q}${from ? ` from ${from}` : ''}`;
}

/**
 * The thresholds of a `log_count` rule in one phrase: `≥ 5 / 20` (warning / critical), `≥ 5`
 * with a warning only, `≥ 20 (critical)` with a critical count only.
 */
export function countText(
  comparator: Comparator,
  warning: number | string | null,
  critical: number | string | null,
): string {
  const sign = comparatorSign(comparator);
  const has = (v: number | string | null) => v !== null && v !== '';
  if (has(warning) && has(critical)) return `${sign} ${warning} / ${critical}`;
  if (has(critical)) return `${sign} ${critical} (critical)`;
  return `${sign} ${has(warning) ? warning : '—'}`;
}

/**
 * A `log_count` rule's condition in one line: `error lines matching "timeout" ≥ 5 / 20 in
 * 5 min`.
 */
export function logRuleText(r: {
  comparator?: Comparator | null;
  warning: number | null;
  critical: number | null;
  params: Record<string, unknown>;
}): string {
  const f = logFilterOf(r.params);
  const counts = countText(r.comparator ?? '>=', r.warning, r.critical);
  return `${filterText(f)} ${counts} in ${windowText(f.window_seconds)}`;
}

/**
 * The logs explorer's address for the lines a filter matches (`/logs?q=…&level=…`), over the
 * shortest range of the explorer that covers the window.
 */
export function logsLink(f: LogFilter): string {
  const params = new URLSearchParams();
  if (f.q?.trim()) params.set('q', f.q.trim());
  if (f.level && f.level.length > 0) params.set('level', f.level.join(','));
  if (f.source) params.set('source', f.source);
  if (f.source_name) params.set('source_name', f.source_name);
  const range = (Object.keys(RANGES) as RangeId[]).find(
    (id) => RANGES[id] >= f.window_seconds * 1000,
  );
  if (range && range !== '1h') params.set('range', range);
  const s = params.toString();
  return `/logs${s ? `?${s}` : ''}`;
}
