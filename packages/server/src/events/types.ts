import type { CheckDocument } from '@vigil/protocol/decode';

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
