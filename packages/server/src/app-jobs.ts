import type { Logger } from 'pino';
import { createAudited } from './audit/audited.js';
import type { AuditStore, CursorCodec } from './audit/service.js';
import { createAuditStore } from './audit/store.js';
import type { Config } from './config/config.js';
import type { Db } from './db/connection.js';
import { createLeaderElection, createPeriodicRunStore } from './jobs/leader-store.js';
import type { JobEnqueuer } from './jobs/model.js';
import { jobRoutes } from './jobs/routes.js';
import { createJobRunner, type JobRunner } from './jobs/runner.js';
import { createJobService, type JobService } from './jobs/service.js';
import { createJobStore, type JobStore } from './jobs/store.js';
import type { App } from './http/server.js';
import type { ClusterCoordination, Job } from './scheduler.js';

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
  /** This process's id as a worker (`locked_by` of the jobs it runs) and leader candidate. */
  readonly workerId: string;
}

/**
 * Composes the job queue for app.ts: the store, this process's runner, the operators' service,
 * and (in a process that runs workers) leadership of periodic cluster work. `start` begins
 * running jobs (in `vigil serve` when `jobs.workers_in_process`, always in `vigil worker`);
 * `stop` waits for running handlers, bounded.
 */
export function composeJobs(deps: {
  db: Db;
  config: Config;
  cursors: CursorCodec;
  now: () => number;
  logger: Logger;
  /** Whether this process runs workers and takes part in leadership. */
  workers: boolean;
}) {
  const { db, config, now, logger } = deps;
  const store = createJobStore(db.kysely, now);
  const runner = createJobRunner({
    store,
    now,
    concurrency: config.jobs.concurrency,
    pollMs: config.jobs.poll_interval_ms,
    log: (msg, fields) => logger.warn(fields, msg),
  });
  const service: JobService = createJobService({
    store,
    audited: createAudited<{ jobs: JobStore; audit: AuditStore }>(
      (fn) =>
        db.kysely
          .transaction()
          .execute((trx) => fn({ jobs: createJobStore(trx, now), audit: createAuditStore(trx) })),
      now,
    ),
    cursors: deps.cursors,
    now,
    wake: () => runner.wake(),
  });
  const runs = createPeriodicRunStore(db.kysely, now);
  const cluster: ClusterCoordination | undefined = deps.workers
    ? {
        leader: createLeaderElection(db.kysely, {
          holder: runner.workerId,
          leaseMs: config.jobs.leader_lease_seconds * 1000,
          now,
        }),
        claim: (name, period) => runs.claim(name, period, runner.workerId),
      }
    : undefined;
  const jobs: Jobs = {
    register: (kind, handler, opts) => runner.register(kind, handler, opts),
    enqueuer: runner.enqueuer,
    wake: () => runner.wake(),
    workerId: runner.workerId,
  };
  /** The queue's own periodic work: deleting old finished jobs, once per period in the cluster. */
  const periodic: Job[] = [
    {
      name: 'jobs-purge',
      everyMs: config.jobs.purge_interval_seconds * 1000,
      scope: 'cluster',
      run: () => service.purge(),
    },
  ];
  return {
    jobs,
    service,
    runs,
    cluster,
    periodic,
    /** Starts this process's workers, when it runs any. */
    start(): void {
      if (deps.workers) runner.start();
    },
    /** Stops this process's workers, waiting for running handlers up to 10 s. */
    async stop(): Promise<void> {
      await runner.stop(10_000);
    },
  };
}

/** The job queue's routes (`/api/v1/jobs`). */
export function jobsRoutes(app: App, parts: { service: JobService }): void {
  jobRoutes(app, { jobs: parts.service });
}
