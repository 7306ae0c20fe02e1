import type { Logger } from 'pino';

/** One periodic background job. */
export interface Job {
  /** Names the job in the log when a run fails. */
  readonly name: string;
  /** Milliseconds between the starts of two runs. */
  readonly everyMs: number;
  /** One run; a rejection is logged, and the job runs again at its next turn. */
  run(): Promise<unknown>;
}

/** Running background jobs. */
export interface Scheduler {
  /** Stops every timer, then waits for the runs under way to end. */
  stop(): Promise<void>;
}

/**
 * Starts periodic background jobs. A job never overlaps itself: a turn that finds its previous
 * run still going is skipped. The timers do not keep the process alive.
 */
export function startJobs(logger: Logger, jobs: readonly Job[]): Scheduler {
  const running = new Set<Promise<unknown>>();
  const timers = jobs.map((job) => {
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      const p = job
        .run()
        .catch((err: unknown) => logger.warn({ err, job: job.name }, 'background job failed'))
        .finally(() => {
          busy = false;
          running.delete(p);
        });
      running.add(p);
    }, job.everyMs);
    timer.unref();
    return timer;
  });
  return {
    async stop() {
      for (const t of timers) clearInterval(t);
      await Promise.allSettled([...running]);
    },
  };
}
