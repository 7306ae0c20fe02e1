import type { Spool, SpoolEntry } from './spool.js';

/** What became of one send. */
export type SendOutcome =
  | { ok: true }
  /** `retry`: keep the document and try again later; else it can never be taken: drop it. */
  | { ok: false; retry: boolean; reason: string };

/** Sends one document (JSON text) to a server. */
export interface Transport {
  /** For log lines, e.g. `https://vigil.example:8443 (agent web-01)`. */
  readonly name: string;
  send(collectedAt: number, text: string): Promise<SendOutcome>;
}

/** Exponential backoff with jitter: attempt n waits between half and all of base·2^(n-1), capped. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number) {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * (0.5 + random() / 2));
}

/** Counters of a pusher, for logs and tests. */
export interface PushStats {
  sent: number;
  failedAttempts: number;
  /** Dropped because the server refused them for good (a bad document). */
  rejected: number;
  /** Dropped because the buffer exceeded its limits (oldest first). */
  dropped: number;
  buffered: number;
}

/**
 * Delivers documents in collection order, each at least once. While the server answers, a
 * document goes straight out from memory; when a send fails, it and every later one are written
 * to the on-disk spool and retried with exponential backoff and jitter, oldest first, until the
 * server takes them.
 */
export class Pusher {
  private readonly memory: { collectedAt: number; text: string }[] = [];
  private attempt = 0;
  private retryAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private pumping: Promise<void> | undefined;
  private stopped = false;
  private outage = false;
  private readonly stats = { sent: 0, failedAttempts: 0, rejected: 0 };

  constructor(
    private readonly spool: Spool,
    private transport: Transport,
    private readonly opts: {
      log: (line: string) => void;
      baseDelayMs?: number;
      maxDelayMs?: number;
      random?: () => number;
      now?: () => number;
    },
  ) {
    if (spool.length > 0) {
      opts.log(
        `push: ${spool.length} buffered documents from before the restart, sending them first`,
      );
      this.kick();
    }
  }

  /** Replaces the transport (new certificate, new credentials). */
  setTransport(t: Transport): void {
    this.transport = t;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Queues a new document for delivery; returns at once. */
  submit(collectedAt: number, text: string): void {
    if (this.stopped) return;
    if (this.spool.length > 0 || this.outage) {
      const before = this.spool.dropped;
      this.spool.append(collectedAt, text);
      if (this.spool.dropped > before)
        this.opts.log(
          `push: buffer limit reached, dropped ${this.spool.dropped - before} oldest documents (${this.spool.dropped} in all)`,
        );
    } else this.memory.push({ collectedAt, text });
    this.kick();
  }

  /** Counters so far. */
  statistics(): PushStats {
    return {
      ...this.stats,
      dropped: this.spool.dropped,
      buffered: this.spool.length + this.memory.length,
    };
  }

  private kick(): void {
    if (this.stopped || this.pumping) return;
    const wait = this.retryAt - this.now();
    if (wait > 0) {
      if (!this.timer)
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.kick();
        }, wait);
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      // Documents may have arrived while the last send was in flight, or a retry is due later.
      if (!this.stopped && this.spool.length + this.memory.length > 0) this.kick();
    });
  }

  /** Moves the in-memory documents to the spool, in order, so that an outage loses nothing. */
  private spoolMemory(): void {
    for (const d of this.memory.splice(0)) this.spool.append(d.collectedAt, d.text);
  }

  private async pump(): Promise<void> {
    while (!this.stopped) {
      let item: { collectedAt: number; text: string; entry?: SpoolEntry } | undefined;
      const spooled = this.spool.peek();
      if (spooled)
        item = { collectedAt: spooled.entry.collectedAt, text: spooled.text, entry: spooled.entry };
      else if (this.memory.length > 0) item = this.memory[0];
      if (!item) return;
      let outcome: SendOutcome;
      try {
        outcome = await this.transport.send(item.collectedAt, item.text);
      } catch (err) {
        outcome = { ok: false, retry: true, reason: (err as Error).message };
      }
      if (outcome.ok || !outcome.retry) {
        if (item.entry) this.spool.ack(item.entry);
        else this.memory.shift();
        if (outcome.ok) this.stats.sent += 1;
        else {
          this.stats.rejected += 1;
          this.opts.log(
            `push: the server refused a document for good, dropped it: ${outcome.reason}`,
          );
        }
        if (this.outage && outcome.ok) {
          this.outage = false;
          this.opts.log(`push: ${this.transport.name} takes documents again`);
        }
        this.attempt = 0;
        continue;
      }
      this.stats.failedAttempts += 1;
      this.spoolMemory();
      this.attempt += 1;
      const delay = backoffMs(
        this.attempt,
        this.opts.baseDelayMs ?? 1000,
        this.opts.maxDelayMs ?? 60_000,
        this.opts.random ?? Math.random,
      );
      this.retryAt = this.now() + delay;
      if (!this.outage || this.attempt === 1) {
        this.opts.log(
          `push: ${this.transport.name}: ${outcome.reason}; buffering on disk (${this.spool.length} documents), retrying in ${(delay / 1000).toFixed(1)} s`,
        );
      }
      this.outage = true;
      return;
    }
  }

  /** Stops sending; documents not yet delivered are left in the spool for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.pumping;
    this.spoolMemory();
  }
}
