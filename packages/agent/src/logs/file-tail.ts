import { type FileHandle, open } from 'node:fs/promises';
import { LOG_MESSAGE_MAX } from '@vigil/protocol/log-levels';
import { type JoinedEntry, LineJoiner } from './multiline.js';

/** Bytes read from a file per read call. */
const CHUNK_BYTES = 64 * 1024;
/** The most bytes of one line kept: every character of the longest message, 4 bytes each. */
export const LINE_MAX_BYTES = LOG_MESSAGE_MAX * 4;

/** An entry a tail produced, with the tail and the file generation it came from. */
export interface TailEntry extends JoinedEntry {
  /** The tail that read it. */
  tail: FileTail;
  /** The tail's truncation count when it was read (an older one is past a truncation). */
  generation: number;
  /** When the entry's last bytes were read, epoch milliseconds. */
  readAt: number;
}

/**
 * One open log file being followed: its descriptor (kept open across a rename, so a rotated file
 * is read to its end), its inode, how far it was read, the bytes of a line not yet complete and
 * the multi-line joiner. `committed` is the offset up to which the sink took its lines.
 */
export class FileTail {
  /** Next byte offset to read. */
  pos: number;
  /** Offset up to which every line was taken by the sink; what is persisted. */
  committed: number;
  /** Times the file was seen truncated. */
  generation = 0;
  /** Entries read but not yet taken by the sink. */
  queued = 0;
  /** When bytes were last read, epoch milliseconds. */
  lastDataAt: number;
  /** Whether the last read reached the end of the file. */
  atEnd = false;
  /** True once the file was renamed away or deleted: it is read to its end, then closed. */
  draining = false;
  private partial: Buffer = Buffer.alloc(0);
  private overflow = false;
  private readonly joiner: LineJoiner;
  private readonly buf = Buffer.allocUnsafe(CHUNK_BYTES);

  private constructor(
    /** The path the file is followed under (its `source_name`). */
    public path: string,
    private readonly fd: FileHandle,
    /** The file's inode number, as text (64-bit safe). */
    readonly ino: string,
    start: number,
    multilineStart: RegExp | undefined,
    now: number,
  ) {
    this.pos = start;
    this.committed = start;
    this.lastDataAt = now;
    this.joiner = new LineJoiner(multilineStart);
  }

  /**
   * Opens `file` for following from byte `start` (or, with `start` 'end', from its current end).
   * Returns undefined when it cannot be opened or is not a regular file.
   */
  static async open(
    file: string,
    start: number | 'end',
    multilineStart: RegExp | undefined,
    now: number,
  ): Promise<FileTail | undefined> {
    let fd: FileHandle;
    try {
      fd = await open(file, 'r');
    } catch {
      return undefined;
    }
    const st = await fd.stat({ bigint: true });
    if (!st.isFile()) {
      await fd.close();
      return undefined;
    }
    const size = Number(st.size);
    const at = start === 'end' ? size : start <= size ? start : 0;
    return new FileTail(file, fd, st.ino.toString(), at, multilineStart, now);
  }

  /** Whether a line is held: bytes of an incomplete line, or an open multi-line entry. */
  get holding(): boolean {
    return this.partial.length > 0 || this.overflow || this.joiner.pending;
  }

  /** The file's current size through its descriptor (a renamed file's too). */
  async size(): Promise<number> {
    return Number((await this.fd.stat({ bigint: true })).size);
  }

  /**
   * Starts over at offset 0 after the file was truncated in place (copytruncate): what was held
   * is closed as entries that count as position 0 of the new content.
   */
  truncated(now: number): TailEntry[] {
    const out = this.closeHeld(now, 0);
    this.generation += 1;
    this.pos = 0;
    return out;
  }

  /**
   * Reads what was appended since the last call, at most `maxBytes`, and returns the entries it
   * completed. Sets `atEnd` when the read reached the end of the file.
   */
  async read(maxBytes: number, now: number): Promise<TailEntry[]> {
    const out: TailEntry[] = [];
    let budget = maxBytes;
    this.atEnd = false;
    while (budget > 0) {
      const { bytesRead } = await this.fd.read(this.buf, 0, CHUNK_BYTES, this.pos);
      if (bytesRead === 0) {
        this.atEnd = true;
        break;
      }
      this.lastDataAt = now;
      this.take(this.buf.subarray(0, bytesRead), now, out);
      budget -= bytesRead;
    }
    return out;
  }

  /**
   * Closes what was held after a quiet time: an open multi-line entry after `multilineMs`, and an
   * incomplete last line (a writer that never ended it) after `partialMs`, as an entry of its own.
   */
  quiet(now: number, multilineMs: number, partialMs: number): TailEntry[] {
    const idle = now - this.lastDataAt;
    if ((this.partial.length > 0 || this.overflow) && idle >= partialMs)
      return this.closeHeld(now, this.pos);
    if (this.joiner.pending && idle >= multilineMs)
      return this.entries([this.joiner.flush()!], now);
    return [];
  }

  /** Closes the descriptor. */
  async close(): Promise<void> {
    await this.fd.close().catch(() => undefined);
  }

  /** Turns held bytes and the open entry into entries ending at `end`. */
  private closeHeld(now: number, end: number): TailEntry[] {
    const out: JoinedEntry[] = [];
    if (this.partial.length > 0 || this.overflow) {
      out.push(...this.joiner.push(this.decode(this.partial), end));
      this.partial = Buffer.alloc(0);
      this.overflow = false;
    }
    const open = this.joiner.flush();
    if (open) out.push({ ...open, end });
    return this.entries(out, now);
  }

  private entries(joined: JoinedEntry[], now: number): TailEntry[] {
    this.queued += joined.length;
    return joined.map((e) => ({ ...e, tail: this, generation: this.generation, readAt: now }));
  }

  private decode(bytes: Buffer): string {
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 0x0d) end -= 1;
    return bytes.toString('utf8', 0, end);
  }

  /** Splits one chunk read at `this.pos` into lines; keeps the incomplete rest. */
  private take(chunk: Buffer, now: number, out: TailEntry[]): void {
    let from = 0;
    const chunkStart = this.pos;
    this.pos += chunk.length;
    if (this.overflow) {
      // The rest of an over-long line: skipped up to its newline.
      const nl = chunk.indexOf(0x0a);
      if (nl < 0) return;
      out.push(
        ...this.entries(this.joiner.push(this.decode(this.partial), chunkStart + nl + 1), now),
      );
      this.partial = Buffer.alloc(0);
      this.overflow = false;
      from = nl + 1;
    }
    const data =
      this.partial.length > 0
        ? Buffer.concat([this.partial, chunk.subarray(from)])
        : chunk.subarray(from);
    const base = chunkStart + from - this.partial.length;
    let start = 0;
    for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, start)) {
      const line = data.subarray(start, Math.min(nl, start + LINE_MAX_BYTES));
      out.push(...this.entries(this.joiner.push(this.decode(line), base + nl + 1), now));
      start = nl + 1;
    }
    const rest = data.subarray(start);
    if (rest.length > LINE_MAX_BYTES) {
      this.partial = Buffer.from(rest.subarray(0, LINE_MAX_BYTES));
      this.overflow = true;
    } else this.partial = Buffer.from(rest);
  }
}
