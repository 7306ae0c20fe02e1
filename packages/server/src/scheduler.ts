import type { Logger } from 'pino';

/** One periodic background job. */
export interface Job {
  /** Names the job in the log when a run fails, and its run records. */
  readonly name: string;
  /** Milliseconds between the starts of two runs. */
  readonly everyMs: number;
  /** One run; a rejection is logged, and the job runs again at its next turn. */
  run(): Promise<unknown>;
  /**
   * `process` (the default): work on this process's own memory (its rollup heads, the last
   * contacts it saw), run by every process. `cluster`: fleet-wide work on the database, run
   * once per period by the leader of all processes sharing it.
   */
  readonly scope?: 'process' | 'cluster';
}

/** Running background jobs. */
export interface Scheduler {
  /** Stops every timer, waits for the runs under way to end, then gives leadership up. */
  stop(): Promise<void>;
}

/** Leadership among the processes sharing one database, and the records of cluster runs. */
export interface ClusterCoordination {
  /** This process as a candidate for leadership (see jobs/leader-store.ts). */
  readonly leader: {
    isLeader(): boolean;
    tick(): Promise<boolean>;
    release(): Promise<void>;
    readonly renewMs: number;
  };
  /**
   * Claims period `period` (start time / `everyMs`) of job `name` for this process; true when it
   * was not run yet and is now this process's to run.
   */
  claim(name: string, period: number): Promise<boolean>;
}

/**
 * Starts periodic background jobs. A job never overlaps itself: a turn that finds its previous
 * run still going is skipped. The timers do not keep the process alive.
 *
 * Process jobs run every `everyMs` in this process. Cluster jobs run only with `cluster` (a
 * process that takes part in leadership): at each period boundary (epoch-aligned, so that every
 * process agrees on the periods) the leader claims the period in the database and runs it, so a
 * period runs once even when leadership moves in between.
 */
export function startJobs(
  logger: Logger,
  jobs: readonly Job[],
  cluster?: ClusterCoordination,
  now: () => number = Date.now,
): Scheduler {
  const running = new Set<Promise<unknown>>();
  let stopped = false;
  const busy = new Set<string>();
  const launch = (job: Job, run: () => Promise<unknown>) => {
    if (busy.has(job.name)) return;
    busy.add(job.name);
    const p = run()
      .catch((err: unknown) => logger.warn({ err, job: job.name }, 'background job failed'))
      .finally(() => {
        busy.delete(job.name);
        running.delete(p);
      });
    running.add(p);
  };
  const intervals = jobs
    .filter((job) => (job.scope ?? 'process') === 'process')
    .map((job) => {
      const timer = setInterval(() => launch(job, () => job.run()), job.everyMs);
      timer.unref();
      return timer;
    });
  const timeouts = new Map<string, NodeJS.Timeout>();
  let leaderTimer: NodeJS.Timeout | undefined;
  if (cluster) {
    const { leader } = cluster;
    let ticking = false;
    const tick = () => {
      if (ticking || stopped) return;
      ticking = true;
      void leader
        .tick()
        .then((leads) => {
          if (leads !== wasLeader)
            logger.info(
              { leader: leads },
              leads ? 'leading periodic work' : 'not leading periodic work',
            );
          wasLeader = leads;
        })
        .catch(() => undefined)
        .finally(() => (ticking = false));
    };
    let wasLeader = false;
    tick();
    leaderTimer = setInterval(tick, leader.renewMs);
    leaderTimer.unref();
    for (const job of jobs.filter((j) => j.scope === 'cluster')) {
      const schedule = () => {
        if (stopped) return;
        const t = now();
        const next = (Math.floor(t / job.everyMs) + 1) * job.everyMs;
        const timer = setTimeout(
          () => {
            schedule();
            if (!leader.isLeader()) return;
            const period = Math.floor(now() / job.everyMs);
            launch(job, async () => {
              if (await cluster.claim(job.name, period)) await job.run();
            });
          },
          // A few milliseconds past the boundary, so that `now()` there is in the new period.
          next - t + 5,
        );
        timer.unref();
        timeouts.set(job.name, timer);
      };
      schedule();
    }
  }
  return {
    async stop() {
      stopped = true;
      for (const t of intervals) clearInterval(t);
      for (const t of timeouts.values()) clearTimeout(t);
      clearInterval(leaderTimer);
      await Promise.allSettled([...running]);
      await cluster?.leader.release();
    },
  };
}
