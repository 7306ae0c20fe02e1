import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { LogDropped, LogRecord } from '@vigil/protocol';
import { LOG_LEVELS, LOG_MESSAGE_MAX, type LogLevel } from '@vigil/protocol/log-levels';
import { writeFileAtomic } from '../files.js';
import type { LogLine } from './model.js';
import { countLines, cutTornLine, readLines } from './segment-file.js';

/** A batch the buffer hands the shipper: the lines of one byte range of one segment. */
export interface LogBatch {
  /** The push's `batch_id`; the same for every resend of this batch, across restarts. */
  readonly id: string;
  readonly entries: LogRecord[];
  /** Drop counts that go with this batch (they are counted once the server takes it). */
  readonly dropped: LogDropped[];
  /** The segment and byte range the entries come from. */
  readonly segment: number;
  readonly start: number;
  readonly end: number;
}

/** Where a log buffer lives and how large it may grow. */
export interface LogBufferOptions {
  /** The buffer's directory (created, mode 0700); other files and folders in it are left alone. */
  dir: string;
  /** Most bytes of segments kept; beyond, the oldest segments are dropped and their lines counted. */
  maxBytes: number;
  /** Size at which a new segment starts (default an eighth of `maxBytes`, 64 KiB to 16 MiB). */
  segmentBytes?: number;
  log?: (line: string) => void;
}

/** What the buffer keeps in `state.json`: how far the server has taken the lines, and the batch in flight. */
interface BufferState {
  /** Random, made with the buffer: batch ids stay unique when a buffer is deleted and made anew. */
  buffer_id: string;
  /** Batches formed so far; numbers the next batch id. */
  batches: number;
  /** Everything before this segment and offset was taken by the server (or dropped). */
  sent: { segment: number; offset: number };
  /** The batch sent but not answered yet: after a restart it is resent as it was, under its id. */
  inflight?: { id: string; segment: number; start: number; end: number; dropped: LogDropped[] };
  /** Drop counts not yet in a batch. */
  dropped: LogDropped[];
}

const SEGMENT = /^(\d{16})\.log$/;
const STATE = 'state.json';
const segmentName = (seq: number) => `${String(seq).padStart(16, '0')}.log`;
/** Most drop counts one push carries (the protocol's limit). */
const MAX_DROPPED = 1_000;
const LEVELS = new Set<string>(LOG_LEVELS);

/**
 * A line as it is pushed, cut to the protocol's limits: the message to `LOG_MESSAGE_MAX`
 * characters, at most 64 fields (names of 128, values of 4,096 characters), an integer
 * timestamp, a non-empty source name of at most 512 characters.
 */
export function recordOf(line: LogLine): LogRecord {
  const fields: Record<string, string> = {};
  let n = 0;
  for (const [k, v] of Object.entries(line.fields ?? {})) {
    if (n === 64) break;
    if (k === '' || typeof v !== 'string') continue;
    fields[k.slice(0, 128)] = v.slice(0, 4_096);
    n += 1;
  }
  const ts = Math.round(line.timestamp);
  return {
    timestamp: Number.isFinite(ts) && ts > 0 ? ts : Date.now(),
    source: line.source,
    source_name: line.source_name.slice(0, 512) || line.source,
    level: LEVELS.has(line.level) ? line.level : ('info' as LogLevel),
    message: line.message.slice(0, LOG_MESSAGE_MAX),
    ...(n > 0 ? { fields } : {}),
  };
}

const dropKey = (d: Pick<LogDropped, 'source' | 'source_name' | 'reason'>) =>
  `${d.reason}\u0000${d.source}\u0000${d.source_name}`;

/** Adds `more` to the counts in `into` (same source, name and reason summed). */
function mergeDropped(into: LogDropped[], more: readonly LogDropped[]): void {
  const index = new Map(into.map((d, i) => [dropKey(d), i]));
  for (const d of more) {
    const i = index.get(dropKey(d));
    if (i === undefined) {
      index.set(dropKey(d), into.length);
      into.push({ ...d });
    } else into[i] = { ...into[i]!, count: into[i]!.count + d.count };
  }
}

