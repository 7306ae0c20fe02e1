import type { AuditStore } from '../audit/service.js';
import type { JobEnqueuer } from '../jobs/model.js';

/**
 * What the alert services keep and read: the rows of `alerts`, `alert_transitions` and
 * `alert_silences` as the services see them (times epoch ms, labels decoded), and the store
 * interface the lifecycle and silences need. `store.ts` implements it.
 */

/** An alert as stored. */
export interface AlertRecord {
  id: string;
  dedup_key: string;
  rule_id: string;
  host_id: string;
  /** The host's name; null when the host is gone. */
  host_name: string | null;
  /** The rule's name; null when no rule of that id exists. */
  rule_name: string | null;
  agent_id: string | null;
  labels: Record<string, string>;
  type: string;
  severity: string;
  state: string;
  message: string;
  value: number | null;
  threshold: number | null;
  suppressed: boolean;
  silenced_until: number | null;
  /** The state a silenced alert goes back to when its silence ends. */
  silenced_from: string | null;
  /** The silence that silenced it; null when a person did. */
  silence_id: string | null;
  started_at: number;
  updated_at: number;
  resolved_at: number | null;
}

/** The columns of a new alert. */
export type NewAlertRecord = Omit<AlertRecord, 'host_name' | 'rule_name'>;

/** The columns a change of an alert may set. */
export type AlertChange = Partial<
  Pick<
    AlertRecord,
    | 'agent_id'
    | 'type'
    | 'severity'
    | 'state'
    | 'message'
    | 'value'
    | 'threshold'
    | 'suppressed'
    | 'silenced_until'
    | 'silenced_from'
    | 'silence_id'
    | 'updated_at'
    | 'resolved_at'
  >
>;

/** A transition as stored. */
export interface TransitionRecord {
  id: string;
  alert_id: string;
  from_state: string | null;
  to_state: string;
  severity: string;
  actor_type: string;
  actor_id: string | null;
  actor_label: string | null;
  reason: string | null;
  at: number;
  /** Orders transitions of one instant; pages the activity feed. */
  seq: number;
}

/** A silence as stored. */
export interface SilenceRecord {
  id: string;
  host_id: string | null;
  rule_id: string | null;
  labels: Record<string, string>;
  reason: string;
  starts_at: number;
  ends_at: number;
  created_by: string | null;
  created_at: number;
  /** When the open alerts it matched were put under it; null until it starts. */
  applied_at: number | null;
}

/** Filters of the alert list; every field is optional, times are epoch ms. */
export interface AlertQuery {
  states: readonly string[];
  severities?: readonly string[];
  hostId?: string;
  since?: number;
  until?: number;
  /** Continue after this alert (newest first: older than it). */
  after?: { startedAt: number; id: string };
  limit: number;
}

/**
 * The queries of the alert domain. Reads return undefined for what is absent and never throw
 * not_found. Conditional changes return how many rows they changed (0 or 1), so that a caller
 * racing another process can tell it lost.
 */
export interface AlertStore {
  get(id: string): Promise<AlertRecord | undefined>;
  /** The alerts of these ids that exist, in no particular order. */
  getMany(ids: readonly string[]): Promise<AlertRecord[]>;
  /** The open alert of a dedup key, if any. */
  openByKey(dedupKey: string): Promise<AlertRecord | undefined>;
  /**
   * Inserts an open alert. Returns false, changing nothing, when an open alert of its dedup key
   * exists (the unique index decided: another fire won).
   */
  insertOpen(row: NewAlertRecord): Promise<boolean>;
  /** Changes an alert when it is still as `expect` says (its state, its severity). */
  change(
    id: string,
    expect: { state: string; severity?: string },
    change: AlertChange,
  ): Promise<number>;
  list(q: AlertQuery): Promise<AlertRecord[]>;
  /** Open alerts, optionally only those of a host, of a rule or in some states. */
  open(filter?: {
    hostId?: string;
    ruleId?: string;
    states?: readonly string[];
  }): Promise<AlertRecord[]>;
  /** Silenced alerts whose `silenced_until` is at or before `at`. */
  silenceEnded(at: number): Promise<AlertRecord[]>;
  /** Open, silenced alerts a silence silenced. */
  silencedBy(silenceId: string): Promise<AlertRecord[]>;
  countsBySeverity(): Promise<Record<string, number>>;
  /** When a host's maintenance ends (epoch ms); null without maintenance, undefined without host. */
  maintenanceUntil(hostId: string): Promise<number | null | undefined>;
  insertTransition(row: TransitionRecord): Promise<void>;
  transitions(alertId: string): Promise<TransitionRecord[]>;
  /** Transitions of every alert, newest first, before a position (`at`, `seq`). */
  recentTransitions(
    before: { at: number; seq: number } | undefined,
    limit: number,
  ): Promise<TransitionRecord[]>;
  insertSilence(row: SilenceRecord): Promise<void>;
  silence(id: string): Promise<SilenceRecord | undefined>;
  /** Every silence, newest first; `activeAt` keeps those active then. */
  silences(activeAt?: number): Promise<SilenceRecord[]>;
  deleteSilence(id: string): Promise<number>;
  /** Marks a silence applied at `at`; returns 0 when it was already (another process did). */
  markApplied(id: string, at: number): Promise<number>;
  /** Active silences not applied yet (those that started since). */
  unapplied(at: number): Promise<SilenceRecord[]>;
}

/** The stores of one alert unit of work: the alert store, the audit log and the job queue. */
export interface AlertStores {
  alerts: AlertStore;
  audit: AuditStore;
  jobs: JobEnqueuer;
}
