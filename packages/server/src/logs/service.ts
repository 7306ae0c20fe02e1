import { LOG_MESSAGE_MAX, type LogLevel, type LogSource } from '@vigil/protocol';
import type { CursorCodec } from '../audit/service.js';
import { VigilError } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import { LOGS_TOPIC, type LogsEvent } from '../events/types.js';
import { createLogAppender } from './appender.js';
import type {
  LogBatchRef,
  LogDroppedItem,
  LogEntryItem,
  LogFilter,
  LogHistogram,
  LogHistogramBucket,
  LogIngest,
  LogPage,
  NewLogEntry,
} from './model.js';
import { highlightsOf } from './query-language.js';
import type { LogRow, LogStore, StoredLogRow } from './store.js';

export type {
  LogBatchRef,
  LogDroppedItem,
  LogEntryItem,
  LogFilter,
  LogHistogram,
  LogHistogramBucket,
  LogIngest,
  LogPage,
  LogTerm,
  NewLogEntry,
} from './model.js';
export { filterOf, histogramOf, pageOf, type LogParams } from './params.js';

/** The store the log service needs (see `LogStore` in store.ts for the contracts). */
export type LogServiceStore = Pick<
  LogStore,
  'commit' | 'search' | 'after' | 'count' | 'dropped' | 'histogram'
>;

/** Matches counted exactly by `query`; past it the total is the cap, with `total_capped`. */
export const LOG_TOTAL_CAP = 10_000;

/** Matches a histogram counts at most: the newest ones (by id); past it it says `capped`. */
export const LOG_HISTOGRAM_CAP = 50_000;

/** Interval widths a histogram prefers, in milliseconds: 1 s up to a day. */
const NICE_WIDTHS = [1, 5, 10, 30, 60, 300, 900, 1_800, 3_600, 10_800, 21_600, 43_200, 86_400].map(
  (s) => s * 1000,
);

/**
 * The intervals of a histogram over `from`–`to` (epoch ms, both inclusive), at most `buckets`
 * of them: the smallest "nice" width (1 s, 5 s, 10 s, 30 s, 1 m, 5 m, 15 m, 30 m, 1 h, 3 h,
 * 6 h, 12 h, 1 d) whose intervals, aligned on multiples of the width since the epoch (UTC),
 * number at most `buckets`; past a day, whole seconds starting at `from`.
 */
export function histogramPlan(
  from: number,
  to: number,
  buckets: number,
): { start: number; width: number; count: number } {
  for (const width of NICE_WIDTHS) {
    const first = Math.floor(from / width);
    const count = Math.floor(to / width) - first + 1;
    if (count <= buckets) return { start: first * width, width, count };
  }
  const width = Math.ceil((to - from + 1) / buckets / 1000) * 1000;
  return { start: from, width, count: Math.ceil((to - from + 1) / width) };
}

/** A stored row as the API renders it. */
export function itemOf(r: StoredLogRow): LogEntryItem {
  return {
    id: String(r.id),
    timestamp: new Date(r.timestamp).toISOString(),
    agent_id: r.agent_id,
    host_id: r.host_id,
    host_name: r.host_name,
    source: r.source as LogSource,
    source_name: r.source_name,
    level: r.level as LogLevel,
    message: r.message,
    fields: JSON.parse(r.fields) as Record<string, string>,
  };
}

/** A new line laid out as its row: the message cut at `LOG_MESSAGE_MAX`, fields as JSON. */
/** Text without NUL characters, which PostgreSQL's text cannot hold (both stores take the same). */
const noNul = (text: string): string => (text.includes('\0') ? text.replaceAll('\0', '') : text);

function rowOf(e: NewLogEntry): LogRow {
  const cut = e.message.length > LOG_MESSAGE_MAX ? e.message.slice(0, LOG_MESSAGE_MAX) : e.message;
  const message = noNul(cut);
  let fields = JSON.stringify(e.fields);
  // Escaped in the JSON text as \u0000: taken out of the keys and values themselves.
  if (fields.includes('\\u0000'))
    fields = JSON.stringify(
      Object.fromEntries(Object.entries(e.fields).map(([k, v]) => [noNul(k), noNul(v)])),
    );
  return {
    timestamp: Math.trunc(e.timestamp),
    host_id: e.host_id,
    agent_id: e.agent_id,
    source: e.source,
    source_name: noNul(e.source_name),
    level: e.level,
    message,
    fields,
    size: Buffer.byteLength(message) + Buffer.byteLength(fields),
  };
}

/**
 * The log service: ingest through a group commit (`LogIngest`), published on the bus after each
 * commit, and the reads of the API, the live tail and log alert rules.
 */
