import type { LogStore } from './store.js';

/** Lines deleted per transaction: a bounded write that never holds the database for long. */
export const RETENTION_BATCH = 5_000;
/** Most transactions one retention run makes; the next run goes on. */
const MAX_BATCHES_PER_RUN = 200;

/** The retention settings of the log store. */
export interface LogRetentionPolicy {
  /** Lines written longer ago than this are deleted, ms. */
  maxAgeMs: number;
  /** Past this many bytes of messages and fields, the oldest lines are deleted. */
  maxBytes: number;
  /** How long a batch id is remembered (a resent batch older than that is stored again), ms. */
  batchMemoryMs: number;
}

/**
 * Retention of log lines: by age (their `timestamp`), then by total size (oldest first, by id),
 * each in transactions of at most `RETENTION_BATCH` lines; and the batch ids past their memory.
 * Resolves what one run deleted.
 */
export function createLogRetention(deps: {
  store: Pick<LogStore, 'deleteOlderThan' | 'deleteOldest' | 'stats' | 'forgetBatches'>;
  policy: LogRetentionPolicy;
  now: () => number;
}) {
  const { store, policy } = deps;
  return {
    /** One run: deletes what is due, up to a bound of transactions. */
    async run(): Promise<{ byAge: number; bySize: number; batches: number }> {
      const now = deps.now();
      let byAge = 0;
      let bySize = 0;
      let turns = 0;
      for (; turns < MAX_BATCHES_PER_RUN; turns += 1) {
        const gone = await store.deleteOlderThan(now - policy.maxAgeMs, RETENTION_BATCH);
        byAge += gone.entries;
        if (gone.entries < RETENTION_BATCH) break;
      }
      for (; turns < MAX_BATCHES_PER_RUN; turns += 1) {
        const { bytes } = await store.stats();
        if (bytes <= policy.maxBytes) break;
        const gone = await store.deleteOldest(bytes - policy.maxBytes, RETENTION_BATCH);
        bySize += gone.entries;
        if (gone.entries === 0) break;
      }
      const batches = await store.forgetBatches(now - policy.batchMemoryMs);
      return { byAge, bySize, batches };
    },
  };
}
