import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { DEFAULT_MAX_ATTEMPTS, type JobEnqueuer } from './model.js';

/**
 * The `jobs` table's queries; pass a transaction to queue within it. `now` stamps the rows.
 */
export const createJobStore = (db: Kysely<Database>, now: () => number = Date.now) => {
  const enqueuer: JobEnqueuer = {
    async enqueue(job) {
      const t = now();
      const id = randomUUID();
      // The only unique index a new row can hit is the unfinished jobs' dedup key.
      const r = await db
        .insertInto('jobs')
        .values({
          id,
          kind: job.kind,
          payload: JSON.stringify(job.payload ?? {}),
          state: 'queued',
          attempts: 0,
          max_attempts: job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
          run_at: job.runAt ?? t,
          dedup_key: job.dedupKey ?? null,
          created_at: t,
          updated_at: t,
        })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0 ? id : undefined;
    },
  };
  return { ...enqueuer };
};

/** The job store. */
export type JobStore = ReturnType<typeof createJobStore>;
