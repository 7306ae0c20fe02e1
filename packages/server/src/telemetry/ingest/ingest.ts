import { isRecord } from '@vigil/protocol/guards';
import { PackageInventory } from '@vigil/protocol';
import { checkDataOf, documentJson } from '@vigil/protocol/decode';
import { VigilError } from '../../errors.js';
import type { EventBus } from '../../events/bus.js';
import { INGEST_TOPIC, type IngestEvent } from '../../events/types.js';
import type { CheckWrite, DocumentRow } from '../rows.js';
import type { CheckState } from './checks.js';
import { createCheckTracker } from './check-states.js';
import { SampleBuffer, collectInto } from './normalize.js';
import { checkCollectionTime, checker, countChecks, stampedCollectionTime } from './validate.js';

/**
 * Where ingest appends a push (the tsdb's group commit). Declared here, where it is used.
 */
export interface Appender {
  /**
   * Appends one push of an agent on a host: its samples at `ts` (epoch ms), with the agent's
   * latest document when given and the check states it moves, all in one transaction.
   * `samples` is a buffer that serves the next push too: the appender reads it before it
   * returns, and the caller may refill it from then on. Returns the number of samples the push
   * held (repeated series counted once) and a promise of its commit: it resolves to whether the
   * push was new (false: its host already had one at `ts`, and nothing was stored), and rejects
   * with what the store threw (nothing of the push is stored then). `layout` is the id of the
   * push's key list when the host pushed the same keys in the same order before (undefined
   * when the list is new to it).
   */
  append(push: {
    hostId: string;
    agentId: string;
    ts: number;
    samples: SampleBuffer;
    document?: DocumentRow;
    checks: CheckWrite[];
  }): { samples: number; committed: Promise<boolean>; layout?: number };
}

/** What ingest reads and writes besides the appender. */
export interface IngestStore {
  /** The current states of a host's checks. */
  checkStates(hostId: string): Promise<{ name: string; state: CheckState }[]>;
  /** Stores an agent's package inventory (JSON text), replacing the one before. */
  saveInventory(agentId: string, receivedAt: number, inventory: string): Promise<void>;
}

/** What ingesting one document did. */
export interface IngestOutcome {
  /** Check entries taken in: one per section of the document, one per custom check. */
  received_checks: number;
  /** True when the same document had been ingested before (nothing was stored again). */
  duplicate: boolean;
  /** Numeric samples the document carried. */
  samples: number;
  /**
   * How far, in seconds, the agent's clock was ahead of the server's when it was more than the
   * allowed skew (its document was then taken as collected now); null when its clock is fine.
   */
  clock_skew_seconds: number | null;
  /** Fields of the document that had the wrong type and were dropped. */
  dropped_fields: number;
}

/** Settings of ingest. */
export interface IngestPolicy {
  /** Least time between two writes of an agent's latest full document. */
  documentFlushMs: number;
  /** Consecutive non-OK results before a check's problem is HARD (Nagios' max_check_attempts). */
  maxCheckAttempts: number;
  /**
   * How far an agent's clock may be ahead of the server's: a document from further ahead is
   * taken as collected now, and the skew is reported (`agents.max_clock_skew_seconds`; five
   * minutes when not given).
   */
  maxClockSkewMs?: number;
}

/**
 * Ingest: the one way check data enters the server. Validates and decodes a document,
 * normalises it into samples, appends them with the check states it moves (and, now and then,
 * the document itself), and once committed delivers it on the bus (`IngestEvent`), waiting for
 * the subscribers that record something of it (the agent's facts) before it answers.
 */
