import type { ChangeKind } from '../system/settings.js';

/** Every kind of event host intelligence records, in the order the API documents them. */
export const INTEL_KINDS = [
  'package.installed',
  'package.removed',
  'package.upgraded',
  'kernel.changed',
  'host.rebooted',
  'port.opened',
  'port.closed',
  'user.added',
  'user.removed',
  'unit.failed',
  'unit.recovered',
] as const;

/** One kind of event. */
export type IntelKind = (typeof INTEL_KINDS)[number];

/** The settings switch (`changes.<switch>` of the intelligence settings) of each kind. */
export const SWITCH_OF: Record<IntelKind, ChangeKind> = {
  'package.installed': 'packages',
  'package.removed': 'packages',
  'package.upgraded': 'packages',
  'kernel.changed': 'kernel',
  'host.rebooted': 'reboot',
  'port.opened': 'ports',
  'port.closed': 'ports',
  'user.added': 'users',
  'user.removed': 'users',
  'unit.failed': 'units',
  'unit.recovered': 'units',
};

/** A listening socket as the state keeps it (the document's `listening_ports` entry). */
export interface PortEntry {
  protocol: string;
  address: string;
  port: number;
  process?: string;
  pid?: number;
}

/** A local account as the state keeps it (the document's `accounts` entry). */
export interface AccountEntry {
  name: string;
  uid?: number;
  gid?: number;
  home?: string;
  shell?: string;
}

/**
 * What host intelligence last knew of a host: what the next document or inventory is compared
 * with. A part that is null was never seen (its first sighting only sets it, without events).
 * Times are epoch ms.
 */
export interface HostState {
  /** `agent.kernel_version`. */
  kernel: string | null;
  /** When the host booted: the document's time less its `agent.system_uptime`. */
  boot_time: number | null;
  /** The time of the newest document compared (older ones are not compared). */
  seen_at: number | null;
  /** Listening sockets. */
  ports: PortEntry[] | null;
  /** Local accounts. */
  accounts: AccountEntry[] | null;
  /** The systemd units whose ActiveState is `failed`, by name, sorted. */
  failed_units: string[] | null;
  /** Installed packages: name → version (several versions of one name joined by a space). */
  packages: Record<string, string> | null;
  /** When the packages were last compared. */
  packages_at: number | null;
}

/** A host's state that was never set. */
export const emptyState = (): HostState => ({
  kernel: null,
  boot_time: null,
  seen_at: null,
  ports: null,
  accounts: null,
  failed_units: null,
  packages: null,
  packages_at: null,
});

/** An event to record. `detail` is a JSON object; `at` epoch ms. */
export interface NewIntelEvent {
  kind: IntelKind;
  subject: string;
  detail: Record<string, unknown>;
  at: number;
}

/** A recorded event as the store reads it, with its host's name. */
export interface IntelEventRow {
  id: number;
  host_id: string;
  host_name: string | null;
  kind: string;
  subject: string;
  /** JSON text of an object. */
  detail: string;
  at: number;
}

/** A filter of the events list. Times are epoch ms, inclusive. */
export interface IntelEventQuery {
  hostId?: string;
  /** Only these kinds; all when absent. */
  kinds?: readonly string[];
  sinceMs?: number;
  untilMs?: number;
  /** Only events with an id below this one (the page before ended there). */
  beforeId?: number;
  limit: number;
}

/** Where host intelligence keeps its states and events. */
export interface IntelligenceStore {
  /** A host's stored state (its JSON text), or undefined when it has none yet. */
  state(hostId: string): Promise<{ state: string; updated_at: number } | undefined>;
  /**
   * Records `events` and replaces the host's state with `state` (JSON text) in one transaction.
   * `at` is the state's `updated_at` (epoch ms).
   */
  save(hostId: string, state: string, events: readonly NewIntelEvent[], at: number): Promise<void>;
  /** Events newest first (by id), filtered, at most `limit`. */
  events(q: IntelEventQuery): Promise<IntelEventRow[]>;
  /** Deletes at most `limit` of the oldest events recorded before `at` (epoch ms); their count. */
  deleteBefore(at: number, limit: number): Promise<number>;
}
