import { LOG_LEVELS, LOG_SOURCES, type LogLevel, type LogSource } from '@vigil/protocol';
import { VigilError } from '../errors.js';
import type { Comparator, Rule } from './rules.js';

/**
 * A `log_count` rule: the number of log lines of a host that match a filter over the last
 * `window_seconds`, compared with the rule's warning and critical thresholds (`comparator`,
 * `>=` by default). Its `params` hold the filter and the window.
 */
export interface LogRuleParams {
  /** Full-text query, as `GET /api/v1/logs` takes it (words, "phrases", prefix*). */
  q?: string;
  /** Any of these levels. */
  level?: LogLevel[];
  source?: LogSource;
  source_name?: string;
  /** The window the lines are counted over, in seconds. */
  window_seconds: number;
}

/** The window when a rule names none: 5 minutes. */
export const LOG_WINDOW_DEFAULT_SECONDS = 300;
/** The shortest window: evaluation runs every 30 s, so a shorter one would miss lines. */
export const LOG_WINDOW_MIN_SECONDS = 60;
/** The longest window: a day. */
export const LOG_WINDOW_MAX_SECONDS = 86_400;
/** Longest `q` of a rule, as `GET /api/v1/logs` takes it. */
const Q_MAX = 1_000;
const PARAMS = ['q', 'level', 'source', 'source_name', 'window_seconds'];
const COMPARATORS: readonly Comparator[] = ['>', '>=', '<', '<='];

const bad = (field: string, message: string) =>
  new VigilError('bad_data', `${field}: ${message}`, { code: 'validation_failed' });

const isCount = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/**
 * Validates the fields of a `log_count` rule and returns it normalised (`comparator` `>=` and
 * `window_seconds` 300 when absent). Every refusal is bad_data naming the field.
 */
export function validateLogRule(r: Rule): Rule {
  if (Object.keys(r.matchers).length > 0)
    throw bad('matchers', 'not used by a log_count rule (its filter is in params)');
  if (r.for_seconds !== 0) throw bad('for_seconds', 'not used by a log_count rule: its window is');
  if (r.keep_firing_for_seconds !== 0)
    throw bad('keep_firing_for_seconds', 'not used by a log_count rule: its window is');
  const comparator = r.comparator ?? '>=';
  if (!COMPARATORS.includes(comparator)) throw bad('comparator', `one of ${COMPARATORS.join(' ')}`);
  if (r.warning === null && r.critical === null)
    throw bad('warning', 'a warning or a critical count is required');
  for (const f of ['warning', 'critical', 'recovery'] as const)
    if (r[f] !== null && !isCount(r[f])) throw bad(f, 'a whole number of lines, 0 or more');
  const [w0, c0] = [r.warning, r.critical];
  if (w0 !== null && c0 !== null && (comparator.startsWith('>') ? c0 < w0 : c0 > w0))
    throw bad('critical', 'must be at least as far past the warning count');
  const p = r.params;
  for (const k of Object.keys(p))
    if (!PARAMS.includes(k)) throw bad(`params.${k}`, `unknown (${PARAMS.join(', ')})`);
  const params: Record<string, unknown> = {};
  if (p.q !== undefined) {
    if (typeof p.q !== 'string' || p.q.length > Q_MAX)
      throw bad('params.q', `a query of at most ${Q_MAX} characters`);
    if (!/[\p{L}\p{N}]/u.test(p.q)) throw bad('params.q', 'has no word to search for');
    params.q = p.q;
  }
  if (p.level !== undefined) {
    if (
      !Array.isArray(p.level) ||
      p.level.length === 0 ||
      p.level.some((l) => !(LOG_LEVELS as readonly unknown[]).includes(l))
    )
      throw bad('params.level', `a non-empty list of ${LOG_LEVELS.join(', ')}`);
    params.level = [...new Set(p.level as LogLevel[])];
  }
  if (p.source !== undefined) {
    if (!(LOG_SOURCES as readonly unknown[]).includes(p.source))
      throw bad('params.source', `one of ${LOG_SOURCES.join(', ')}`);
    params.source = p.source;
  }
  if (p.source_name !== undefined) {
    if (typeof p.source_name !== 'string' || p.source_name === '' || p.source_name.length > 512)
      throw bad('params.source_name', 'a name of 1 to 512 characters');
    params.source_name = p.source_name;
  }
  const w = p.window_seconds ?? LOG_WINDOW_DEFAULT_SECONDS;
  if (
    typeof w !== 'number' ||
    !Number.isInteger(w) ||
    w < LOG_WINDOW_MIN_SECONDS ||
    w > LOG_WINDOW_MAX_SECONDS
  )
    throw bad(
      'params.window_seconds',
      `an integer of seconds, ${LOG_WINDOW_MIN_SECONDS} to ${LOG_WINDOW_MAX_SECONDS}`,
    );
  params.window_seconds = w;
  return { ...r, comparator, params };
}

/** The params of a valid `log_count` rule. */
export const logRuleParams = (rule: Rule): LogRuleParams => rule.params as unknown as LogRuleParams;
