import type { LogDropped } from '@vigil/protocol';
import type { LogLine } from './model.js';

/** How fast each source may send, and what happens to its lines beyond that. */
export interface RateLimitOptions {
  /** Lines per second one source may send on average. */
  ratePerSecond: number;
  /** Lines one source may send at once above its rate (the bucket's size). */
  burst: number;
  /** Called with the count of each source's lines dropped by one `admit`. */
  onDropped(d: LogDropped): void;
  /** The agent's log: a warning once per source per minute while it is over its rate. */
  log(line: string): void;
  /** The clock, in milliseconds. */
  now?: () => number;
}

/** A per-source token bucket over log lines. */
export interface RateLimiter {
  /**
   * The lines within their sources' rates, in their order; the others are dropped and counted
   * (`rate_limited`, through `onDropped`).
   */
  admit(lines: readonly LogLine[]): LogLine[];
}

interface Bucket {
  tokens: number;
  at: number;
  /** Lines dropped since the last warning, and when that warning was. */
  unreported: number;
  warnedAt: number;
}

/** How many idle sources' buckets are kept before full ones are forgotten. */
const MAX_IDLE_BUCKETS = 1_000;
const WARN_EVERY_MS = 60_000;

/**
 * A rate limiter with one token bucket per source (`source` and `source_name`: a unit, a file, a
 * container), so that one noisy source cannot crowd the others out of the buffer and the pushes.
 * Each bucket holds `burst` tokens and refills at `ratePerSecond`; a line takes one token.
 */
export function createRateLimiter(opts: RateLimitOptions): RateLimiter {
  const now = opts.now ?? Date.now;
  const buckets = new Map<string, Bucket>();

  const refill = (b: Bucket, t: number) => {
    b.tokens = Math.min(opts.burst, b.tokens + ((t - b.at) / 1000) * opts.ratePerSecond);
    b.at = t;
  };

  /** Forgets buckets that are full again: a new one would start the same. */
  const prune = (t: number) => {
    for (const [k, b] of buckets) {
      refill(b, t);
      if (b.tokens >= opts.burst && b.unreported === 0) buckets.delete(k);
    }
  };

  return {
    admit(lines) {
      const t = now();
      if (buckets.size > MAX_IDLE_BUCKETS) prune(t);
      const kept: LogLine[] = [];
      const dropped = new Map<string, LogDropped>();
      for (const line of lines) {
        const key = `${line.source}\u0000${line.source_name}`;
        let b = buckets.get(key);
        if (!b) {
          b = { tokens: opts.burst, at: t, unreported: 0, warnedAt: -Infinity };
          buckets.set(key, b);
        } else if (b.at !== t) refill(b, t);
        if (b.tokens >= 1) {
          b.tokens -= 1;
          kept.push(line);
          continue;
        }
        b.unreported += 1;
        const d = dropped.get(key);
        if (d) d.count += 1;
        else
          dropped.set(key, {
            source: line.source,
            source_name: line.source_name,
            reason: 'rate_limited',
            count: 1,
          });
      }
      for (const [key, d] of dropped) {
        opts.onDropped(d);
        const b = buckets.get(key)!;
        if (t - b.warnedAt >= WARN_EVERY_MS) {
          opts.log(
            `logs: ${d.source} ${d.source_name} is over its rate limit (${opts.ratePerSecond} lines/s, ` +
              `burst ${opts.burst}): dropped ${b.unreported} lines` +
              (Number.isFinite(b.warnedAt) ? ' since the last warning' : ''),
          );
          b.warnedAt = t;
          b.unreported = 0;
        }
      }
      return kept;
    },
  };
}
