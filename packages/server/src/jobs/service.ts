import type { Audited } from '../audit/audited.js';
import { systemContext, type CursorCodec, type RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import type { JobFilter, JobRow, JobState } from './store.js';

/** A job as the API lists it; times are ISO 8601. */
export interface JobItem {
  id: string;
  kind: string;
  state: JobState;
  attempts: number;
  max_attempts: number;
  run_at: string;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

/** One job with what it carries. */
export interface JobDetail extends JobItem {
  payload: unknown;
  dedup_key: string | null;
  locked_by: string | null;
  locked_until: string | null;
}

/** The queries the job service needs. */
export interface JobReadStore {
  /** Returns undefined when absent. */
  get(id: string): Promise<JobRow | undefined>;
  list(filter: JobFilter): Promise<JobRow[]>;
}

/** The writes of the job service, inside its unit of work. */
export interface JobWriteStore extends JobReadStore {
  /** Requeues a retryable job now with its attempts reset; undefined when it was not retryable. */
  retry(id: string): Promise<JobRow | undefined>;
  /** Deletes finished jobs; returns how many. */
  purge(succeededBefore: number, deadBefore: number): Promise<number>;
}

/** How long finished jobs are kept. */
export const KEEP_SUCCEEDED_MS = 7 * 86_400_000;
/** How long dead jobs are kept, for operators to look into and retry. */
export const KEEP_DEAD_MS = 30 * 86_400_000;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toItem(r: JobRow): JobItem {
  return {
    id: r.id,
    kind: r.kind,
    state: r.state,
    attempts: r.attempts,
    max_attempts: r.max_attempts,
    run_at: new Date(r.run_at).toISOString(),
    last_error: r.last_error,
    created_at: new Date(r.created_at).toISOString(),
    updated_at: new Date(r.updated_at).toISOString(),
    finished_at: iso(r.finished_at),
  };
}

function toDetail(r: JobRow): JobDetail {
  let payload: unknown;
  try {
    payload = JSON.parse(r.payload) as unknown;
  } catch {
    payload = r.payload;
  }
  return {
    ...toItem(r),
    payload,
    dedup_key: r.dedup_key,
    locked_by: r.locked_by,
    locked_until: iso(r.locked_until),
  };
}

/**
 * The job queue as operators see it: list and read jobs, retry a dead (or backing-off) one by
 * hand, and purge finished ones. `wake` tells this process's workers of a retried job.
 */
export const createJobService = (deps: {
  store: JobReadStore;
  audited: Audited<{ jobs: JobWriteStore }>;
  cursors: CursorCodec;
  now: () => number;
  wake: () => void;
}) => ({
  /**
   * Jobs newest first, narrowed by state and kind.
   * @throws VigilError bad_data (`pagination.cursor_invalid`) for a cursor that was not issued.
   */
  async list(q: {
    state?: JobState;
    kind?: string;
    cursor?: string;
    limit?: number;
  }): Promise<{ items: JobItem[]; next_cursor: string | null }> {
    const limit = q.limit ?? 100;
    let after: JobFilter['after'];
    if (q.cursor !== undefined) {
      const d = deps.cursors.decode(q.cursor);
      if (!Array.isArray(d) || typeof d[0] !== 'number' || typeof d[1] !== 'string')
        throw new VigilError('bad_data', 'the cursor is not valid for this query', {
          code: 'pagination.cursor_invalid',
        });
      after = { createdAt: d[0], id: d[1] };
    }
    const rows = await deps.store.list({ state: q.state, kind: q.kind, after, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toItem),
      next_cursor:
        rows.length > limit && last ? deps.cursors.encode([last.created_at, last.id]) : null,
    };
  },

  /**
   * One job with its payload.
   * @throws VigilError not_found.
   */
  async get(id: string): Promise<JobDetail> {
    const r = await deps.store.get(id);
    if (!r) throw new VigilError('not_found', `no job ${id}`, { code: 'job.not_found' });
    return toDetail(r);
  },

  /**
   * Queues a dead job, or a queued one waiting after a failed attempt, to run now with its
   * attempts reset; audited as `job.retry`.
   * @throws VigilError not_found; conflict (`job.not_retryable`) for a running or succeeded job,
   *   one that has not failed yet, or a dead one whose dedup key a newer unfinished job holds.
   */
  async retry(id: string, ctx: RequestContext): Promise<JobDetail> {
    const row = await deps.audited(
      ctx,
      { action: 'job.retry', resourceType: 'job', resourceId: id },
      async ({ jobs }, draft) => {
        const before = await jobs.get(id);
        if (!before) throw new VigilError('not_found', `no job ${id}`, { code: 'job.not_found' });
        const after = await jobs.retry(id);
        if (!after)
          throw new VigilError(
            'conflict',
            before.state === 'queued'
              ? 'the job has not failed yet; it runs at its time'
              : before.state === 'dead'
                ? 'an unfinished job holds its dedup key; that one runs instead'
                : `a ${before.state} job cannot be retried`,
            { code: 'job.not_retryable' },
          );
        draft.entry.detail = {
          kind: before.kind,
          state: before.state,
          attempts: before.attempts,
          last_error: before.last_error,
        };
        return after;
      },
    );
    deps.wake();
    return toDetail(row);
  },

  /**
   * Deletes succeeded jobs finished over 7 days ago and dead ones over 30 days ago; a periodic
   * cluster job, audited as `job.purge` when it deleted any.
   */
  async purge(): Promise<number> {
    const t = deps.now();
    return deps.audited(
      systemContext('jobs'),
      { action: 'job.purge', resourceType: 'job' },
      async ({ jobs }, draft) => {
        const n = await jobs.purge(t - KEEP_SUCCEEDED_MS, t - KEEP_DEAD_MS);
        if (n === 0) draft.skip();
        else draft.entry.detail = { deleted: n };
        return n;
      },
    );
  },
});

/** The job service. */
export type JobService = ReturnType<typeof createJobService>;
