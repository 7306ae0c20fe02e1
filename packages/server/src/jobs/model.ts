/**
 * The job queue's vocabulary: work that must happen even across a restart, done by workers
 * (`vigil serve` in process, or `vigil worker`), retried with exponential backoff and
 * dead-lettered after its attempts are used up.
 */

/** A job to queue. */
export interface NewJob {
  /** Names the handler that does it (`notification.deliver`, `alert.notify` …). */
  kind: string;
  /** What the handler needs, as JSON-serialisable data (ids, not whole objects). */
  payload: unknown;
  /** When it may run first (epoch ms); now when not given. */
  runAt?: number;
  /** Attempts before it is dead-lettered; the queue's default when not given. */
  maxAttempts?: number;
  /**
   * Work that must be queued once: while an unfinished job holds this key, queueing another
   * with it does nothing.
   */
  dedupKey?: string;
}

/** Default attempts before a job is dead-lettered. */
export const DEFAULT_MAX_ATTEMPTS = 8;

/**
 * Where domain code queues jobs. Pass one built on a transaction to queue a job with the change
 * that calls for it: both commit, or neither does.
 */
export interface JobEnqueuer {
  /**
   * Queues a job. Returns its id, or undefined when an unfinished job already held its
   * `dedupKey` (nothing was queued).
   */
  enqueue(job: NewJob): Promise<string | undefined>;
}
