import type { CustomCheckResult } from '@vigil/protocol';
import type { CustomCheck } from './config.js';
import { runCheck, type RunLimits, DEFAULT_MAX_OUTPUT_BYTES } from './runner.js';

/** Runs the enabled checks, each on its own interval, at most `concurrency` at a time. */
export interface CheckScheduler {
  /** The latest result of every check that has run at least once, by check name. */
  results(): Record<string, CustomCheckResult>;
  /** Stops scheduling and kills the runs in progress; resolves once they have ended. */
  stop(): Promise<void>;
}

/**
 * Starts the checks: each runs once right away (in file order, as slots free up) and then every
 * `intervalSeconds` after its previous run began. A check whose previous run has not finished is
 * not started again; a check waiting for a free slot waits, it is not dropped.
 */
export function startChecks(
  checks: readonly CustomCheck[],
  opts: {
    concurrency: number;
    limits?: RunLimits;
    onResult?: (name: string, r: CustomCheckResult) => void;
  },
): CheckScheduler {
  const limits = opts.limits ?? { maxOutputBytes: DEFAULT_MAX_OUTPUT_BYTES };
  const results: Record<string, CustomCheckResult> = {};
  const timers = new Map<string, NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  const busy = new Set<string>();
  const queue: CustomCheck[] = [];
  let active = 0;
  let stopped = false;
  const abort = new AbortController();

  const pump = () => {
    while (!stopped && active < opts.concurrency && queue.length > 0) {
      const check = queue.shift()!;
      active++;
      const started = Date.now();
      const p = runCheck(check, limits, Date.now, abort.signal).then((r) => {
        results[check.name] = r;
        opts.onResult?.(check.name, r);
        active--;
        busy.delete(check.name);
        running.delete(p);
        if (!stopped) {
          const wait = Math.max(0, started + check.intervalSeconds * 1000 - Date.now());
          timers.set(
            check.name,
            setTimeout(() => due(check), wait),
          );
        }
        pump();
      });
      running.add(p);
    }
  };
  const due = (check: CustomCheck) => {
    timers.delete(check.name);
    if (stopped || busy.has(check.name)) return;
    busy.add(check.name);
    queue.push(check);
    pump();
  };
  for (const c of checks) if (c.enabled) due(c);

  return {
    results: () => ({ ...results }),
    async stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      queue.length = 0;
      abort.abort();
      await Promise.all(running);
    },
  };
}
