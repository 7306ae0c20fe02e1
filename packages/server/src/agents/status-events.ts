import type { AgentView } from '@vigil/protocol';
import { VigilError } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import {
  AGENT_STATUS_TOPIC,
  ENROLLMENT_TOPIC,
  type AgentStatusEvent,
  type EnrollmentEvent,
  type IngestEvent,
} from '../events/types.js';

/** What the watch reads: agents as the agents list shows them (the agents registry). */
export interface AgentLister {
  /** Every agent with its current status. */
  list(): Promise<AgentView[]>;
  /** One agent with its current status. @throws VigilError not_found when it does not exist. */
  get(id: string): Promise<AgentView>;
}

/** What the watch last saw of an agent. */
interface Seen {
  status: AgentView['status'];
  approval: AgentView['approval'];
  hostId: string | null;
}

/**
 * Watches agents' statuses and publishes their changes on the bus: `AGENT_STATUS_TOPIC` when an
 * agent comes online, goes offline, is approved, rejected, revoked or removed, and
 * `ENROLLMENT_TOPIC` when an agent asks to enroll (a new pending agent) or its enrollment is
 * decided. Live views (the stream) render them; nothing is stored.
 *
 * `sweep` compares the whole list with what it saw last (one query; the scheduler runs it every
 * few seconds); `check` looks at one agent after a change to it (the agents' mutations call it);
 * `onDocument`, a subscriber of the ingest event, notices an agent coming back online at its
 * first document, in constant time.
 * The first sweep only learns the statuses: what changed before the process started is not news.
 */
export function createAgentStatusWatch(deps: {
  agents: AgentLister;
  bus: EventBus;
  now: () => number;
}) {
  const { bus, now } = deps;
  const seen = new Map<string, Seen>();
  let ready = false;
  /** Sweeps run one at a time, in order. */
  let running: Promise<void> = Promise.resolve();

  const agentEvent = (e: AgentStatusEvent) => bus.publish(AGENT_STATUS_TOPIC, e);
  const enrollmentEvent = (e: EnrollmentEvent) => bus.publish(ENROLLMENT_TOPIC, e);

  /** Notes an agent as it is now; publishes what changed since it was last seen. */
  function observe(v: AgentView, at: number, enrolled: boolean): void {
    const before = seen.get(v.id);
    seen.set(v.id, { status: v.status, approval: v.approval, hostId: v.host_id });
    if (!ready) return;
    if (before?.status !== v.status)
      agentEvent({
        agentId: v.id,
        hostId: v.host_id,
        status: v.status,
        previousStatus: before?.status ?? null,
        at,
      });
    // An enrollment approved at once (`agents.auto_approve_*`) is asked and decided together.
    const asked =
      before === undefined && (v.approval === 'pending' || (enrolled && v.approval === 'approved'));
    const decided =
      before?.approval === 'pending' && (v.approval === 'approved' || v.approval === 'rejected');
    if (asked || decided)
      enrollmentEvent({
        agentId: v.id,
        name: v.name,
        hostname: v.hostname,
        kind: v.kind,
        status: v.approval as EnrollmentEvent['status'],
        at,
      });
  }

  /** Notes an agent that no longer exists. */
  function gone(id: string, at: number): void {
    const before = seen.get(id);
    if (!before) return;
    seen.delete(id);
    if (ready)
      agentEvent({
        agentId: id,
        hostId: before.hostId,
        status: 'deleted',
        previousStatus: before.status,
        at,
      });
  }

  /** Runs checks one at a time, in order. */
  function serially(fn: () => Promise<void>): Promise<void> {
    const next = running.then(fn);
    running = next.catch(() => undefined);
    return next;
  }

  return {
    /** Compares every agent's status with what was seen last and publishes what changed. */
    sweep(): Promise<void> {
      return serially(async () => {
        const views = await deps.agents.list();
        const at = now();
        const present = new Set<string>();
        for (const v of views) {
          present.add(v.id);
          observe(v, at, false);
        }
        for (const id of [...seen.keys()]) if (!present.has(id)) gone(id, at);
        ready = true;
      });
    },

    /**
     * Checks one agent after a change to it (one read); `enrolled` when the change was its own
     * request to enroll (an enrollment approved at once is told as one).
     */
    check(id: string, enrolled = false): Promise<void> {
      return serially(async () => {
        let view: AgentView | undefined;
        try {
          view = await deps.agents.get(id);
        } catch (err) {
          if (!(err instanceof VigilError && err.kind === 'not_found')) throw err;
        }
        if (view) observe(view, now(), enrolled);
        else gone(id, now());
      });
    },

    /**
     * Notes an ingested document: an approved agent seen as not online is online from now on.
     * Constant time: it runs on every push.
     */
    onDocument(e: IngestEvent): void {
      const s = seen.get(e.agentId);
      if (!ready || s === undefined || s.status === 'online' || s.approval !== 'approved') return;
      const previous = s.status;
      s.status = 'online';
      agentEvent({
        agentId: e.agentId,
        hostId: e.hostId,
        status: 'online',
        previousStatus: previous,
        at: now(),
      });
    },
  };
}

/** The agents' status watch. */
export type AgentStatusWatch = ReturnType<typeof createAgentStatusWatch>;
