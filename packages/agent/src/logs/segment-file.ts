import { closeSync, openSync, readFileSync, readSync, truncateSync } from 'node:fs';
import type { LogDropped, LogRecord } from '@vigil/protocol';

// The reading side of the log buffer's segment files: one JSON `LogRecord` per line, each line
// ended by a newline once it is complete.

/** Truncates the segment `file` (of `size` bytes) after its last complete line; returns the new size. */
export function cutTornLine(file: string, size: number): number {
  const fd = openSync(file, 'r');
  let keep = 0;
  try {
    const tail = Buffer.alloc(Math.min(size, 1024 * 1024));
    for (let pos = size; pos > 0 && keep === 0;) {
      const from = Math.max(0, pos - tail.length);
      const n = readSync(fd, tail, 0, pos - from, from);
      const nl = tail.subarray(0, n).lastIndexOf(10);
      if (nl >= 0) keep = from + nl + 1;
      pos = from;
    }
  } finally {
    closeSync(fd);
  }
  if (keep < size) truncateSync(file, keep);
  return keep;
}

/**
 * Reads whole lines of the segment `file` from byte `start`: at most `maxLines`, and no more
 * bytes than `maxBytes` (but at least one line), never past byte `limit`. A line that is not
 * JSON is skipped (after `onDamaged`). Returns the records and the offset after the last line
 * read. @throws the file system's error (ENOENT when the file is gone).
 */
export function readLines(
  file: string,
  range: { start: number; limit: number; maxLines: number; maxBytes: number },
  onDamaged: () => void,
): { entries: LogRecord[]; end: number } {
  const { start, limit, maxLines, maxBytes } = range;
  const entries: LogRecord[] = [];
  const fd = openSync(file, 'r');
  let from = 0;
  try {
    let want = Math.min(limit - start, Number.isFinite(maxBytes) ? maxBytes : limit - start);
    for (;;) {
      const buf = Buffer.alloc(Math.max(0, want));
      const n = readSync(fd, buf, 0, buf.length, start);
      const text = buf.subarray(0, n);
      for (;;) {
        const nl = text.indexOf(10, from);
        if (nl < 0 || entries.length >= maxLines) break;
        const line = text.subarray(from, nl).toString('utf8');
        from = nl + 1;
        try {
          entries.push(JSON.parse(line) as LogRecord);
        } catch {
          onDamaged();
        }
      }
      // A single line longer than `maxBytes`: read on to its end.
      if (from > 0 || n === 0 || want >= limit - start) break;
      want = limit - start;
    }
  } finally {
    closeSync(fd);
  }
  return { entries, end: start + from };
}

/**
 * The lines of the segment `file` between bytes `from` and `size`, counted per source as
 * `buffer_full` drops; none when the file is gone.
 */
export function countLines(file: string, from: number, size: number): LogDropped[] {
  if (from >= size) return [];
  let text: string;
  try {
    text = readFileSync(file).subarray(from, size).toString('utf8');
  } catch {
    return [];
  }
  const found = new Map<string, LogDropped>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let r: Pick<LogRecord, 'source' | 'source_name'>;
    try {
      r = JSON.parse(line) as LogRecord;
    } catch {
      continue;
    }
    const key = `${r.source}\u0000${r.source_name}`;
    const d = found.get(key);
    if (d) d.count += 1;
    else
      found.set(key, {
        source: r.source,
        source_name: r.source_name,
        reason: 'buffer_full',
        count: 1,
      });
  }
  return [...found.values()];
}
