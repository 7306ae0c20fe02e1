import type { CheckDocument } from '@vigil/protocol/decode';

/**
 * The core's event types: what services publish on the bus (`bus.ts`). Faces subscribe to them
 * and render them in their product's shape; the core never imports a face.
 */

/** The bus topic of ingested documents. */
export const INGEST_TOPIC = 'metrics';

/**
 * What ingest publishes (topic `INGEST_TOPIC`) for every new document, once it is committed:
 * the decoded document of an agent on a host, collected at `collectedAt` (epoch ms, as stored).
 * Subscribers must not change the document.
 */
export interface IngestEvent {
  agentId: string;
  hostId: string;
  collectedAt: number;
  doc: CheckDocument;
}
