import type { CheckDocument } from '@vigil/protocol/decode';
import type { AlertItem, AlertTransition } from '../alerts/model.js';
import type { CheckState } from '../telemetry/ingest/checks.js';
import type { LogEntryItem } from '../logs/model.js';

/**
 * The core's event types: what services publish on the bus (`bus.ts`). Faces subscribe to them
 * and render them in their product's shape; the core never imports a face.
 */

/** The bus topic of ingested documents. */
export const INGEST_TOPIC = 'metrics';

/**
 * What ingest delivers (topic `INGEST_TOPIC`) for every new document, once it is committed:
 * the decoded document of an agent on a host, collected at `collectedAt` (epoch ms, as stored).
 * A document that was stored before (a duplicate) is not delivered again. Subscribers must not
 * change the event or its document.
 *
 * Ingest waits for the subscribers (`EventBus.deliver`) before it answers the push, so that what
 * they record (the agent's facts) is there when the agent's caller reads it; a subscriber that
 * fails is logged and does not fail the push. A synchronous subscriber (the live stream) keeps
 * its work cheap: it runs on every push.
 */
export interface IngestEvent {
  agentId: string;
  hostId: string;
  collectedAt: number;
  doc: CheckDocument;
  /**
   * How far, in seconds, the agent's clock was ahead of the server's when it was more than the
   * allowed skew (the document was then taken as collected now); null when its clock is fine.
   */
  clockSkewSeconds: number | null;
  /**
   * The numeric samples the document was normalised into: `keys[i]` (a series key,
   * `metric{label="value",…}`) has `values[i]`. A copy, the push's own: a subscriber may keep it.
   */
  samples: { keys: readonly string[]; values: Float64Array };
  /**
   * The same number for every push of the host with the same keys in the same order (its
   * stored layout); absent when the push's key list was new to the host.
   */
  layout?: number;
  /**
   * The check states this document moved (new executions of custom checks only), with whether
   * the state or its type changed; empty when no plugin ran again since the last document.
   */
  checks: readonly { name: string; state: CheckState; changed: boolean }[];
}

/** The bus topic of agents' status changes. */
export const AGENT_STATUS_TOPIC = 'agent';

/**
 * An agent's status changed (topic `AGENT_STATUS_TOPIC`): it came online or went offline (three
 * missed intervals), or an operator approved, rejected, revoked or removed it (`deleted`).
 * `previous_status` is null for an agent that did not exist before. Times are epoch ms.
 */
export interface AgentStatusEvent {
  agentId: string;
  hostId: string | null;
  status: 'online' | 'offline' | 'pending' | 'rejected' | 'revoked' | 'deleted';
  previousStatus: AgentStatusEvent['status'] | null;
  at: number;
}

/** The bus topic of enrollments: an agent asked to enroll, or an operator decided on it. */
export const ENROLLMENT_TOPIC = 'enrollment';

/** An enrollment asked for or decided (topic `ENROLLMENT_TOPIC`). Times are epoch ms. */
export interface EnrollmentEvent {
  agentId: string;
  name: string;
  hostname: string | null;
  kind: string;
  status: 'pending' | 'approved' | 'rejected';
  at: number;
}

/** The bus topic of alerts' changes. */
export const ALERT_TOPIC = 'alert';

/**
 * An alert was opened, or moved from one state to another (topic `ALERT_TOPIC`), after the change
 * committed. `alert` is the alert as the API renders it after the change (`AlertItem` of
 * `alerts/model.ts`); `transition` is the step that was recorded.
 */
export interface AlertEvent {
  alert: AlertItem;
  transition: AlertTransition;
}

/** The bus topic of stored log lines. */
export const LOGS_TOPIC = 'logs';

/**
 * Log lines were committed (topic `LOGS_TOPIC`): the lines of one push, in id order, as the API
 * renders them (without `host_name`). Published after the commit; subscribers must not change it.
 */
export interface LogsEvent {
  entries: LogEntryItem[];
}
