import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { LogPush } from '@vigil/protocol';
import { errorText, type HttpAnswer } from '../push/http.js';
import { backoffMs } from '../push/pusher.js';
import type { LogBatch, LogBuffer } from './buffer.js';

const gzipAsync = promisify(gzip);

/** How the shipper reaches the server: the agent's mutual-TLS connection. */
export interface LogPoster {
  /** Whether the connection can send yet (enrolled and approved); until then lines wait. */
  ready(): boolean;
  /**
   * Posts one gzipped `LogPush` (JSON) to `POST /api/v1/agents/{id}/logs` with
   * `Content-Encoding: gzip`. @throws TransportError when no answer came.
   */
  post(gzippedJson: Buffer): Promise<HttpAnswer>;
}

/** What the shipper needs. */
export interface LogShipperOptions {
  buffer: LogBuffer;
  poster: LogPoster;
  /** Most lines one push carries. */
  maxLines: number;
  /** About the most bytes of JSON lines one push carries (default 4 MiB). */
  maxBytes?: number;
  /** How long new lines wait for more to fill their push, in milliseconds. */
  delayMs: number;
  log(line: string): void;
  /** First and longest wait before a failed push is tried again (default 1 s and 60 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  /** How long `stop` waits for a push in flight before it returns (default 5 s). */
  stopWaitMs?: number;
}

/** Counters of a shipper, for logs and tests. */
export interface LogShipperStats {
  /** Batches and lines the server took (a duplicate batch counts: it was taken before). */
  batches: number;
  lines: number;
  failedAttempts: number;
  /** Batches the server refused for good (dropped after a log line). */
  refused: number;
}

/** A running shipper. */
export interface LogShipper {
  statistics(): LogShipperStats;
  /** Stops sending; the batch in flight, if unanswered, is sent again after the next start. */
  stop(): Promise<void>;
}

/** About the most bytes of JSON lines in one push. */
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

/**
 * Sends the buffer's lines to the server, oldest first, one batch at a time, gzipped. A batch
 * is marked sent only when the server answers 200 (it answers once the lines are committed);
 * without an answer, or with any other status but a final refusal, the same batch (same id) is
 * sent again with exponential backoff and jitter while the buffer goes on filling. When the
 * shipper has caught up, new lines wait up to `delayMs` (or until `maxLines` have come) so that
 * a push carries many lines; a backlog goes out batch after batch.
 */
export function startLogShipper(opts: LogShipperOptions): LogShipper {
  const { buffer, poster, log } = opts;
  const maxBytes = opts.maxBytes ?? MAX_BATCH_BYTES;
  const stats: LogShipperStats = { batches: 0, lines: 0, failedAttempts: 0, refused: 0 };
  let stopped = false;
  let failures = 0;
  let fresh = 0;
  let waiter: { done: () => void; onData: boolean } | undefined;

  /** Waits `ms` (forever when infinite); new lines end the wait early when `onData`. */
  const sleep = (ms: number, onData: boolean) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        waiter = undefined;
        resolve();
      };
      const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
      waiter = { done, onData };
    });
  const unsubscribe = buffer.onAppend((n) => {
    fresh += n;
    if (waiter?.onData) waiter.done();
  });

  /** Sends one batch; marks it sent, shrinks it, or waits before it is tried again. */
  const send = async (batch: LogBatch): Promise<void> => {
    const push: LogPush = {
      batch_id: batch.id,
      entries: batch.entries,
      ...(batch.dropped.length > 0 ? { dropped: batch.dropped } : {}),
    };
    const body = await gzipAsync(Buffer.from(JSON.stringify(push)));
    let a: HttpAnswer;
    try {
      a = await poster.post(body);
    } catch (err) {
      await failed((err as Error).message);
      return;
    }
    if (a.status === 200) {
      buffer.markSent(batch);
      stats.batches += 1;
      stats.lines += batch.entries.length;
      if (failures > 0)
        log(`logs: the server takes log lines again after ${failures} failed tries`);
      failures = 0;
      return;
    }
    if (a.status === 413 && batch.entries.length > 1) {
      const half = Math.ceil(batch.entries.length / 2);
      log(
        `logs: the server found a push of ${batch.entries.length} lines too large; sending ${half}`,
      );
      buffer.shrink(batch, half);
      return;
    }
    // A batch the server can never take (malformed, too large): kept, it would block the rest.
    if (a.status === 400 || a.status === 413 || a.status === 422) {
      log(
        `logs: the server refused ${batch.entries.length} lines for good, dropped them: ` +
          `HTTP ${a.status}: ${errorText(a)}`,
      );
      buffer.markSent(batch);
      stats.refused += 1;
      return;
    }
    await failed(`HTTP ${a.status}: ${errorText(a)}`);
  };

  const failed = async (reason: string) => {
    if (stopped) return;
    stats.failedAttempts += 1;
    failures += 1;
    const delay = backoffMs(
      failures,
      opts.baseDelayMs ?? 1000,
      opts.maxDelayMs ?? 60_000,
      opts.random ?? Math.random,
    );
    if (failures === 1)
      log(`logs: pushing log lines failed (${reason}); keeping them on disk and retrying`);
    await sleep(delay, false);
  };

  const run = async () => {
    // Lines left from before a start are a backlog: they go at once.
    let caughtUp = false;
    while (!stopped) {
      if (!poster.ready()) {
        await sleep(1000, false);
        continue;
      }
      if (!buffer.hasUnsent()) {
        caughtUp = true;
        fresh = 0;
        await sleep(Infinity, true);
        continue;
      }
      if (caughtUp) {
        const deadline = Date.now() + opts.delayMs;
        while (!stopped && fresh < opts.maxLines && Date.now() < deadline)
          await sleep(deadline - Date.now(), true);
        caughtUp = false;
        if (stopped) return;
      }
      fresh = 0;
      try {
        const batch = buffer.nextBatch(opts.maxLines, maxBytes);
        if (!batch) {
          caughtUp = true;
          continue;
        }
        await send(batch);
      } catch (err) {
        // The buffer's disk failed (full, read-only): wait and try again, as for the server.
        await failed(`the log buffer failed: ${(err as Error).message}`);
      }
    }
  };

  const running = run();

  return {
    statistics: () => ({ ...stats }),
    async stop() {
      stopped = true;
      unsubscribe();
      waiter?.done();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        running,
        new Promise<void>((r) => {
          timer = setTimeout(r, opts.stopWaitMs ?? 5000);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}
