/**
 * A host as stored: the one row every face shares for a machine. Timestamps are epoch ms. Rows
 * read through the service never include soft-deleted hosts unless a method says so.
 */
export interface HostRow {
  id: string;
  /** Unique among all hosts, deleted ones included: the name an agent reports from, or the one an operator gave. */
  name: string;
  /** The IPv4 (or DNS) address agentless access connects to; null when unknown. */
  address: string | null;
  created_at: number;
  updated_at: number;
  display_name: string | null;
  description: string | null;
  environment: string | null;
  tags: string[];
  /** The SSH port; null means 22. */
  port: number | null;
  username: string | null;
  group_id: string | null;
  /**
   * When maintenance ends (epoch ms); `MAINTENANCE_OPEN_ENDED` while it runs until turned off;
   * null when there is none.
   */
  maintenance_until: number | null;
  maintenance_reason: string | null;
  /** Set once the host was deleted (soft delete). */
  deleted_at: number | null;
}

/**
 * The `maintenance_until` of maintenance without an end: the largest time a JavaScript Date
 * holds, so that "maintenance runs while until is in the future" needs no other column.
 */
export const MAINTENANCE_OPEN_ENDED = 8.64e15;

/** The operator-set fields of a host, as created or changed. */
export interface HostFields {
  address?: string | null;
  display_name?: string | null;
  description?: string | null;
  environment?: string | null;
  tags?: string[];
  port?: number | null;
  username?: string | null;
  group_id?: string | null;
  maintenance_until?: number | null;
  maintenance_reason?: string | null;
}

/** What the connectivity worker last found for a host. Times are epoch ms. */
export interface LivenessRow {
  host_id: string;
  state: 'reachable' | 'unreachable';
  checked_at: number;
  consecutive_failures: number;
  response_ms: number | null;
  error: string | null;
  /** 1: SSH authentication succeeded, 0: it failed, null: not attempted (no credential). */
  ssh_ok: number | null;
}

/** What agentless discovery last found on a host: its facts (JSON) or why it failed. */
export interface DiscoveryRow {
  host_id: string;
  discovered_at: number;
  facts: string | null;
  error: string | null;
}

/** A host as the readers of its data see it: with how often its agents report. */
export interface HostSummary {
  id: string;
  name: string;
  /** The reporting interval of the host's agents (the shortest), in seconds; null with none. */
  intervalSeconds: number | null;
}

/** A host as lists match and sort it, before its page is read in full. */
export type HostListing = Pick<
  HostRow,
  'id' | 'name' | 'display_name' | 'address' | 'environment' | 'tags' | 'maintenance_until'
>;

/** Where hosts are kept. Reads skip soft-deleted hosts unless their doc says otherwise. */
export interface HostStore {
  /** Adds a host named `name` unless one exists, deleted or not (names are unique); `at` is epoch ms. */
  insertIfAbsent(name: string, at: number): Promise<void>;
  /** Adds a host; false when the name is taken (by any row, deleted ones included). */
  insert(row: HostRow): Promise<boolean>;
  /** The host of that name, deleted or not; undefined when there is none. */
  byNameAny(name: string): Promise<HostRow | undefined>;
  /** Returns undefined when absent or deleted. */
  get(id: string): Promise<HostRow | undefined>;
  /** Sets the given fields and `updated_at`; no effect on a deleted host. */
  update(id: string, fields: HostFields, at: number): Promise<void>;
  /** Marks the host deleted at `at`; false when it was absent or already deleted. */
  softDelete(id: string, at: number): Promise<boolean>;
  /**
   * Brings a deleted host back: `deleted_at` cleared and its configuration reset to `fields`
   * (every operator-set field not given becomes empty).
   */
  revive(id: string, fields: HostFields, at: number): Promise<void>;
  /**
   * Up to `limit` enabled hosts with an id after `after`, in id order (`''` starts at the
   * first).
   */
  page(after: string, limit: number): Promise<HostRow[]>;
  /** A host with its agents' shortest reporting interval; undefined when absent. */
  summary(id: string): Promise<HostSummary | undefined>;
  /** The host an agent reports for; undefined for an unknown agent, null when it has none. */
  ofAgent(agentId: string): Promise<string | null | undefined>;
  /** The ids of the first `limit` hosts, oldest first. */
  firstIds(limit: number): Promise<string[]>;
  /** Every enabled host, by name: a disabled one is kept out of the fleet's views and probes. */
  all(): Promise<HostRow[]>;
  /** What lists match and sort every enabled host by: a few columns, read fast. */
  listing(): Promise<HostListing[]>;
  /** The hosts (not deleted) with these ids, in no particular order. */
  byIds(ids: string[]): Promise<HostRow[]>;
  /** The ids of every deleted host. */
  deletedIds(): Promise<string[]>;
  /** Every host's liveness, by host id. */
  livenessAll(): Promise<Map<string, LivenessRow>>;
  /** Returns undefined before the host's first probe. */
  liveness(hostId: string): Promise<LivenessRow | undefined>;
  /** Replaces the host's liveness. */
  saveLiveness(row: LivenessRow): Promise<void>;
  /** Returns undefined before the host's first discovery. */
  discovery(hostId: string): Promise<DiscoveryRow | undefined>;
  /** Replaces what discovery found on the host. */
  saveDiscovery(row: DiscoveryRow): Promise<void>;
}

/**
 * Hosts: the one host table. An agent's host is found by the name it reports from and created
 * on first use (or brought back when it was deleted); faces and telemetry read hosts through
 * here, and never see a deleted one.
 */
export const createHostService = (deps: { store: HostStore }) => {
  const { store } = deps;
  return {
    /**
     * The id of the host named `name`, created at `at` (epoch ms) when there is none, and brought
     * back (its configuration reset) when it was deleted. Safe against a concurrent creation of
     * the same name: the name is unique, the first one stays.
     */
    async hostFor(name: string, at: number): Promise<string> {
      await store.insertIfAbsent(name, at);
      const row = await store.byNameAny(name);
      if (!row) throw new Error(`host ${name} vanished right after it was created`);
      if (row.deleted_at !== null) await store.revive(row.id, {}, at);
      return row.id;
    },

    /** The host with this id, or undefined (also when deleted). */
    get: (id: string): Promise<HostRow | undefined> => store.get(id),

    /** Up to `limit` enabled hosts with an id after `after`, in id order. */
    page: (after: string, limit: number): Promise<HostRow[]> => store.page(after, limit),

    /** A host with its agents' shortest reporting interval, or undefined. */
    summary: (id: string): Promise<HostSummary | undefined> => store.summary(id),

    /** The host an agent reports for; undefined for an unknown agent, null when it has none. */
    ofAgent: (agentId: string): Promise<string | null | undefined> => store.ofAgent(agentId),

    /** The ids of the first `limit` hosts, oldest first. */
    firstIds: (limit: number): Promise<string[]> => store.firstIds(limit),

    /** Every enabled host, by name. */
    all: (): Promise<HostRow[]> => store.all(),

    /** What lists match and sort every enabled host by. */
    listing: (): Promise<HostListing[]> => store.listing(),

    /** The hosts (not deleted) with these ids. */
    byIds: (ids: string[]): Promise<HostRow[]> => store.byIds(ids),

    /** Every host's liveness, by host id. */
    livenessAll: (): Promise<Map<string, LivenessRow>> => store.livenessAll(),
  };
};

/** The hosts service. */
export type HostService = ReturnType<typeof createHostService>;
