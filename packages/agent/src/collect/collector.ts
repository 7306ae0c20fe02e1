import type {
  CheckData,
  CollectCycle,
  CollectorError,
  Collector as CollectorContract,
  CollectorOutcome,
} from '@vigil/protocol';
import type { Host } from '../host.js';

export type { CollectorOutcome };

/** What a collector gets for one cycle: the protocol's cycle, over this agent's `Host`. */
export type CollectContext = CollectCycle<Host>;

/**
 * The protocol's collector contract for the document key `K`, reading this agent's `Host`. The
 * default, every key, is the type of a list of collectors.
 */
export type Collector<K extends keyof CheckData = keyof CheckData> = CollectorContract<K, Host>;

/**
 * A collector of a document key that the protocol's `CheckData` schema does not describe (yet):
 * `ntp`, which the openITCOCKPIT agent 3.1 sends too. Its value goes into the document as it is.
 * Once the schema has the key, its collector becomes a `Collector<'ntp'>` and this type goes.
 */
export interface UndescribedCollector {
  readonly key: 'ntp';
  readonly toggle?: string;
  collect(ctx: CollectContext): Promise<Readonly<Record<string, unknown>> | undefined>;
}

/** Any collector the runner accepts. */
export type AnyCollector = Collector | UndescribedCollector;

/**
 * Runs every collector concurrently and assembles the document. A collector that throws gets
 * `{"error": "…"}` under its key; a collector that returns undefined leaves its key out.
 */
export async function runCollectors(
  collectors: readonly AnyCollector[],
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
      document[s.c.key] = { error: s.error } satisfies CollectorError;
      outcomes.push({ key: s.c.key, ok: false, durationMs: s.ms, error: s.error });
    }
  }
  return { document, outcomes };
}
