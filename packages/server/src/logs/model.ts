import type { LogDropped, LogLevel, LogSource } from '@vigil/protocol';

/** A log line to store, from an agent's push or the syslog listener. */
export interface NewLogEntry {
  /** When the line was written, epoch ms. */
  timestamp: number;
  /** The host the line is filed under; null when none is known. */
  host_id: string | null;
  /** The agent that sent it; null for a line that came by syslog. */
  agent_id: string | null;
  source: LogSource;
  /** The unit, file path, container name or syslog program the line comes from. */
  source_name: string;
  level: LogLevel;
  message: string;
  fields: Record<string, string>;
}

/** A stored log line as the API renders it (`GET /api/v1/logs`, the live tail, `LogsEvent`). */
export interface LogEntryItem {
  /** The entry's id, counting up in commit order: the live tail's event id. Decimal text. */
  id: string;
  /** When the line was written, ISO 8601. */
  timestamp: string;
  agent_id: string | null;
  host_id: string | null;
  /** The name of the host; absent from the bus's events, which know only its id. */
  host_name?: string | null;
  source: LogSource;
  source_name: string;
  level: LogLevel;
  message: string;
  fields: Record<string, string>;
}

/** The batch a push came in, for `LogIngest.append`: a resent batch is a no-op. */
export interface LogBatchRef {
  agentId: string;
  batchId: string;
  /** Lines the agent dropped before sending, recorded with the batch (once). */
  dropped?: LogDropped[];
}

/** Where log lines go. */
export interface LogIngest {
  /**
   * Stores `entries` and resolves once they are committed (durable), never before: only then
   * may a push be acknowledged. With `batch`, a batch id already stored for that agent stores
   * nothing and resolves `{accepted: 0, duplicate: true}`. Concurrent calls share one
   * transaction (a group commit). After the commit the entries are published on the bus
   * (`LOGS_TOPIC`).
   */
  append(
    entries: NewLogEntry[],
    batch?: LogBatchRef,
  ): Promise<{ accepted: number; duplicate: boolean }>;
}

/** One term of a full-text query: a word, a prefix, or a phrase of words (the last a prefix). */
export type LogTerm =
  { kind: 'word'; word: string } | { kind: 'phrase'; words: string[]; prefix: boolean };

/** What selects log lines: every condition given must hold. Times are epoch ms, inclusive. */
export interface LogFilter {
  agent_id?: string;
  host_id?: string;
  source?: LogSource;
  source_name?: string;
  /** Any of these levels. */
  levels?: LogLevel[];
  /** Full-text terms, all of which must match (see `parseLogQuery`). */
  terms?: LogTerm[];
  from?: number;
  to?: number;
}

/** A page of log lines, newest (highest id) first. */
export interface LogPage {
  entries: LogEntryItem[];
  /** Lines matching the filter, counted up to the cap; then the cap, with `total_capped`. */
  total: number;
  total_capped: boolean;
  /** Continues after the page's last line; null on the last page. */
  next_cursor: string | null;
  /** The words to highlight in the messages; a prefix ends with `*`. */
  highlights: string[];
}

/** A count of lines an agent dropped before sending them. */
export interface LogDroppedItem {
  agent_id: string;
  source: string;
  source_name: string;
  reason: string;
  count: number;
  /** When the count last grew, ISO 8601. */
  updated_at: string;
}

/** One interval of a histogram of matches: its lines by level. */
export interface LogHistogramBucket {
  /** When the interval starts, ISO 8601; it runs `bucket_seconds` from there. */
  start: string;
  count: number;
  /** Lines of level error or critical. */
  error: number;
  warning: number;
  /** Lines of the other levels (debug, info, notice). */
  other: number;
}

/** Matches over time (`GET /api/v1/logs/histogram`), oldest interval first, empty ones too. */
export interface LogHistogram {
  from: string;
  to: string;
  bucket_seconds: number;
  buckets: LogHistogramBucket[];
  /** The lines counted: all matches, or the newest `cap` of them when `capped`. */
  total: number;
  capped: boolean;
}
