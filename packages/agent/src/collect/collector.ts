import type { Host } from '../host.js';

/** What a collector gets for one cycle. */
export interface CollectContext {
  readonly host: Host;
  /** The cycle's time (ms since the epoch); every rate of the cycle uses this one instant. */
  readonly nowMs: number;
  /** The configured collection interval in seconds. */
  readonly intervalSeconds: number;
}

/**
 * One source of the check-data document. `collect` returns the value for `key`, or undefined to
 * leave the key out (a source this machine does not have). It throws when the source failed; the
 * cycle then puts `{"error": message}` under the key and goes on with the others. A collector
 * keeps what it needs between cycles (previous counters for rates) in its own closure.
 */
export interface Collector {
  /** The document key this collector fills. */
  readonly key: string;
  /** The `config.ini` switch that turns it off, when it has one. */
  readonly toggle?: string;
  collect(ctx: CollectContext): Promise<unknown>;
}

/** How one collector did in a cycle. */
export interface CollectorOutcome {
  readonly key: string;
  readonly ok: boolean;
  readonly durationMs: number;
  readonly error?: string;
}

/**
 * Runs every collector concurrently and assembles the document. A collector that throws gets
 * `{"error": "…"}` under its key; a collector that returns undefined leaves its key out.
 */
export async function runCollectors(
  collectors: readonly Collector[],
  ctx: CollectContext,
): Promise<{ document: Record<string, unknown>; outcomes: CollectorOutcome[] }> {
  const settled = await Promise.all(
    collectors.map(async (c) => {
      const t0 = performance.now();
      try {
        const value = await c.collect(ctx);
        return { c, value, ok: true as const, ms: performance.now() - t0 };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        return { c, error: message, ok: false as const, ms: performance.now() - t0 };
      }
    }),
  );
  const document: Record<string, unknown> = {};
  const outcomes: CollectorOutcome[] = [];
  for (const s of settled) {
    if (s.ok) {
      if (s.value !== undefined) document[s.c.key] = s.value;
      outcomes.push({ key: s.c.key, ok: true, durationMs: s.ms });
    } else {
      document[s.c.key] = { error: s.error };
      outcomes.push({ key: s.c.key, ok: false, durationMs: s.ms, error: s.error });
    }
  }
  return { document, outcomes };
}
