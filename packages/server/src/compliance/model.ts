import type { ComplianceStatus } from '@vigil/protocol';

/** A rule's current state on a host, as stored. Times are epoch ms. */
export interface ComplianceStateRow {
  host_id: string;
  pack_id: string;
  rule_id: string;
  status: ComplianceStatus;
  detail: string | null;
  /** Since when the rule holds this status (the evaluation that first reported it). */
  since: number;
  /** The evaluation that last reported it. */
  evaluated_at: number;
}

/** A rule's status change on a host, as stored (`id` counts up in the order they were recorded). */
export interface ComplianceChangeRow {
  id: number;
  host_id: string;
  pack_id: string;
  rule_id: string;
  from_status: ComplianceStatus;
  to_status: ComplianceStatus;
  detail: string | null;
  at: number;
}

/** A change with its host's name, as fleet pages list them. */
export interface FleetChangeRow extends ComplianceChangeRow {
  host_name: string;
}

/** How many live hosts hold a rule in one status. */
export interface RuleStatusCount {
  pack_id: string;
  rule_id: string;
  status: string;
  hosts: number;
}

/** How many rules a live host holds in one status. */
export interface HostStatusCount {
  host_id: string;
  host_name: string;
  status: string;
  rules: number;
}

/** How many rules a host holds in one status, and the newest evaluation among them (epoch ms). */
export interface HostStateCount {
  host_id: string;
  status: string;
  rules: number;
  evaluated_at: number;
}

/** Rules of one pack: all of them (`rules` absent) or those with these ids. */
export interface PackScope {
  pack: string;
  rules?: readonly string[];
}

/**
 * Where compliance states and changes are kept. Fleet reads count only live hosts (not deleted,
 * not disabled); a deleted host's rows stay.
 */
export interface ComplianceStore {
  /** Every rule state of a host. */
  states(hostId: string): Promise<ComplianceStateRow[]>;
  /** Inserts the states, or replaces those of the same host, pack and rule. */
  saveStates(rows: readonly ComplianceStateRow[]): Promise<void>;
  /** Deletes these states (by host, pack and rule). */
  deleteStates(
    rows: readonly Pick<ComplianceStateRow, 'host_id' | 'pack_id' | 'rule_id'>[],
  ): Promise<void>;
  /** Appends changes (their ids are given by the store). */
  addChanges(rows: readonly Omit<ComplianceChangeRow, 'id'>[]): Promise<void>;
  /** A host's newest changes first (by id). */
  hostChanges(hostId: string, limit: number): Promise<ComplianceChangeRow[]>;
  /**
   * Live hosts' changes newest first (by id), with ids below `beforeId` when given, of one host
   * when `hostId` is given.
   */
  fleetChanges(q: { hostId?: string; beforeId?: number; limit: number }): Promise<FleetChangeRow[]>;
  /** Per rule and status, how many live hosts hold it. */
  ruleCounts(): Promise<RuleStatusCount[]>;
  /** Per live host and status, how many rules it holds in it. */
  hostCounts(): Promise<HostStatusCount[]>;
  /**
   * Per host (of `hostIds`, or every host when absent) and status, how many states of the rules
   * in `scope` it holds: one grouped query. An empty scope counts nothing.
   */
  stateCounts(scope: readonly PackScope[], hostIds?: readonly string[]): Promise<HostStateCount[]>;
}
