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
