import type { CheckState } from './ingest/checks.js';

// The rows that a push carries besides its samples, shared by ingest (which makes them), the
// tsdb's group commit (which writes them with the samples) and the telemetry store (which reads
// them back).

/** The latest document of an agent, as stored. */
export interface DocumentRow {
  agent_id: string;
  collected_at: number;
  received_at: number;
  /** The document as JSON text. */
  document: string;
}

/** A check's new state, to be written with its push (and a history entry when it changed). */
export interface CheckWrite {
  hostId: string;
  name: string;
  state: CheckState;
  changed: boolean;
}