/**
 * The agent's disk buffer of log lines: append-only segment files of JSON lines in `dir`, plus
 * `state.json` (how far the server took them and the batch in flight). `append` resolves once
 * the lines are synced to disk; lines appended at the same time share one sync. The buffer is
 * bounded by bytes: over `maxBytes` its oldest segments are dropped, and their unsent lines are
 * counted per source and reported with the next batch (`buffer_full`). A batch, once formed, is
 * recorded before it is sent, so a resend after a crash carries the same lines under the same id;
 * `markSent` records its end once the server took it. One process uses a buffer at a time.
 */
export class LogBuffer {
  private readonly segments: { seq: number; size: number }[] = [];
  private state: BufferState;
  private totalBytes = 0;
  private readonly segmentBytes: number;
  private handle: FileHandle | undefined;
  private queue: {
    text: string;
    lines: number;
    resolve: () => void;
    reject: (err: Error) => void;
  }[] = [];
  private flushing: Promise<void> | undefined;
  private inflight: LogBatch | undefined;
  private closed = false;
  private readonly listeners = new Set<(lines: number) => void>();
  private readonly log: (line: string) => void;

  /** Opens (or creates) the buffer in `opts.dir`; a line torn by a crash is cut off. */
  constructor(private readonly opts: LogBufferOptions) {
    this.log = opts.log ?? (() => undefined);
    this.segmentBytes =
      opts.segmentBytes ?? Math.min(16 * 1024 ** 2, Math.max(64 * 1024, opts.maxBytes / 8));
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(opts.dir)) {
      const m = SEGMENT.exec(name);
      if (m)
        this.segments.push({ seq: Number(m[1]), size: statSync(this.file(Number(m[1]))).size });
    }
    this.segments.sort((a, b) => a.seq - b.seq);
    const last = this.segments[this.segments.length - 1];
    // A write that a crash cut short was never acknowledged: its partial line goes.
    if (last && last.size > 0) {
      const keep = cutTornLine(this.file(last.seq), last.size);
      if (keep < last.size)
        this.log(`logs: cut ${last.size - keep} bytes of a line torn by a crash from the buffer`);
      last.size = keep;
    }
    for (const s of this.segments) this.totalBytes += s.size;
    this.state = this.readState();
    if (this.state.inflight) this.inflight = this.reload(this.state.inflight);
    this.skipSent();
    this.persist();
  }

  /** Bytes of segments on disk. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Whether there is anything to send: a batch in flight, unsent lines or drop counts. */
  hasUnsent(): boolean {
    if (this.inflight || this.state.dropped.length > 0) return true;
    const { segment, offset } = this.state.sent;
    return this.segments.some((s) => s.seq > segment || (s.seq === segment && s.size > offset));
  }

  /**
   * Calls `listener` with the number of lines after every sync of appended lines, and with 0
   * when drops were counted; returns a function that removes it.
   */
  onAppend(listener: (lines: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Buffers lines; resolves once they are synced to disk, rejects when they could not be written
   * (the disk is full) or the buffer is closed. Lines appended at once keep their order.
   */
  append(lines: readonly LogLine[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the log buffer is closed'));
    if (lines.length === 0) return Promise.resolve();
    let text = '';
    for (const l of lines) text += `${JSON.stringify(recordOf(l))}\n`;
    return new Promise((resolve, reject) => {
      this.queue.push({ text, lines: lines.length, resolve, reject });
      this.kick();
    });
  }

  /** Starts the flush loop unless it runs; restarts it for lines queued as it was ending. */
  private kick(): void {
    if (this.flushing) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }

  /** Counts lines dropped before they reached the buffer (a source over its rate). */
  countDropped(d: LogDropped): void {
    if (d.count <= 0) return;
    mergeDropped(this.state.dropped, [d]);
    for (const l of this.listeners) l(0);
  }

  /**
   * The batch to send next: the one in flight (unchanged, same id) when there is one, else a
   * new one of at most `maxLines` lines and about `maxBytes` bytes of JSON from where the server
   * stopped, with the drop counts so far; recorded on disk before it is returned. Undefined when
   * there is nothing to send.
   */
  nextBatch(maxLines: number, maxBytes: number): LogBatch | undefined {
    if (this.inflight) return this.inflight;
    if (this.closed) return undefined;
    this.skipSent();
    const { segment, offset } = this.state.sent;
    const seg = this.segments.find((s) => s.seq === segment);
    let entries: LogRecord[] = [];
    let end = offset;
    if (seg && seg.size > offset)
      try {
        ({ entries, end } = this.read(seg, offset, maxLines, maxBytes));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        // Deleted behind the buffer's back: its lines are gone; go on with the next segment.
        this.log(`logs: buffer segment ${seg.seq} disappeared; its unsent lines are lost`);
        this.segments.splice(this.segments.indexOf(seg), 1);
        this.totalBytes -= seg.size;
        return this.nextBatch(maxLines, maxBytes);
      }
    const dropped = this.state.dropped.splice(0, MAX_DROPPED);
    if (entries.length === 0 && dropped.length === 0 && end === offset) return undefined;
    const n = ++this.state.batches;
    // The position makes the id readable; the batch number alone keeps it unique.
    let id = `${this.state.buffer_id}-${n}-${segment}.${offset}.${end}`;
    if (id.length > 64) id = `${this.state.buffer_id}-${n}`;
    this.inflight = { id, entries, dropped, segment, start: offset, end };
    this.state.inflight = { id, segment, start: offset, end, dropped };
    this.persist();
    return this.inflight;
  }

  /**
   * Replaces the batch in flight with one of its first `lines` lines under a new id (the server
   * refused it as too large, so it stored nothing of it). Returns the new batch.
   */
  shrink(batch: LogBatch, lines: number): LogBatch | undefined {
    if (this.inflight?.id !== batch.id) return undefined;
    this.state.dropped.unshift(...batch.dropped);
    this.inflight = undefined;
    delete this.state.inflight;
    // The bytes of the first `lines` lines, the same serialisation as in the segment.
    let bytes = 0;
    for (const e of batch.entries.slice(0, lines))
      bytes += Buffer.byteLength(JSON.stringify(e)) + 1;
    return this.nextBatch(lines, bytes);
  }

  /** Records that the server took `batch`: its lines and drop counts are not sent again. */
  markSent(batch: LogBatch): void {
    if (this.closed || this.inflight?.id !== batch.id) return;
    this.inflight = undefined;
    delete this.state.inflight;
    const { sent } = this.state;
    if (batch.segment > sent.segment || (batch.segment === sent.segment && batch.end > sent.offset))
      this.state.sent = { segment: batch.segment, offset: batch.end };
    this.skipSent();
    this.persist();
  }

  /** Waits for pending appends, then closes the file; later appends are refused. */
  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
    this.closed = true;
    await this.handle?.close();
    this.handle = undefined;
  }

  private file(seq: number): string {
    return path.join(this.opts.dir, segmentName(seq));
  }

  /** Reads whole lines of `seg` (see `readLines`), logging damaged ones. */
  private read(
    seg: { seq: number; size: number },
    start: number,
    maxLines: number,
    maxBytes: number,
    limit = seg.size,
  ): { entries: LogRecord[]; end: number } {
    return readLines(this.file(seg.seq), { start, limit, maxLines, maxBytes }, () =>
      this.log(`logs: skipped a damaged line in buffer segment ${seg.seq}`),
    );
  }

  private readState(): BufferState {
    const file = path.join(this.opts.dir, STATE);
    const fresh = (): BufferState => ({
      buffer_id: randomBytes(6).toString('hex'),
      batches: 0,
      sent: { segment: this.segments[0]?.seq ?? 1, offset: 0 },
      dropped: [],
    });
    if (!existsSync(file)) return fresh();
    try {
      const s = JSON.parse(readFileSync(file, 'utf8')) as BufferState;
      if (typeof s.buffer_id !== 'string' || typeof s.sent?.segment !== 'number')
        throw new Error('missing fields');
      s.dropped ??= [];
      return s;
    } catch (err) {
      // Sending from the oldest segment again may repeat lines, but loses none.
      this.log(`logs: ${file} is damaged (${(err as Error).message}); starting a new state`);
      return fresh();
    }
  }

  /** The recorded batch in flight, read again from its segment; undefined when it was dropped. */
  private reload(f: NonNullable<BufferState['inflight']>): LogBatch | undefined {
    const seg = this.segments.find((s) => s.seq === f.segment);
    if (!seg || seg.size < f.end) {
      this.log(`logs: the unanswered batch ${f.id} is no longer in the buffer`);
      mergeDropped(this.state.dropped, f.dropped);
      delete this.state.inflight;
      return undefined;
    }
    const { entries } = this.read(seg, f.start, Infinity, Infinity, f.end);
    return {
      id: f.id,
      entries,
      dropped: f.dropped,
      segment: f.segment,
      start: f.start,
      end: f.end,
    };
  }

  /** Moves the sent position past dropped and fully sent segments, deleting the sent ones. */
  private skipSent(): void {
    const { sent } = this.state;
    for (;;) {
      const first = this.segments[0];
      if (!first) return;
      if (first.seq < sent.segment) {
        this.removeSegment();
        continue;
      }
      if (first.seq > sent.segment) {
        this.state.sent = { segment: first.seq, offset: 0 };
        return;
      }
      const fullySent = sent.offset >= first.size && this.segments.length > 1;
      if (!fullySent || this.inflight?.segment === first.seq) return;
      this.removeSegment();
      this.state.sent = { segment: this.segments[0]!.seq, offset: 0 };
    }
  }

  private removeSegment(): void {
    const s = this.segments.shift()!;
    this.totalBytes -= s.size;
    try {
      unlinkSync(this.file(s.seq));
    } catch {
      // Already gone.
    }
  }

  private persist(): void {
    writeFileAtomic(path.join(this.opts.dir, STATE), `${JSON.stringify(this.state)}\n`, {
      mode: 0o600,
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const items = this.queue.splice(0);
      try {
        await this.write(Buffer.from(items.map((i) => i.text).join('')));
      } catch (err) {
        for (const i of items) i.reject(err as Error);
        continue;
      }
      for (const i of items) i.resolve();
      const count = items.reduce((a, i) => a + i.lines, 0);
      for (const l of this.listeners) l(count);
    }
  }

  /** Appends and syncs `data` to the newest segment (a new one when it is full), then enforces the bound. */
  private async write(data: Buffer): Promise<void> {
    let seg = this.segments[this.segments.length - 1];
    if (!seg || seg.size >= this.segmentBytes || !this.handle) {
      await this.handle?.close();
      this.handle = undefined;
      if (!seg || seg.size >= this.segmentBytes) {
        // Past the sent position even when every segment is gone, so nothing new counts as sent.
        const next = { seq: (seg?.seq ?? this.state.sent.segment) + 1, size: 0 };
        this.handle = await open(this.file(next.seq), 'a', 0o600);
        this.syncDir();
        this.segments.push(next);
        seg = next;
      } else this.handle = await open(this.file(seg.seq), 'a', 0o600);
    }
    try {
      await this.handle.write(data);
      await this.handle.datasync();
    } catch (err) {
      // Leave no partial write behind: later lines must start where this one did.
      await this.handle.truncate(seg.size).catch(() => undefined);
      throw err;
    }
    seg.size += data.length;
    this.totalBytes += data.length;
    try {
      this.enforce();
    } catch (err) {
      // The lines are on disk: the append succeeded even if the bound could not be kept now.
      this.log(`logs: could not drop the oldest buffered lines: ${(err as Error).message}`);
    }
  }

  /** Syncs the directory, so that a new segment's name survives a crash. */
  private syncDir(): void {
    try {
      const fd = openSync(this.opts.dir, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch {
      // Some file systems refuse to sync a directory; the data itself is synced.
    }
  }

  /** Drops the oldest segments (never the newest) while the buffer is over its limit. */
  private enforce(): void {
    let changed = false;
    while (this.totalBytes > this.opts.maxBytes && this.segments.length > 1) {
      const seg = this.segments[0]!;
      const { sent } = this.state;
      let from = seg.seq === sent.segment ? sent.offset : 0;
      // The batch in flight is still sent from memory; only what follows it is lost.
      if (this.inflight?.segment === seg.seq) from = Math.max(from, this.inflight.end);
      const lost = countLines(this.file(seg.seq), from, seg.size);
      mergeDropped(this.state.dropped, lost);
      this.removeSegment();
      if (sent.segment <= seg.seq) this.state.sent = { segment: this.segments[0]!.seq, offset: 0 };
      const total = lost.reduce((a, d) => a + d.count, 0);
      if (total > 0)
        this.log(
          `logs: the buffer is full (${this.opts.maxBytes} bytes): dropped ${total} oldest lines`,
        );
      changed = true;
    }
    if (changed) this.persist();
  }
}
