import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import type { Db } from './db/connection.js';
import type { JobEnqueuer } from './jobs/model.js';
import { createJobRunner, type JobRunner } from './jobs/runner.js';
import { createJobStore } from './jobs/store.js';

/**
 * The job queue as the rest of the server sees it: where domains register handlers and queue
 * jobs. Handlers are registered while the server is composed, before workers start.
 */
export interface Jobs {
  /** Registers the handler of a kind of job (see `JobRunner.register`). */
  readonly register: JobRunner['register'];
  /**
   * Queues jobs outside any transaction and wakes this process's workers. To queue with a change,
   * use `createJobStore(trx)` inside the change's transaction, then call `wake` after it commits.
   */
  readonly enqueuer: JobEnqueuer;
  /** Wakes this process's idle workers so that a job queued just now runs at once. */
  wake(): void;
}

/**
 * Composes the job queue for app.ts: the store and this process's runner. `start` begins
 * running jobs (in `vigil serve` when `jobs.workers_in_process`, always in `vigil worker`);
 * `stop` waits for running handlers, bounded.
 */
export function composeJobs(deps: { db: Db; config: Config; now: () => number; logger: Logger }) {
  const { db, config, now, logger } = deps;
  const store = createJobStore(db.kysely, now);
  const runner = createJobRunner({
    store,
    now,
    concurrency: config.jobs.concurrency,
    pollMs: config.jobs.poll_interval_ms,
    log: (msg, fields) => logger.warn(fields, msg),
  });
  const jobs: Jobs = {
    register: (kind, handler, opts) => runner.register(kind, handler, opts),
    enqueuer: runner.enqueuer,
    wake: () => runner.wake(),
  };
  return {
    jobs,
    store,
    runner,
    /** Starts this process's workers. */
    start(): void {
      runner.start();
    },
    /** Stops this process's workers, waiting for running handlers up to 10 s. */
    async stop(): Promise<void> {
      await runner.stop(10_000);
    },
  };
}
