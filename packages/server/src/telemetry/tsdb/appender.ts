import type { CheckWrite, DocumentRow } from '../rows.js';
import { ROLLUPS, bucketOf, packValues, type RollupResolution } from './format.js';
import type { Head } from './head.js';
import type { DirtyBucket, PushRow, SampleBatch } from './tsdb.js';

/** One push to append (see `Appender.append` in ingest/ingest.ts for the contract). */
export interface Push {
  hostId: string;
  agentId: string;
  /** Collection time, epoch ms. */
  ts: number;
  /** The push's samples; read before `append` first awaits (the buffer serves the next push). */
  samples: SampleBatch;
  /** The agent's latest document, written with the push when given. */
  document?: DocumentRow;
  /** Check states the push moves, written with it. */
  checks: CheckWrite[];
}

interface Pending {
  row: PushRow;
  agentId: string;
  document?: DocumentRow;
  checks: CheckWrite[];
  resolve(isNew: boolean): void;
  reject(err: unknown): void;
}

/**
 * The group commit: pushes wait up to `commitDelayMs` (or until `maxBatch` are queued) and are
 * written in one transaction, then go into the open rollup buckets and the hosts' newest values
 * (`Head`). Also keeps agents' last contact.
 */
export function createAppender(
  head: Head,
  deps: {
    policy: { commitDelayMs: number; maxBatch: number };
    /** Told how long each group commit took and how many pushes it held. */
    onCommit?: (seconds: number, pushes: number) => void;
  },
) {
  const { store, now } = head;
  const { policy } = deps;
  let queue: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;
  let batches = 0;

  /**
   * Agents' last contact, as of their newest committed push. It is written to the agents table
   * every few seconds (`writeContacts`), not with each push: one row per agent per push would
   * be as many page writes as the samples themselves, for a figure nobody needs to the
   * millisecond after a crash. Readers in this process see it at once (`lastContact`).
   */
  const lastContact = new Map<string, number>();
  /** Agents whose last contact is not written yet. */
  let contactDue = new Set<string>();

  /**
   * Whether the stored watermarks have been read (`flush`): until the first rollup pass of this
   * process, only the store knows which buckets are done.
   */
  let watermarksRead = false;

  /** Commits everything queued, in one transaction, and settles each push's promise. */
  async function flush(): Promise<void> {
    timer = undefined;
    const batch = queue.slice(0, policy.maxBatch);
    queue = queue.slice(batch.length);
    if (batch.length === 0) return;
    if (!watermarksRead)
      try {
        // After a restart, a late push into a bucket the previous process rolled up must mark
        // it dirty and stay out of the open buckets, as it would have there.
        for (const r of Object.keys(ROLLUPS) as RollupResolution[]) await head.watermarkOf(r);
        watermarksRead = true;
      } catch (err) {
        for (const p of batch) p.reject(err);
        return;
      }
    // Pushes into buckets the rollup job has already done mark those buckets for another pass.
    const dirty: DirtyBucket[] = [];
    const w = head.watermarks.get('1m');
    if (w !== undefined)
      for (const p of batch)
        if (p.row.ts < w)
          dirty.push({
            resolution: '1m',
            host_id: p.row.hostId,
            bucket: bucketOf(p.row.ts, ROLLUPS['1m']),
          });
    const at = now();
    const began = performance.now();
    try {
      const fresh = await store.commit(
        batch.map((p) => p.row),
        dirty,
        batch.flatMap((p) => (p.document ? [p.document] : [])),
        batch.flatMap((p) => p.checks),
      );
      batches += 1;
      for (const p of batch) {
        lastContact.set(p.agentId, at);
        contactDue.add(p.agentId);
      }
      deps.onCommit?.((performance.now() - began) / 1000, batch.length);
      // Into the open buckets, before anyone learns of the commit: the rollup job waits for a
      // running flush, so a push is either here or marked dirty, never neither.
      batch.forEach((p, i) => {
        if (!fresh[i]) return;
        head.accumulate(p.row);
        head.remember(p.row, p.agentId);
      });
      batch.forEach((p, i) => p.resolve(fresh[i]!));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  function schedule(): void {
    if (flushing) return;
    if (queue.length >= policy.maxBatch) {
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

  /** Queues a laid-out push for the next group commit; resolves once it is committed. */
  function enqueue(push: Push, layoutId: number, vals: Uint8Array): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      queue.push({
        row: { hostId: push.hostId, ts: push.ts, layoutId, vals },
        agentId: push.agentId,
        document: push.document,
        checks: push.checks,
        resolve,
        reject,
      });
      schedule();
    });
  }

  const appender = {
    /**
     * Lays a push out (its series and layout stored when new) and queues it for the next group
     * commit. Returns at once how many samples it holds (repeated series counted once), and a
     * promise that resolves once it is committed: true when the push was new, false when its
     * host already had one at its time; `layout` when the host pushed this key list before.
     */
    append(push: Push): { samples: number; committed: Promise<boolean>; layout?: number } {
      const { hostId, samples } = push;
      // The buffer serves every push: what is needed of it is taken before anything awaits.
      // The host's last key list has no repeats: a list equal to it has none either.
      const known = head.knownLayout(hostId, samples);
      let layoutId = known;
      const n = layoutId === undefined ? samples.dropRepeats() : samples.length;
      const vals = packValues(samples.values.subarray(0, n));
      layoutId ??= head.knownLayout(hostId, samples);
      const committed =
        layoutId !== undefined
          ? enqueue(push, layoutId, vals)
          : head.layoutFor(hostId, samples.keys.slice(0, n)).then((id) => enqueue(push, id, vals));
      return { samples: n, committed, ...(known !== undefined ? { layout: known } : {}) };
    },

    /** The group commit running now, if any (the rollup job waits for it). */
    committing: (): Promise<void> | undefined => flushing,

    /** An agent's last contact as of this process's commits (undefined when it has none). */
    lastContact: (agentId: string): number | undefined => lastContact.get(agentId),

    /** Writes the last contacts not yet written (every few seconds, and at close). */
    async writeContacts(
      write: (seen: { agentId: string; at: number }[]) => Promise<void>,
    ): Promise<number> {
      if (contactDue.size === 0) return 0;
      const due = contactDue;
      contactDue = new Set();
      const seen = [...due].map((agentId) => ({ agentId, at: lastContact.get(agentId)! }));
      try {
        await write(seen);
      } catch (err) {
        for (const id of due) contactDue.add(id);
        throw err;
      }
      return seen.length;
    },

    /** Group commits done and pushes waiting, since start. */
    statistics: () => ({ batches, queued: queue.length }),

    /** Commits what is queued (the caller refuses new pushes from then on). */
    async close(): Promise<void> {
      if (timer) clearTimeout(timer);
      while (queue.length > 0 || flushing) {
        if (flushing) await flushing;
        else await flush();
      }
    },
  };
  return appender;
}

/** The group commit of a tsdb. */
export type TsdbAppender = ReturnType<typeof createAppender>;
