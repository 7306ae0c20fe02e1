import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

/** One buffered document. */
export interface SpoolEntry {
  /** Position in send order; increases by one per document, across restarts. */
  readonly seq: number;
  /** When the agent collected it (epoch ms). */
  readonly collectedAt: number;
  readonly bytes: number;
}

/** How much a spool may hold before its oldest documents are dropped. */
export interface SpoolLimits {
  maxBytes: number;
  maxAgeMs: number;
}

const NAME = /^(\d{16})-(\d{1,16})\.json$/;
const nameOf = (e: { seq: number; collectedAt: number }) =>
  `${String(e.seq).padStart(16, '0')}-${e.collectedAt}.json`;

/**
 * Documents that could not be sent yet, one file each in `dir`, sent oldest first. A document is
 * written (and synced) before `append` returns and deleted only when `ack` says the server took
 * it, so a crash or restart loses nothing within the limits. When a limit is exceeded the oldest
 * documents are dropped and counted.
 */
export class Spool {
  private readonly entries: SpoolEntry[] = [];
  private totalBytes = 0;
  private nextSeq = 1;
  /** Documents dropped because a limit was exceeded, since this process started. */
  dropped = 0;

  constructor(
    readonly dir: string,
    private readonly limits: SpoolLimits,
    private readonly now: () => number = Date.now,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(dir)) {
      const m = NAME.exec(name);
      if (!m) {
        // A `.tmp` left by a crash mid-write was never acknowledged to anyone: remove it.
        if (name.endsWith('.tmp')) unlinkSync(path.join(dir, name));
        continue;
      }
      const bytes = statSync(path.join(dir, name)).size;
      this.entries.push({ seq: Number(m[1]), collectedAt: Number(m[2]), bytes });
      this.totalBytes += bytes;
    }
    this.entries.sort((a, b) => a.seq - b.seq);
    const last = this.entries[this.entries.length - 1];
    if (last) this.nextSeq = last.seq + 1;
    this.enforce();
  }

  /** Number of buffered documents. */
  get length(): number {
    return this.entries.length;
  }

  /** Bytes on disk. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Buffers a document (JSON text); durable when this returns. */
  append(collectedAt: number, text: string): SpoolEntry {
    const entry = { seq: this.nextSeq++, collectedAt, bytes: Buffer.byteLength(text) };
    const file = path.join(this.dir, nameOf(entry));
    const tmp = `${file}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    this.entries.push(entry);
    this.totalBytes += entry.bytes;
    this.enforce();
    return entry;
  }

  /** The oldest buffered document and its text, or undefined when empty. */
  peek(): { entry: SpoolEntry; text: string } | undefined {
    for (;;) {
      const entry = this.entries[0];
      if (!entry) return undefined;
      try {
        return { entry, text: readFileSync(path.join(this.dir, nameOf(entry)), 'utf8') };
      } catch {
        // Removed behind our back: forget it and go on with the next.
        this.forget(entry);
      }
    }
  }

  /** Deletes a document the server has taken. */
  ack(entry: SpoolEntry): void {
    try {
      unlinkSync(path.join(this.dir, nameOf(entry)));
    } catch {
      // Already gone.
    }
    this.forget(entry);
  }

  private forget(entry: SpoolEntry): void {
    const i = this.entries.indexOf(entry);
    if (i < 0) return;
    this.entries.splice(i, 1);
    this.totalBytes -= entry.bytes;
  }

  /** Drops the oldest documents while the spool is over a limit. */
  private enforce(): void {
    const oldestAllowed = this.now() - this.limits.maxAgeMs;
    for (;;) {
      const first = this.entries[0];
      if (!first) return;
      if (this.totalBytes <= this.limits.maxBytes && first.collectedAt >= oldestAllowed) return;
      this.ack(first);
      this.dropped += 1;
    }
  }
}
