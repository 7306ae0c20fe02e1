import type { AlertSink, GlobalThresholds } from '../model.js';
import type { AlertOverrides, HostFacts, Rule } from '../rules.js';
import type { Point } from './forecast.js';
import type { Liveness } from './unreachable.js';

/** One file system's recent used bytes, for the disk forecast. */
export interface DiskSeries {
  mount: string;
  totalBytes: number;
  /** Used bytes, times in seconds, oldest first. */
  used: Point[];
}

/** What the evaluator reads, declared here where it is used. */
export interface EvaluatorDeps {
  rules: { all(): Promise<Rule[]>; onChange(fn: () => void): void };
  sink: AlertSink;
  thresholds: { get(): Promise<GlobalThresholds> };
  hosts: {
    /** A host's facts for scopes; undefined for an unknown or deleted host. */
    facts(hostId: string): Promise<HostFacts | undefined>;
    /** Every enabled host (the periodic built-ins only). */
    all(): Promise<HostFacts[]>;
  };
  /** A host's overrides (its resolved `vars.alerts`). */
  overrides(hostId: string): Promise<AlertOverrides>;
  parseKey(key: string): { metric: string; labels: Record<string, string> };
  /** Every host's liveness from the connectivity worker, by host id. */
  liveness(): Promise<Map<string, Liveness>>;
  /** Approved agents' client certificates with their host. */
  certificates(): Promise<{ agentId: string; hostId: string; notAfter: number }[]>;
  /** A host's file systems with their used bytes between `from` and `to` (epoch ms). */
  disks(hostId: string, from: number, to: number): Promise<DiskSeries[]>;
  now: () => number;
  log: (err: unknown, what: string) => void;
  /** How long a host's matching rules stay cached (ms); 30 s by default (the server sets 5 minutes). */
  hostTtlMs?: number;
}
