import type { AGENT_LOG_SOURCES, LogLevel } from '@vigil/protocol';

/** One log line an agent source read, normalised: the shape the shipper buffers and pushes. */
export interface LogLine {
  /** When the line was written, epoch milliseconds. */
  timestamp: number;
  source: (typeof AGENT_LOG_SOURCES)[number];
  /** The unit (`nginx.service`), file path or container name the line comes from. */
  source_name: string;
  level: LogLevel;
  message: string;
  fields: Record<string, string>;
}

/**
 * Where a source hands its lines. The promise resolves once the lines are durable in the
 * agent's disk buffer (or were dropped and counted); only then may the source persist its
 * position past them, so that a restart neither repeats nor skips lines.
 */
export type LogSink = (lines: LogLine[]) => Promise<void>;

/** A running log source: the journal, a set of file globs, or the Docker containers. */
export interface LogSourceReader {
  /** The source's kind and what it reads, for the agent's own log. */
  readonly description: string;
  /** Starts reading; lines go to `sink` in order, in batches. */
  start(sink: LogSink): void;
  /** Stops reading and persists the position of the last line the sink took. */
  stop(): Promise<void>;
}
