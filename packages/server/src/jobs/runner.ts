import { randomUUID } from 'node:crypto';
import type { JobEnqueuer } from './model.js';
import type { JobRow, JobStore } from './store.js';

/** A claimed job as its handler sees it. */
export interface RunningJob {
  readonly id: string;
  readonly kind: string;
  /** The payload as queued (parsed JSON); the handler checks its shape. */
  readonly payload: unknown;
  /** This attempt's number, 1 for the first. */
  readonly attempt: number;
  /** Aborted when the attempt's timeout passes; a handler that does I/O passes it on. */
  readonly signal: AbortSignal;
}

/**
 * Does one kind of job. Resolving marks the job succeeded; throwing (or running past the
 * timeout) fails the attempt, which is retried with exponential backoff until the job's
 * attempts are used up. Handlers may run more than once for a job (a worker that dies after
 * the work but before recording it), so they must be idempotent.
 */
export type JobHandler = (job: RunningJob) => Promise<void>;

/** How a kind of job runs. */
export interface HandlerOptions {
  /** Milliseconds one attempt may take (default 60 s). */
  timeoutMs?: number;
}

/** The worker side of the job queue: handlers by kind, and the loop that runs due jobs. */
export interface JobRunner {
  /**
   * Registers the handler of `kind`. Register before `start`; a second handler for one kind
   * throws.
   */
  register(kind: string, handler: JobHandler, opts?: HandlerOptions): void;
  /** Starts claiming and running jobs; a no-op when running. */
  start(): void;
  /** Wakes an idle loop now (call after committing a transaction that queued a job). */
  wake(): void;
  /**
   * Claims and runs due jobs until none is due, then resolves with how many ran; for tests
   * and for tools. Not to be used while `start` runs.
   */
  drain(): Promise<number>;
  /** Stops claiming, then waits up to `graceMs` (default 10 s) for running handlers. */
  stop(graceMs?: number): Promise<void>;
  /** The id this worker writes into `locked_by`. */
  readonly workerId: string;
}

/** The first retry's delay; each later one doubles it. */
export const BACKOFF_BASE_MS = 5_000;
/** The longest delay between two attempts. */
export const BACKOFF_MAX_MS = 3_600_000;
const DEFAULT_TIMEOUT_MS = 60_000;
/** Added to the longest handler timeout for the claim's lock, so a slow commit keeps its job. */
const LOCK_MARGIN_MS = 30_000;

/**
 * The delay before the retry that follows failed attempt `attempt` (1-based): 5 s · 2^(n-1),
 * capped at an hour, then spread by ±20 % with `random()` in [0, 1) so that jobs that failed
 * together do not all retry together.
 */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1), BACKOFF_MAX_MS);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** Errors handlers threw, as a line for `last_error`. */
