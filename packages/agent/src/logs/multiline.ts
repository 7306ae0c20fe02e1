import { LOG_MESSAGE_MAX } from '@vigil/protocol/log-levels';

/** One log entry made of one or more lines, and where it ends in its file. */
export interface JoinedEntry {
  /** The entry's text: its lines joined by `\n`, cut at LOG_MESSAGE_MAX characters. */
  text: string;
  /** The byte offset just past the entry's last line (its newline included). */
  end: number;
}

/** Cuts a message to the longest the protocol takes. */
export const cutMessage = (text: string): string =>
  text.length > LOG_MESSAGE_MAX ? text.slice(0, LOG_MESSAGE_MAX) : text;

/**
 * Joins the lines of multi-line entries (a Java stack trace, a Python traceback): a line that
 * matches `start` begins an entry, any other line is appended to the entry before it. The last
 * entry stays open until the next start line or {@link LineJoiner.flush} (the caller flushes
 * after a short quiet time). Without `start`, every line is an entry of its own.
 */
export class LineJoiner {
  private open: JoinedEntry | undefined;

  /** Makes a joiner; `start` matches the first line of an entry. */
  constructor(private readonly start?: RegExp) {}

  /** Whether an entry is open, waiting for more lines or a flush. */
  get pending(): boolean {
    return this.open !== undefined;
  }

  /**
   * Takes one complete line (without its newline) ending at byte offset `end`, and returns the
   * entries it completed (none, or the one before it, or itself without a start pattern).
   */
  push(line: string, end: number): JoinedEntry[] {
    if (!this.start) return [{ text: cutMessage(line), end }];
    this.start.lastIndex = 0;
    if (this.open && !this.start.test(line)) {
      if (this.open.text.length < LOG_MESSAGE_MAX)
        this.open.text = cutMessage(`${this.open.text}\n${line}`);
      this.open.end = end;
      return [];
    }
    const done = this.open;
    this.open = { text: cutMessage(line), end };
    return done ? [done] : [];
  }

  /** Closes the open entry, if any, and returns it. */
  flush(): JoinedEntry | undefined {
    const done = this.open;
    this.open = undefined;
    return done;
  }
}
