import type { LogCommitPush } from './store.js';

/** The commit the appender calls: one transaction per group (see `LogStore.commit`). */
export type CommitGroup = (
  pushes: LogCommitPush[],
  at: number,
) => Promise<{ duplicate: boolean; ids: number[] }[]>;

interface Pending {
  push: LogCommitPush;
  resolve(outcome: { duplicate: boolean; ids: number[] }): void;
  reject(err: unknown): void;
}

/**
 * The group commit of log lines: pushes wait up to `commitDelayMs`, or until `maxLines` lines are
 * queued, and are written in one transaction. Each push's promise settles once its group is
 * committed (or failed): the caller acknowledges nothing before.
 */
export function createLogAppender(deps: {
  commit: CommitGroup;
  now: () => number;
  policy: { commitDelayMs: number; maxLines: number };
  /** Told how long each group commit took and how many lines it held. */
  onCommit?: (seconds: number, lines: number) => void;
}) {
  const { policy } = deps;
  let queue: Pending[] = [];
  let queuedLines = 0;
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;
  let groups = 0;
  let stored = 0;

  async function flush(): Promise<void> {
    timer = undefined;
    // A group takes pushes until it holds `maxLines` (always at least one push).
    let lines = 0;
    let n = 0;
    while (n < queue.length && (n === 0 || lines + queue[n]!.push.rows.length <= policy.maxLines))
      lines += queue[n++]!.push.rows.length;
    const group = queue.slice(0, n);
    queue = queue.slice(n);
    queuedLines -= lines;
    if (group.length === 0) return;
    const began = performance.now();
    try {
      const outcomes = await deps.commit(
        group.map((p) => p.push),
        deps.now(),
      );
      groups += 1;
      for (const o of outcomes) stored += o.ids.length;
      deps.onCommit?.((performance.now() - began) / 1000, lines);
      group.forEach((p, i) => p.resolve(outcomes[i]!));
    } catch (err) {
      for (const p of group) p.reject(err);
    }
  }

  function schedule(): void {
    if (flushing) return;
    if (queuedLines >= policy.maxLines) {
      if (timer) clearTimeout(timer);
      timer = undefined;
      run();
    } else if (!timer) timer = setTimeout(run, policy.commitDelayMs);
  }
  function run(): void {
    if (flushing) return;
    flushing = flush().finally(() => {
      flushing = undefined;
      if (queue.length > 0) schedule();
    });
  }

  return {
    /** Queues a push for the next group commit; resolves once it is committed. */
    append(push: LogCommitPush): Promise<{ duplicate: boolean; ids: number[] }> {
      return new Promise((resolve, reject) => {
        queue.push({ push, resolve, reject });
        queuedLines += push.rows.length;
        schedule();
      });
    },
    /** Group commits done, lines stored by them (resent batches not again), pushes waiting. */
    statistics: () => ({ groups, stored, queued: queue.length }),
    /** Commits what is queued (the caller takes no new pushes from then on). */
    async close(): Promise<void> {
      if (timer) clearTimeout(timer);
      timer = undefined;
      while (queue.length > 0 || flushing) {
        if (flushing) await flushing;
        else await flush();
      }
    },
  };
}