function describe(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/**
 * Creates a job runner on `store`. At most `concurrency` handlers run at once; an idle runner
 * looks for due jobs every `pollMs` and at once when `wake` is called (its own `enqueuer`
 * calls it). `now` is the clock of claims and backoff; `log` hears of failed attempts and of
 * the loop's own errors (a database that is down for a while).
 */
export function createJobRunner(deps: {
  store: JobStore;
  now?: () => number;
  concurrency?: number;
  pollMs?: number;
  workerId?: string;
  random?: () => number;
  log?: (msg: string, fields: Record<string, unknown>) => void;
}): JobRunner & { readonly enqueuer: JobEnqueuer } {
  const now = deps.now ?? Date.now;
  const concurrency = Math.max(1, deps.concurrency ?? 4);
  const pollMs = deps.pollMs ?? 1_000;
  const workerId = deps.workerId ?? `worker-${randomUUID()}`;
  const log = deps.log ?? (() => undefined);
  const handlers = new Map<string, { handler: JobHandler; timeoutMs: number }>();
  const running = new Set<Promise<void>>();
  let loop: Promise<void> | undefined;
  let stopping = false;
  let wakeUp: (() => void) | undefined;
  let woken = false;

  const lockMs = () =>
    Math.max(DEFAULT_TIMEOUT_MS, ...[...handlers.values()].map((h) => h.timeoutMs)) +
    LOCK_MARGIN_MS;

  const wake = () => {
    woken = true;
    wakeUp?.();
  };

  async function attempt(row: JobRow): Promise<void> {
    const h = handlers.get(row.kind);
    let error: string | undefined;
    if (!h) error = `no handler is registered for jobs of kind '${row.kind}'`;
    else {
      const ac = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      try {
        const payload = JSON.parse(row.payload) as unknown;
        await Promise.race([
          h.handler({
            id: row.id,
            kind: row.kind,
            payload,
            attempt: row.attempts,
            signal: ac.signal,
          }),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              // Rejected before the abort, so that a handler settling on the abort loses.
              reject(new Error(`the attempt ran past its timeout of ${h.timeoutMs} ms`));
              ac.abort();
            }, h.timeoutMs);
          }),
        ]);
      } catch (err) {
        error = describe(err);
      } finally {
        clearTimeout(timer);
      }
    }
    if (error === undefined) {
      await deps.store.complete(row.id, workerId);
      return;
    }
    const last = row.attempts >= row.max_attempts;
    const retryAt = last ? undefined : now() + backoffMs(row.attempts, deps.random);
    log(last ? 'job dead after its last attempt' : 'job attempt failed', {
      job_id: row.id,
      kind: row.kind,
      attempt: row.attempts,
      error,
    });
    await deps.store.fail(row.id, workerId, error, retryAt);
  }

  const track = (row: JobRow) => {
    const p = attempt(row)
      .catch((err: unknown) => log('recording a job attempt failed', { job_id: row.id, err }))
      .finally(() => {
        running.delete(p);
        wake();
      });
    running.add(p);
    return p;
  };

  let reclaimedAt = -Infinity;
  async function claimSome(): Promise<JobRow[]> {
    // Locks last minutes: expired ones are looked for once a poll period, not at every claim
    // (two statements each time, while a long queue is worked through a few jobs a claim).
    if (now() - reclaimedAt >= pollMs) {
      reclaimedAt = now();
      await deps.store.reclaimExpired();
    }
    return deps.store.claim(workerId, concurrency - running.size, lockMs());
  }

  async function run(): Promise<void> {
    while (!stopping) {
      // A turn for the rest first: SQLite's queries run on this thread, and a queue of due jobs
      // would otherwise be worked through without one.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (stopping) break;
      woken = false;
      let claimed: JobRow[] = [];
      try {
        if (running.size < concurrency) claimed = await claimSome();
      } catch (err) {
        log('claiming jobs failed', { err });
      }
      for (const row of claimed) void track(row);
      // A full claim may leave more due jobs: look again as soon as a slot is free.
      if (stopping || (claimed.length > 0 && running.size < concurrency)) continue;
      if (woken) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeUp = undefined;
    }
  }

  return {
    workerId,
    enqueuer: {
      async enqueue(job) {
        const id = await deps.store.enqueue(job);
        if (id !== undefined) wake();
        return id;
      },
    },
    register(kind, handler, opts) {
      if (handlers.has(kind)) throw new Error(`a handler for jobs of kind '${kind}' is registered`);
      handlers.set(kind, { handler, timeoutMs: opts?.timeoutMs ?? DEFAULT_TIMEOUT_MS });
    },
    start() {
      if (loop) return;
      stopping = false;
      loop = run();
    },
    wake,
    async drain() {
      let total = 0;
      for (;;) {
        const claimed = await claimSome();
        if (claimed.length === 0 && running.size === 0) return total;
        total += claimed.length;
        for (const row of claimed) void track(row);
        await Promise.race(running);
      }
    },
    async stop(graceMs = 10_000) {
      stopping = true;
      wakeUp?.();
      await loop;
      loop = undefined;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...running]),
        new Promise((r) => {
          timer = setTimeout(r, graceMs);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
    },
  };
}
