import { navigate } from '../../app/router';

/** The log levels, least to most severe (the server's normalised vocabulary). */
export const LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical'] as const;

/** Where log lines come from: an agent's journal, files or Docker, or the syslog listener. */
export const SOURCES = ['journal', 'file', 'docker', 'syslog'] as const;

/** The time ranges the explorer offers, each reaching back from now (milliseconds). */
export const RANGES = {
  '15m': 15 * 60_000,
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 24 * 3_600_000,
  '7d': 7 * 86_400_000,
} as const;

/** A preset range of the explorer. */
export type RangeId = keyof typeof RANGES;

/** The labels of the presets, as the range picker shows them. */
export const RANGE_LABELS: Record<RangeId | 'custom', string> = {
  '15m': 'Last 15 minutes',
  '1h': 'Last hour',
  '6h': 'Last 6 hours',
  '24h': 'Last 24 hours',
  '7d': 'Last 7 days',
  custom: 'Custom range',
};

/** The range a search uses when the address names none. */
export const DEFAULT_RANGE: RangeId = '1h';

/**
 * A search of the logs as the address holds it (`/logs?q=…&level=error,critical&range=6h`):
 * every field is text, empty when unset. `from`/`to` (ISO 8601) count only for `range=custom`.
 */
export interface LogQuery {
  q: string;
  host: string;
  agent: string;
  source: string;
  sourceName: string;
  /** Levels, comma-separated (empty: every level). */
  level: string;
  range: RangeId | 'custom';
  from: string;
  to: string;
  /** Whether live tail is on. */
  live: boolean;
}

/** The address parameter of each field of a search. */
const PARAMS: Record<Exclude<keyof LogQuery, 'live'>, string> = {
  q: 'q',
  host: 'host',
  agent: 'agent',
  source: 'source',
  sourceName: 'source_name',
  level: 'level',
  range: 'range',
  from: 'from',
  to: 'to',
};

const isRange = (s: string | null): s is RangeId | 'custom' =>
  s === 'custom' || (s !== null && s in RANGES);

/**
 * A time of the address as epoch milliseconds (NaN when it is none): ISO 8601 as the explorer
 * writes it, or epoch milliseconds as a host's charts write theirs (they share the host page's
 * address).
 */
export function parseTime(text: string): number {
  return /^\d+$/.test(text) ? Number(text) : Date.parse(text);
}

/** Reads a search from the address's query parameters (unknown values fall back to defaults). */
export function readQuery(params: URLSearchParams): LogQuery {
  const get = (k: string) => params.get(k) ?? '';
  // A host's charts call their last 15 minutes `live`: the same span.
  const range = params.get('range') === 'live' ? '15m' : params.get('range');
  const level = get('level')
    .split(',')
    .filter((l) => (LEVELS as readonly string[]).includes(l))
    .join(',');
  const source = get('source');
  return {
    q: get('q'),
    host: get('host'),
    agent: get('agent'),
    source: (SOURCES as readonly string[]).includes(source) ? source : '',
    sourceName: get('source_name'),
    level,
    range: isRange(range) ? range : DEFAULT_RANGE,
    from: get('from'),
    to: get('to'),
    live: params.get('live') === '1',
  };
}

/**
 * Writes `changes` of the search into the address (one history entry replaced), keeping the
 * screen's other parameters (a host's `tab`, say). Empty values and the default range are left
 * out, so that the address stays short.
 */
export function writeQuery(changes: Partial<LogQuery>): void {
  const params = new URLSearchParams(window.location.search);
  for (const [field, value] of Object.entries(changes) as [keyof LogQuery, unknown][]) {
    if (field === 'live') {
      if (value) params.set('live', '1');
      else params.delete('live');
      continue;
    }
    const name = PARAMS[field];
    const text = String(value ?? '');
    if (text === '' || (field === 'range' && text === DEFAULT_RANGE)) params.delete(name);
    else params.set(name, text);
  }
  if (changes.range !== undefined && changes.range !== 'custom') {
    params.delete('from');
    params.delete('to');
  }
  const s = params.toString();
  navigate(`${window.location.pathname}${s ? `?${s}` : ''}`, { replace: true });
}

/** The bounds of a search's range (epoch milliseconds) as of `now`; a bad custom range is the last hour. */
export function bounds(query: LogQuery, now: number): { from: number; to: number } {
  if (query.range === 'custom') {
    const from = parseTime(query.from);
    const to = query.to ? parseTime(query.to) : now;
    if (Number.isFinite(from) && Number.isFinite(to) && from < to) return { from, to };
    return { from: now - RANGES[DEFAULT_RANGE], to: now };
  }
  return { from: now - RANGES[query.range], to: now };
}

/** Whether a search narrows anything beyond its time range. */
export const hasFilters = (query: LogQuery): boolean =>
  Boolean(query.q || query.host || query.agent || query.source || query.sourceName || query.level);

/** One term of a text query, as the highlighter matches it. */
export interface Term {
  kind: 'word' | 'phrase' | 'prefix';
  /** The term's words, lower-case (a phrase has several; a prefix's last word may run on). */
  words: string[];
}

/** What separates words, as the server's full-text index has it: all but letters and digits. */
const SEPARATORS = /[^\p{L}\p{N}]+/u;

const wordsOf = (text: string) => text.toLowerCase().split(SEPARATORS).filter(Boolean);

/**
 * The terms of a text query as the server reads them: `"quoted phrases"` (a `*` right after the
 * closing quote makes the last word a prefix), `prefix*` (a star right after a letter or digit)
 * and plain words. A word of several parts (`nginx.service`) is the phrase of its parts; an
 * unclosed quote runs to the end; a term without a letter or digit is dropped.
 */
export function parseTerms(q: string): Term[] {
  const terms: Term[] = [];
  const add = (text: string, phrase: boolean, prefix: boolean) => {
    const words = wordsOf(text);
    if (words.length === 0) return;
    if (prefix) terms.push({ kind: 'prefix', words });
    else if (words.length === 1 && !phrase) terms.push({ kind: 'word', words });
    else terms.push({ kind: 'phrase', words });
  };
  let i = 0;
  while (i < q.length) {
    const c = q[i]!;
    if (/\s/u.test(c)) {
      i += 1;
    } else if (c === '"') {
      const end = q.indexOf('"', i + 1);
      const stop = end === -1 ? q.length : end;
      const inner = q.slice(i + 1, stop);
      i = stop + 1;
      const star = q[i] === '*';
      if (star) i += 1;
      add(inner, true, star && /[\p{L}\p{N}]$/u.test(inner));
    } else {
      let j = i;
      while (j < q.length && !/\s/u.test(q[j]!) && q[j] !== '"') j += 1;
      const token = q.slice(i, j);
      i = j;
      add(token, false, /[\p{L}\p{N}]\*+$/u.test(token));
    }
  }
  return terms;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * One case-insensitive expression matching every term of a query in a text, whole words only
 * (a prefix may run on); null when the query has no term.
 */
export function termPattern(q: string): RegExp | null {
  const terms = parseTerms(q);
  if (terms.length === 0) return null;
  const before = '(?<![\\p{L}\\p{N}])';
  const after = '(?![\\p{L}\\p{N}])';
  const parts = terms.map((t) => {
    const body = t.words.map(escape).join('[^\\p{L}\\p{N}]+');
    return t.kind === 'prefix' ? `${before}${body}[\\p{L}\\p{N}]*` : `${before}${body}${after}`;
  });
  // Longest first, so that a phrase wins over one of its words.
  parts.sort((a, b) => b.length - a.length);
  return new RegExp(parts.join('|'), 'giu');
}
