/** Stored deployments: the rows and the store interface the deployments service needs. */
import type { AuditStore } from '../audit/service.js';

/** A deployment without its snapshot, as lists show it. */
export interface DeploymentSummaryRow {
  id: string;
  /** SHA-1 of the canonical snapshot, 40 hex digits; unique. */
  checksum: string;
  created_at: number;
  /** The label of who deployed it first. */
  created_by: string | null;
  /** How many objects the snapshot holds. */
  objects: number;
  /** When it last became the active deployment; the active one is the latest. */
  activated_at: number | null;
}

/** A whole deployment row; `snapshot` is the canonical JSON text of the snapshot. */
export interface DeploymentRow extends DeploymentSummaryRow {
  snapshot: string;
}

/** Where deployments are kept. Rows are never changed, except when they are activated. */
export interface DeploymentStore {
  /** Undefined when absent. */
  byId(id: string): Promise<DeploymentRow | undefined>;
  /** Undefined when absent. */
  byChecksum(checksum: string): Promise<DeploymentRow | undefined>;
  /** The deployment activated last; undefined before the first deploy. */
  active(): Promise<DeploymentRow | undefined>;
  insert(row: DeploymentRow): Promise<void>;
  /** Makes a deployment the active one, as of `at` (epoch ms). */
  activate(id: string, at: number): Promise<void>;
  /** Newest first, at most `limit`; `before` is the keyset position of the previous page's last. */
  list(opts: {
    before?: { createdAt: number; id: string };
    limit: number;
  }): Promise<DeploymentSummaryRow[]>;
  /** The deployments with any of these checksums (in no particular order). */
  byChecksums(checksums: string[]): Promise<DeploymentSummaryRow[]>;
}

/** The stores a deploy writes, within one transaction. */
export interface DeploymentStores {
  deployments: DeploymentStore;
  audit: AuditStore;
}
