import type { AlertItem, AlertState, AlertTransition, Severity } from './model.js';
import type { AlertRecord, TransitionRecord } from './records.js';

/** An epoch-millisecond time as ISO 8601. */
const iso = (ms: number): string => new Date(ms).toISOString();

/** An alert as the API renders it: Tyto's fields and Vigil's. */
export function itemOf(r: AlertRecord): AlertItem {
  return {
    id: r.id,
    type: r.type,
    level: r.severity as Severity,
    message: r.message,
    value: r.value,
    threshold: r.threshold,
    agent_id: r.agent_id,
    acknowledged: r.state === 'acknowledged',
    created_at: iso(r.started_at),
    host_id: r.host_id,
    host_name: r.host_name,
    rule_id: r.rule_id,
    // Rules are named by their own domain; the alert keeps only the rule's id.
    rule_name: r.rule_name,
    severity: r.severity as Severity,
    state: r.state as AlertState,
    labels: r.labels,
    dedup_key: r.dedup_key,
    started_at: iso(r.started_at),
    resolved_at: r.resolved_at === null ? null : iso(r.resolved_at),
    silenced_until: r.silenced_until === null ? null : iso(r.silenced_until),
    suppressed: r.suppressed,
    updated_at: iso(r.updated_at),
  };
}

/** A transition as the API renders it. */
export function transitionOf(r: TransitionRecord): AlertTransition {
  return {
    id: r.id,
    alert_id: r.alert_id,
    from: r.from_state as AlertState | null,
    to: r.to_state as AlertState,
    severity: r.severity as Severity,
    actor: {
      type: r.actor_type === 'user' || r.actor_type === 'client' ? r.actor_type : 'system',
      id: r.actor_id,
      label: r.actor_label,
    },
    reason: r.reason,
    at: iso(r.at),
  };
}
