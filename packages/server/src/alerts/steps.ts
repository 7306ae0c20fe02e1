import { randomUUID } from 'node:crypto';
import type { Actor } from '../audit/service.js';
import type { AlertEvent } from '../events/types.js';
import { itemOf, transitionOf } from './render.js';
import type { AlertRecord, AlertStore, AlertStores, TransitionRecord } from './records.js';
import type { AlertNotifyEvent, AlertState, Severity } from './model.js';

/** The job kind queued for a transition that notifies. */
export const ALERT_NOTIFY_JOB = 'alert.notify';

/** The payload of an `alert.notify` job. */
export interface AlertNotifyPayload {
  alert_id: string;
  transition_id: string;
  event: AlertNotifyEvent;
}

/** One step to record, within the unit of work that changed the alert. */
export interface Step {
  /** The alert as it is after the change. */
  alert: AlertRecord;
  from: AlertState | null;
  event: AlertNotifyEvent;
  actor: Actor;
  reason: string | null;
  /** Whether an `alert.notify` job is queued (false for suppressed alerts). */
  notify: boolean;
}

/** The system as the actor of automatic transitions. */
export const SYSTEM: Actor = { type: 'system', id: null, label: 'vigil' };

/** What the transitions of one unit of work published once it committed. */
export type Published = { alertId: string; transition: TransitionRecord }[];

/**
 * Records transitions and publishes them. `record` writes the transition row and, when the step
 * notifies, its `alert.notify` job, in the caller's transaction; `publish` tells the bus of the
 * recorded steps after that transaction committed, with the alert as it is then.
 */
export function createSteps(deps: {
  now: () => number;
  publish: (event: AlertEvent) => void;
  store: AlertStore;
}) {
  // Orders transitions of one millisecond: the clock in microseconds, counting up.
  let seq = deps.now() * 1000;
  const nextSeq = () => {
    seq = Math.max(seq + 1, deps.now() * 1000);
    return seq;
  };
  return {
    async record(s: AlertStores, step: Step, out: Published): Promise<TransitionRecord> {
      const a = step.alert;
      const t: TransitionRecord = {
        id: randomUUID(),
        alert_id: a.id,
        from_state: step.from,
        to_state: a.state,
        severity: a.severity,
        actor_type: actorType(step.actor.type),
        actor_id: step.actor.id,
        actor_label: step.actor.label,
        reason: step.reason,
        at: a.updated_at,
        seq: nextSeq(),
      };
      await s.alerts.insertTransition(t);
      if (step.notify)
        await s.jobs.enqueue({
          kind: ALERT_NOTIFY_JOB,
          payload: {
            alert_id: a.id,
            transition_id: t.id,
            event: step.event,
          } satisfies AlertNotifyPayload,
        });
      out.push({ alertId: a.id, transition: t });
      return t;
    },
    async publish(out: Published): Promise<void> {
      if (out.length === 0) return;
      const now = new Map(
        (await deps.store.getMany([...new Set(out.map((p) => p.alertId))])).map((a) => [a.id, a]),
      );
      for (const p of out) {
        const a = now.get(p.alertId);
        if (a) deps.publish({ alert: itemOf(a), transition: transitionOf(p.transition) });
      }
    },
  };
}

/** The event of a severity change. */
export const severityEvent = (from: string, to: Severity): AlertNotifyEvent =>
  rank(to) > rank(from) ? 'escalated' : 'deescalated';

const rank = (s: string) => ['info', 'warning', 'critical'].indexOf(s);

/** The transition's actor type of an audit actor: an OAuth client acting as itself is `client`. */
const actorType = (t: Actor['type']): 'user' | 'client' | 'system' =>
  t === 'user' ? 'user' : t === 'oauth_client' ? 'client' : 'system';