export function createIngester(deps: {
  appender: Appender;
  store: IngestStore;
  now: () => number;
  policy: IngestPolicy;
  log?: { warn(o: object, m: string): void };
  /** Where each new document is delivered (`INGEST_TOPIC`); awaited, never failing a push. */
  bus?: EventBus;
}) {
  const { appender, store, now, policy } = deps;
  const checkInventory = checker(PackageInventory);
  const checks = createCheckTracker({
    checkStates: (hostId) => store.checkStates(hostId),
    maxCheckAttempts: policy.maxCheckAttempts,
  });
  /** The samples of the push being normalised. */
  const samples = new SampleBuffer();
  /** When each agent's latest document is next due to be written (documents are not kept). */
  const documentWritten = new Map<string, number>();
  let closed = false;
  const stats = { pushes: 0, samples: 0, duplicates: 0, droppedFields: 0 };
  /** Agents whose dropped fields were logged: once per agent (per process) is enough. */
  const droppedLogged = new Set<string>();

  /** Counts and (once per agent) logs the fields of a document that were dropped. */
  function noteDropped(agentId: string, dropped: string[]): void {
    stats.droppedFields += dropped.length;
    if (droppedLogged.has(agentId)) return;
    if (droppedLogged.size >= 10_000) droppedLogged.clear();
    droppedLogged.add(agentId);
    deps.log?.warn(
      { agent_id: agentId, dropped: dropped.slice(0, 20), count: dropped.length },
      'check data: fields of the wrong type were dropped (logged once per agent)',
    );
  }

  return {
    /**
     * Validates, normalises and stores one document of an agent on a host, collected at
     * `collectedAt` (epoch ms); without one, at the time the document itself says
     * (`agent.last_updated_timestamp`), else now. Resolves once it is committed and the
     * subscribers of its `IngestEvent` have taken it in.
     * @throws VigilError bad_data naming the first bad path; nothing is stored then.
     */
    async ingest(
      agent: { agentId: string; hostId: string },
      collectedAt: number | undefined,
      document: unknown,
    ): Promise<IngestOutcome> {
      if (closed) throw new VigilError('unavailable', 'the server is stopping');
      if (!isRecord(document))
        throw new VigilError('bad_data', 'checkdata: not a check-data document (an object)', {
          code: 'checkdata.invalid',
        });
      collectedAt ??= stampedCollectionTime(document, now());
      checkCollectionTime(collectedAt);
      // Fields of the wrong type are dropped and counted; the rest of the document is kept.
      const decoded = checkDataOf(document)!;
      const doc = decoded.document;
      const dropped = decoded.dropped.length;
      if (dropped > 0) noteDropped(agent.agentId, decoded.dropped);
      if (doc.customchecks) checks.parseOutputs(agent.hostId, doc.customchecks);
      // An agent whose clock is too far ahead: its document is taken as collected now (samples
      // from the future would sit ahead of every other host's and hold their rollups open).
      const t = now();
      let ts = Math.round(collectedAt);
      let skew: number | null = null;
      if (ts > t + (policy.maxClockSkewMs ?? 300_000)) {
        skew = Math.round((ts - t) / 1000);
        ts = t;
      }
      // The latest full document is written with the push at most every documentFlushMs per
      // agent: it is large, and what the API reads from it changes slowly.
      const due = documentWritten.get(agent.agentId);
      let latest: DocumentRow | undefined;
      if (due === undefined || t >= due) {
        // The next write is due after 75–125 % of the period: agents that started together
        // (after a server restart, say) drift apart instead of all writing in the same second.
        documentWritten.set(agent.agentId, t + policy.documentFlushMs * (0.75 + Math.random() / 2));
        latest = {
          agent_id: agent.agentId,
          collected_at: ts,
          received_at: t,
          document: documentJson(doc),
        };
      }
      let n: number;
      let isNew: boolean;
      let pushed: IngestEvent['samples'];
      let layout: number | undefined;
      let moved: CheckWrite[];
      try {
        const pending = checks.writes(agent.hostId, doc);
        const writes = pending instanceof Promise ? await pending : pending;
        // The buffer serves every push: it is filled and handed over without an await between.
        collectInto(doc, samples);
        const appended = appender.append({
          hostId: agent.hostId,
          agentId: agent.agentId,
          ts,
          samples,
          document: latest,
          checks: writes,
        });
        n = appended.samples;
        layout = appended.layout;
        // The buffer is refilled by the next push: the event gets its own copy of the samples.
        pushed = {
          keys: samples.keys.slice(0, samples.length),
          values: samples.values.slice(0, samples.length),
        };
        moved = writes;
        isNew = await appended.committed;
      } catch (err) {
        // The cached check states may be ahead of the database now: read them again next time.
        checks.forget(agent.hostId);
        throw err;
      }
      stats.pushes += 1;
      if (isNew) {
        stats.samples += n;
        const delivered = deps.bus?.deliver<IngestEvent>(INGEST_TOPIC, {
          agentId: agent.agentId,
          hostId: agent.hostId,
          collectedAt: ts,
          doc,
          clockSkewSeconds: skew,
          samples: pushed,
          ...(layout !== undefined ? { layout } : {}),
          checks: moved,
        });
        if (delivered) await delivered;
      } else stats.duplicates += 1;
      return {
        received_checks: countChecks(doc),
        duplicate: !isNew,
        samples: n,
        clock_skew_seconds: skew,
        dropped_fields: dropped,
      };
    },

    /**
     * Validates and stores a package inventory (the shape of the agent's `GET /packages`).
     * @throws VigilError bad_data naming the first bad path.
     */
    async ingestInventory(agentId: string, inventory: unknown): Promise<void> {
      const problem = checkInventory(inventory);
      if (problem)
        throw new VigilError('bad_data', `package inventory${problem}`, {
          code: 'inventory.invalid',
        });
      await store.saveInventory(agentId, now(), JSON.stringify(inventory));
    },

    /** Counters since start. */
    statistics: () => ({ ...stats }),

    /** Refuses every document from now on (the server stops). */
    close(): void {
      closed = true;
    },
  };
}

/** An ingester. */
export type Ingester = ReturnType<typeof createIngester>;
