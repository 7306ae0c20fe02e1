import { randomUUID } from 'node:crypto';
import { PostgresAdapter, sql, type Kysely, type Selectable } from 'kysely';
import type { Database } from '../db/schema.js';
import { DEFAULT_MAX_ATTEMPTS, type JobEnqueuer } from './model.js';

/** A `jobs` row as stored. */
export type JobRow = Selectable<Database['jobs']>;

/** A job's state (see migration 017). */
export type JobState = JobRow['state'];

/** What a listing of jobs may be narrowed to. */
export interface JobFilter {
  state?: JobState;
  kind?: string;
  /** Rows strictly after this position in the listing's order (newest first). */
  after?: { createdAt: number; id: string };
  limit: number;
}

/**
 * The `jobs` table's queries; pass a transaction to queue within it. `now` stamps the rows and
 * decides which jobs are due.
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
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  return {
    ...enqueuer,

    /**
     * Takes back running jobs whose lock expired (their worker died or stalled): each such
     * attempt counts as failed; the job is queued again now, or dead when its attempts are used
     * up. Returns how many jobs were taken back.
     */
    async reclaimExpired(): Promise<number> {
      const t = now();
      const expired = (qb: ReturnType<typeof db.updateTable<'jobs'>>) =>
        qb.where('state', '=', 'running').where('locked_until', '<', t);
      const dead = await expired(db.updateTable('jobs'))
        .where((eb) => eb('attempts', '>=', eb.ref('max_attempts')))
        .set({
          state: 'dead',
          locked_by: null,
          locked_until: null,
          last_error: 'the worker running it stopped before it finished (lock expired)',
          updated_at: t,
          finished_at: t,
        })
        .executeTakeFirst();
      const requeued = await expired(db.updateTable('jobs'))
        .set({
          state: 'queued',
          run_at: t,
          locked_by: null,
          locked_until: null,
          last_error: 'the worker running it stopped before it finished (lock expired)',
          updated_at: t,
        })
        .executeTakeFirst();
      return Number(dead.numUpdatedRows) + Number(requeued.numUpdatedRows);
    },

    /**
     * Claims up to `limit` due jobs for `workerId`, locked for `lockMs`, and returns them with
     * their attempt counted. On PostgreSQL concurrent claimers skip each other's rows
     * (`FOR UPDATE SKIP LOCKED`); on SQLite the one statement is the one writer.
     */
    async claim(workerId: string, limit: number, lockMs: number): Promise<JobRow[]> {
      if (limit <= 0) return [];
      const t = now();
      const due = db
        .selectFrom('jobs')
        .select('id')
        .where('state', '=', 'queued')
        .where('run_at', '<=', t)
        .orderBy('run_at')
        .limit(limit);
      const claimed = {
        state: 'running' as const,
        locked_by: workerId,
        locked_until: t + lockMs,
        attempts: sql<number>`attempts + 1`,
        updated_at: t,
      };
      // On PostgreSQL the due rows are picked once, in a materialized CTE: as `id IN (subquery)`
      // the planner may rescan the subquery for every row it updates, and each rescan locks and
      // returns further rows, so a claim of 4 could take the whole queue.
      const rows = postgres
        ? await db
            .with(
              (cte) => cte('due').materialized(),
              () => due.forUpdate().skipLocked(),
            )
            .updateTable('jobs')
            .set(claimed)
            .from('due')
            .whereRef('jobs.id', '=', 'due.id')
            .where('jobs.state', '=', 'queued')
            .returningAll('jobs')
            .execute()
        : await db
            .updateTable('jobs')
            .set(claimed)
            .where('id', 'in', due)
            .where('state', '=', 'queued')
            .returningAll()
            .execute();
      return rows.sort((a, b) => a.run_at - b.run_at);
    },

    /** Marks a job this worker holds succeeded; false when the worker no longer held it. */
    async complete(id: string, workerId: string): Promise<boolean> {
      const t = now();
      const r = await db
        .updateTable('jobs')
        .set({
          state: 'succeeded',
          locked_by: null,
          locked_until: null,
          updated_at: t,
          finished_at: t,
        })
        .where('id', '=', id)
        .where('state', '=', 'running')
        .where('locked_by', '=', workerId)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    /**
     * Records a failed attempt of a job this worker holds: queued again at `retryAt`, or dead
     * when `retryAt` is undefined. False when the worker no longer held it.
     */
    async fail(id: string, workerId: string, error: string, retryAt: number | undefined) {
      const t = now();
      const r = await db
        .updateTable('jobs')
        .set({
          state: retryAt === undefined ? 'dead' : 'queued',
          run_at: retryAt ?? sql<number>`run_at`,
          locked_by: null,
          locked_until: null,
          last_error: error.slice(0, 2000),
          updated_at: t,
          finished_at: retryAt === undefined ? t : null,
        })
        .where('id', '=', id)
        .where('state', '=', 'running')
        .where('locked_by', '=', workerId)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    /** One job, or undefined. */
    async get(id: string): Promise<JobRow | undefined> {
      return db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    },

    /** Jobs newest first, narrowed by `filter`. */
    async list(filter: JobFilter): Promise<JobRow[]> {
      let q = db.selectFrom('jobs').selectAll();
      if (filter.state) q = q.where('state', '=', filter.state);
      if (filter.kind) q = q.where('kind', '=', filter.kind);
      if (filter.after) {
        const { createdAt, id } = filter.after;
        q = q.where((eb) =>
          eb.or([
            eb('created_at', '<', createdAt),
            eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)]),
          ]),
        );
      }
      return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
    },

    /**
     * Queues a dead job, or a queued one waiting after a failure, to run now with its attempts
     * reset. Returns the row after the change, or undefined when the job is not in such a state.
     */
    async retry(id: string): Promise<JobRow | undefined> {
      const t = now();
      return (
        db
          .updateTable('jobs')
          .set({ state: 'queued', attempts: 0, run_at: t, finished_at: null, updated_at: t })
          .where('id', '=', id)
          .where((eb) =>
            eb.or([
              eb('state', '=', 'dead'),
              eb.and([eb('state', '=', 'queued'), eb('attempts', '>', 0)]),
            ]),
          )
          // A dead job's dedup key may be held by a newer unfinished job: the key stays with it.
          .where((eb) =>
            eb.or([
              eb('dedup_key', 'is', null),
              eb('state', '=', 'queued'),
              eb.not(
                eb.exists(
                  eb
                    .selectFrom('jobs as other')
                    .select('other.id')
                    .whereRef('other.dedup_key', '=', 'jobs.dedup_key')
                    .where('other.state', 'in', ['queued', 'running']),
                ),
              ),
            ]),
          )
          .returningAll()
          .executeTakeFirst()
      );
    },

    /** Deletes succeeded jobs finished before `succeededBefore` and dead ones before `deadBefore`. */
    async purge(succeededBefore: number, deadBefore: number): Promise<number> {
      const r = await db
        .deleteFrom('jobs')
        .where((eb) =>
          eb.or([
            eb.and([eb('state', '=', 'succeeded'), eb('finished_at', '<', succeededBefore)]),
            eb.and([eb('state', '=', 'dead'), eb('finished_at', '<', deadBefore)]),
          ]),
        )
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
};

/** The job store. */
export type JobStore = ReturnType<typeof createJobStore>;
