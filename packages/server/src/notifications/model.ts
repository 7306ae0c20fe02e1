import type { AlertItem, AlertNotifyEvent, Severity } from '../alerts/model.js';

/**
 * The notification domain's vocabulary: channels (where messages go, with their routing
 * filters and pacing), the message a sender renders, and the small interfaces the domain
 * needs from the alert lifecycle, the hosts and the job queue.
 */

/** The kinds of channel, one sender each. */
export type ChannelType = 'webhook' | 'email' | 'slack' | 'ntfy' | 'alertmanager';

/** Every channel type. */
export const CHANNEL_TYPES: readonly ChannelType[] = [
  'webhook',
  'email',
  'slack',
  'ntfy',
  'alertmanager',
];

/** The lifecycle events a channel is told of (the `event` of an `alert.notify` job). */
export type AlertEventKind = AlertNotifyEvent;

/** What a message tells of: a lifecycle event, or a reminder of an alert still unacknowledged. */
export type MessageEvent = AlertEventKind | 'reminder';

/** Routing: an alert reaches a channel when every filter given matches it. */
export interface ChannelFilters {
  severities?: Severity[];
  /** The alert's host carries at least one of these tags. */
  host_tags?: string[];
  environments?: string[];
  rule_ids?: string[];
}

/** The settings of a channel as stored and shown (no secret among them). */
export type PublicSettings = Record<string, unknown>;

/** A channel's secrets, sealed at rest, never answered. */
export type ChannelSecrets = Record<string, unknown>;

/** A channel as stored. Times are epoch ms; booleans 0/1. */
export interface ChannelRow {
  id: string;
  name: string;
  type: ChannelType;
  enabled: number;
  settings: PublicSettings;
  /** The secrets, sealed as one JSON object; null with none. */
  secrets_sealed: string | null;
  filters: ChannelFilters;
  group_wait_seconds: number;
  repeat_interval_seconds: number;
  rate_limit_per_hour: number;
  send_resolved: number;
  created_at: number;
  updated_at: number;
}

/** A channel as the API shows it: public settings plus a `has_<secret>` flag per secret. */
export interface ChannelView {
  id: string;
  name: string;
  type: ChannelType;
  enabled: boolean;
  settings: Record<string, unknown>;
  filters: ChannelFilters;
  group_wait_seconds: number;
  repeat_interval_seconds: number;
  rate_limit_per_hour: number;
  send_resolved: boolean;
  created_at: string;
  updated_at: string;
}

/** A channel ready to send on: its settings with its secrets opened. Never answered. */
export interface OpenChannel {
  id: string;
  name: string;
  type: ChannelType;
  settings: PublicSettings;
  secrets: ChannelSecrets;
}

/** One message to a channel: the alerts of one group (or a summary, a reminder, a test). */
export interface NotificationMessage {
  /** `alerts` for a group, `summary` for alerts folded by the rate limit, `test` for `:test`. */
  kind: 'alerts' | 'summary' | 'test';
  event: MessageEvent;
  /** Firing unless every alert is closed. */
  status: 'firing' | 'resolved';
  /** One line for people: subject, title, Slack text. */
  title: string;
  /** The group's identity: channel, rule and event kind. */
  group: { key: string; channel_id: string; rule_id: string | null; event: MessageEvent };
  alerts: AlertItem[];
  /** Where the console is, for links (empty when unknown). */
  external_url: string;
  /** When the message was rendered (ISO 8601). */
  at: string;
}

/** What a sender reports of a delivery it made. */
export interface SendResult {
  /** The receiver's HTTP status, or the SMTP reply code. */
  status?: number;
}

/**
 * One channel type's delivery. `send` resolves when the receiver accepted the message and
 * throws an Error with a descriptive message otherwise: a non-2xx answer, a refused
 * connection, or no answer within `timeoutMs`.
 */
export interface Sender {
  send(channel: OpenChannel, message: NotificationMessage, timeoutMs: number): Promise<SendResult>;
}

/** What the domain reads of alerts: the lifecycle's. */
export interface AlertSource {
  /** One alert, undefined when absent. */
  get(id: string): Promise<AlertItem | undefined>;
  /** Every open alert. */
  listOpen(): Promise<AlertItem[]>;
}

/** What routing reads of hosts. */
export interface HostFacts {
  /** The host's tags and environment; undefined for an unknown host. */
  facts(hostId: string): Promise<{ tags: string[]; environment: string | null } | undefined>;
}

/** A job handler: throwing makes the queue retry the job with backoff. */
export type JobHandler = (payload: unknown) => Promise<void>;

/** Where the domain registers its job handlers: the job runner. */
export interface JobRegistry {
  register(kind: string, handler: JobHandler): void;
}

/** The job kinds the domain handles. */
export const JOB_KINDS = {
  notify: 'alert.notify',
  flush: 'notification.flush',
  deliver: 'notification.deliver',
} as const;
