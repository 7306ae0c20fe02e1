import { createHash } from 'node:crypto';

/**
 * The alert domain's shared vocabulary: what the rule evaluator tells the alert lifecycle
 * (`AlertSignal` through an `AlertSink`), what the lifecycle keeps and renders (`AlertItem`,
 * `AlertTransition`), and Tyto's global thresholds. Evaluation (`evaluate/`), the lifecycle
 * (`lifecycle/`), notifications and the dashboard all speak it.
 */

/** How bad an alert is, least to worst. */
export type Severity = 'info' | 'warning' | 'critical';

/** Severities, least to worst. */
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];

/**
 * An alert's state. `active`, `acknowledged` and `silenced` are open (one open alert per
 * `dedup_key`); `resolved` and `dismissed` are closed and final.
 */
export type AlertState = 'active' | 'acknowledged' | 'silenced' | 'resolved' | 'dismissed';

/** The states of an open alert. */
export const OPEN_STATES: readonly AlertState[] = ['active', 'acknowledged', 'silenced'];

/**
 * The events of `alert.notify` jobs (the lifecycle queues one with each transition that
 * notifies): what happened to an alert, for notifications to word.
 */
export type AlertNotifyEvent =
  | 'opened'
  | 'escalated'
  | 'deescalated'
  | 'acknowledged'
  | 'silenced'
  | 'unsilenced'
  | 'resolved'
  | 'dismissed';

/** Who made a transition: a person or client (with the request's actor), or Vigil itself. */
export interface TransitionActor {
  type: 'user' | 'client' | 'system';
  id: string | null;
  label: string | null;
}

/** One recorded step of an alert's life. Times are ISO 8601 in the API, epoch ms inside. */
export interface AlertTransition {
  id: string;
  alert_id: string;
  /** Null for the step that opened the alert. */
  from: AlertState | null;
  to: AlertState;
  /** Besides state changes, a severity change of an open alert is recorded as a step too. */
  severity: Severity;
  actor: TransitionActor;
  reason: string | null;
  at: string;
}

/**
 * An alert as `GET /api/v1/alerts` renders it: Tyto's fields (`id, type, level, message, value,
 * threshold, agent_id, acknowledged, created_at`) and Vigil's.
 */
export interface AlertItem {
  id: string;
  /** The rule's kind or metric family (`cpu`, `memory`, `disk`, `check`, `agent_offline` …). */
  type: string;
  /** Tyto's name for the severity. */
  level: Severity;
  message: string;
  value: number | null;
  threshold: number | null;
  agent_id: string | null;
  acknowledged: boolean;
  created_at: string;
  host_id: string;
  /** The host's name, for people. */
  host_name: string | null;
  rule_id: string;
  rule_name: string | null;
  severity: Severity;
  state: AlertState;
  labels: Record<string, string>;
  dedup_key: string;
  started_at: string;
  resolved_at: string | null;
  /** Until when a silenced alert stays silenced. */
  silenced_until: string | null;
  /** True when the host was in maintenance or a silence matched: recorded, notifies no one. */
  suppressed: boolean;
  updated_at: string;
}

/** What identifies one alert condition: a rule on a host for one set of labels. */
export interface AlertKey {
  ruleId: string;
  hostId: string;
  /** The series' labels that tell instances apart (a disk's `mountpoint`, a check's `check`). */
  labels: Record<string, string>;
}

/** A condition that holds now, as the evaluator reports it. */
export interface AlertSignal extends AlertKey {
  /** The alert's `type` (see `AlertItem.type`). */
  type: string;
  severity: Severity;
  message: string;
  value: number | null;
  threshold: number | null;
  /** The agent whose data raised it, if any. */
  agentId: string | null;
  /** When the condition was observed (epoch ms). */
  at: number;
}

/**
 * Where the evaluator reports conditions: the alert lifecycle. Calls are idempotent: firing a
 * condition that already has an open alert updates it (value, severity, message) instead of
 * opening another; clearing one that has none does nothing.
 */
export interface AlertSink {
  /** The condition holds (its `for` has passed): opens its alert, or updates the open one. */
  fire(signal: AlertSignal): Promise<void>;
  /** The condition no longer holds (past its hysteresis): resolves its open alert, if any. */
  clear(key: AlertKey, at: number): Promise<void>;
  /** The keys and severities of every open alert raised by rules, to seed the evaluator. */
  open(): Promise<(AlertKey & { severity: Severity })[]>;
}

/** One metric family's global thresholds (percent), as Tyto names them. */
export interface ThresholdPair {
  warning: number;
  critical: number;
}

/** Tyto's global thresholds: `GET /api/v1/alerts` (`config`), `POST /api/v1/alerts/config`. */
export interface GlobalThresholds {
  cpu: ThresholdPair;
  memory: ThresholdPair;
  disk: ThresholdPair;
}

/** Tyto's documented defaults. */
export const DEFAULT_THRESHOLDS: GlobalThresholds = {
  cpu: { warning: 80, critical: 95 },
  memory: { warning: 85, critical: 95 },
  disk: { warning: 80, critical: 90 },
};

/** Labels in a fixed order, so that the same set always gives the same text. */
export function canonicalLabels(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
}

/**
 * The `dedup_key` of a condition: the same rule, host and labels always give the same key, and
 * only one alert with a key is open at a time.
 */
export function dedupKey(key: AlertKey): string {
  return createHash('sha256')
    .update(`${key.ruleId}\n${key.hostId}\n${canonicalLabels(key.labels)}`)
    .digest('hex')
    .slice(0, 32);
}
