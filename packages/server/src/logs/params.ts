import { LOG_LEVELS, LOG_SOURCES, type LogLevel, type LogSource } from '@vigil/protocol';
import { VigilError } from '../errors.js';
import type { LogFilter } from './model.js';
import { QUERY_MAX_LENGTH, parseLogQuery } from './query-language.js';

/** The query parameters of `GET /api/v1/logs` and `/api/v1/logs/stream`, as text. */
export interface LogParams {
  agent_id?: string;
  host_id?: string;
  source?: string;
  source_name?: string;
  /** Comma-separated levels. */
  level?: string;
  q?: string;
  /** ISO 8601 times. */
  from?: string;
  to?: string;
  limit?: string;
  offset?: string;
  cursor?: string;
  /** Intervals of `GET /api/v1/logs/histogram`. */
  buckets?: string;
}

/** Most lines one page holds. */
export const LOG_PAGE_MAX = 1_000;
/** Lines one page holds when `limit` is not given. */
export const LOG_PAGE_DEFAULT = 100;
/** Largest `offset`; deeper pages are reached with `cursor`. */
export const LOG_OFFSET_MAX = 100_000;

const bad = (message: string, code = 'validation_failed') =>
  new VigilError('bad_data', message, { code });

/** An ISO 8601 date-time (with a zone, or UTC) as epoch ms. @throws VigilError bad_data. */
function isoTime(name: string, text: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.test(
    text,
  )
    ? Date.parse(text)
    : NaN;
  if (!Number.isFinite(ms))
    throw bad(`${name} must be an ISO 8601 date-time such as 2026-12-04T10:00:00Z`);
  return ms;
}

/** A whole number in [min, max]. @throws VigilError bad_data. */
function integer(name: string, text: string, min: number, max: number): number {
  const n = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw bad(`${name} must be a whole number from ${min} to ${max}`);
  return n;
}

/**
 * The filter the parameters name: levels checked against the known ones, times parsed (`to`
 * not before `from`), `q` parsed into terms. @throws VigilError bad_data naming the parameter.
 */
export function filterOf(p: LogParams): LogFilter {
  const f: LogFilter = {};
  if (p.agent_id !== undefined && p.agent_id !== '') f.agent_id = p.agent_id;
  if (p.host_id !== undefined && p.host_id !== '') f.host_id = p.host_id;
  if (p.source !== undefined && p.source !== '') {
    if (!(LOG_SOURCES as readonly string[]).includes(p.source))
      throw bad(`source must be one of ${LOG_SOURCES.join(', ')}`);
    f.source = p.source as LogSource;
  }
  if (p.source_name !== undefined && p.source_name !== '') f.source_name = p.source_name;
  if (p.level !== undefined && p.level !== '') {
    const levels = [
      ...new Set(
        p.level
          .split(',')
          .map((l) => l.trim().toLowerCase())
          .filter(Boolean),
      ),
    ];
    for (const l of levels)
      if (!(LOG_LEVELS as readonly string[]).includes(l))
        throw bad(`level '${l.slice(0, 32)}' is not one of ${LOG_LEVELS.join(', ')}`);
    if (levels.length > 0) f.levels = levels as LogLevel[];
  }
  if (p.q !== undefined && p.q !== '') {
    if (p.q.length > QUERY_MAX_LENGTH) throw bad(`q is longer than ${QUERY_MAX_LENGTH} characters`);
    const terms = parseLogQuery(p.q);
    if (terms.length > 0) f.terms = terms;
  }
  if (p.from !== undefined && p.from !== '') f.from = isoTime('from', p.from);
  if (p.to !== undefined && p.to !== '') f.to = isoTime('to', p.to);
  if (f.from !== undefined && f.to !== undefined && f.to < f.from)
    throw bad('to must not be before from');
  return f;
}

/** The page the parameters ask: `limit` 1 to 1,000 (default 100), `offset` 0 to 100,000. */
export function pageOf(p: LogParams): { limit: number; offset: number } {
  return {
    limit:
      p.limit === undefined || p.limit === ''
        ? LOG_PAGE_DEFAULT
        : integer('limit', p.limit, 1, LOG_PAGE_MAX),
    offset:
      p.offset === undefined || p.offset === ''
        ? 0
        : integer('offset', p.offset, 0, LOG_OFFSET_MAX),
  };
}

/** Intervals a histogram holds when `buckets` is not given. */
export const HISTOGRAM_BUCKETS_DEFAULT = 60;
/** Most intervals a histogram may ask for. */
export const HISTOGRAM_BUCKETS_MAX = 500;
/** How far back a histogram reaches when `from` is not given: a day before its end. */
export const HISTOGRAM_SPAN_DEFAULT_MS = 86_400_000;

/**
 * The filter and intervals of `GET /api/v1/logs/histogram`: the filter of `filterOf`, its range
 * always bounded (`to` defaults to `now`, or `from` when that is later; `from` to a day before
 * `to`), and `buckets` 1 to 500 (default 60). @throws VigilError bad_data naming the parameter.
 */
export function histogramOf(
  p: LogParams,
  now: number,
): { filter: LogFilter & { from: number; to: number }; buckets: number } {
  const f = filterOf(p);
  const buckets =
    p.buckets === undefined || p.buckets === ''
      ? HISTOGRAM_BUCKETS_DEFAULT
      : integer('buckets', p.buckets, 1, HISTOGRAM_BUCKETS_MAX);
  const to = f.to ?? Math.max(now, f.from ?? now);
  const from = f.from ?? to - HISTOGRAM_SPAN_DEFAULT_MS;
  return { filter: { ...f, from, to }, buckets };
}