export function createLogService(deps: {
  store: LogServiceStore;
  bus: EventBus;
  cursors: CursorCodec;
  now: () => number;
  policy: { commitDelayMs: number; maxLines: number };
  /** Told how long each group commit took and how many lines it held. */
  onCommit?: (seconds: number, lines: number) => void;
}) {
  const { store, bus, cursors } = deps;
  let closed = false;
  const appender = createLogAppender({
    now: deps.now,
    policy: deps.policy,
    onCommit: deps.onCommit,
    // Published here, in commit order, before any push of the group is answered.
    async commit(pushes, at) {
      const outcomes = await store.commit(pushes, at);
      if (bus.hasSubscribers(LOGS_TOPIC))
        pushes.forEach((p, i) => {
          const { duplicate, ids } = outcomes[i]!;
          if (duplicate || ids.length === 0) return;
          const event: LogsEvent = {
            entries: p.rows.map((r, k) => ({
              id: String(ids[k]),
              timestamp: new Date(r.timestamp).toISOString(),
              agent_id: r.agent_id,
              host_id: r.host_id,
              source: r.source as LogSource,
              source_name: r.source_name,
              level: r.level as LogLevel,
              message: r.message,
              fields: JSON.parse(r.fields) as Record<string, string>,
            })),
          };
          bus.publish(LOGS_TOPIC, event);
        });
      return outcomes;
    },
  });

  const ingest: LogIngest = {
    async append(entries: NewLogEntry[], batch?: LogBatchRef) {
      if (closed) throw new VigilError('unavailable', 'the server is shutting down');
      if (entries.length === 0 && batch === undefined) return { accepted: 0, duplicate: false };
      const outcome = await appender.append({ rows: entries.map(rowOf), batch });
      return { accepted: outcome.ids.length, duplicate: outcome.duplicate };
    },
  };

  /** The id a cursor continues before. @throws VigilError bad_data for a cursor not ours. */
  function cursorId(cursor: string): number {
    const payload = cursors.decode(cursor) as { logs_before?: unknown } | undefined;
    const id = payload?.logs_before;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0)
      throw new VigilError('bad_data', 'cursor is not valid', { code: 'cursor.invalid' });
    return id;
  }

  return {
    ...ingest,

    /**
     * A page of the lines matching `filter`, newest (highest id) first: after `cursor` when
     * given, else after `offset` lines. `total` counts the matches (not only the page) up to
     * `LOG_TOTAL_CAP`. @throws VigilError bad_data for a bad cursor.
     */
    async query(
      filter: LogFilter,
      page: { limit: number; offset: number; cursor?: string },
    ): Promise<LogPage> {
      const before = page.cursor !== undefined ? cursorId(page.cursor) : undefined;
      const [rows, counted] = await Promise.all([
        store.search(filter, {
          limit: page.limit,
          offset: before === undefined ? page.offset : 0,
          before,
        }),
        store.count(filter, LOG_TOTAL_CAP),
      ]);
      const last = rows[rows.length - 1];
      return {
        entries: rows.map(itemOf),
        total: Math.min(counted, LOG_TOTAL_CAP),
        total_capped: counted > LOG_TOTAL_CAP,
        next_cursor:
          rows.length === page.limit && last ? cursors.encode({ logs_before: last.id }) : null,
        highlights: highlightsOf(filter.terms ?? []),
      };
    },

    /**
     * How many lines match `filter` (a window is its `from` and `to`), counting at most `cap`
     * (then `cap` is answered): what a log alert rule compares with its threshold.
     */
    async count(filter: LogFilter, cap = 1_000_000): Promise<number> {
      return Math.min(await store.count(filter, cap), cap);
    },

    /**
     * Matches of `filter` (its range bounded) per interval (see `histogramPlan`) and level, in
     * one query; empty intervals included. Counts the newest `cap` matches at most; when that
     * many were counted, a second, short query tells whether older ones match (`capped`).
     */
    async histogram(
      filter: LogFilter & { from: number; to: number },
      buckets: number,
      cap = LOG_HISTOGRAM_CAP,
    ): Promise<LogHistogram> {
      const plan = histogramPlan(filter.from, filter.to, buckets);
      const counted = await store.histogram(filter, {
        start: plan.start,
        width: plan.width,
        cap,
      });
      const out: LogHistogramBucket[] = Array.from({ length: plan.count }, (_, i) => ({
        start: new Date(plan.start + i * plan.width).toISOString(),
        count: 0,
        error: 0,
        warning: 0,
        other: 0,
      }));
      let total = 0;
      for (const r of counted.buckets) {
        const b = out[r.bucket];
        if (!b) continue;
        b.count = r.n;
        b.error = r.error;
        b.warning = r.warning;
        b.other = r.n - r.error - r.warning;
        total += r.n;
      }
      return {
        from: new Date(filter.from).toISOString(),
        to: new Date(filter.to).toISOString(),
        bucket_seconds: plan.width / 1000,
        buckets: out,
        total,
        capped: counted.more,
      };
    },

    /** The lines matching `filter` after id `after`, oldest first, at most `limit`. */
    async after(filter: LogFilter, after: number, limit: number): Promise<LogEntryItem[]> {
      return (await store.after(filter, after, limit)).map(itemOf);
    },

    /** Agents' dropped counts (lines they dropped before sending: buffer full, rate limited). */
    async dropped(): Promise<LogDroppedItem[]> {
      return (await store.dropped()).map((d) => ({
        ...d,
        updated_at: new Date(d.updated_at).toISOString(),
      }));
    },

    /** Group commits done and pushes waiting. */
    statistics: () => appender.statistics(),

    /** Refuses new lines and commits those queued. */
    async close(): Promise<void> {
      closed = true;
      await appender.close();
    },
  };
}

/** The log service. */
export type LogService = ReturnType<typeof createLogService>;
