/** A host as stored: the one row every face shares for a machine. Timestamps are epoch ms. */
export interface HostRow {
  id: string;
  /** Unique: the name an agent reports from, or the one an operator gave. */
  name: string;
  address: string | null;
  created_at: number;
  updated_at: number;
}

/** A host as the readers of its data see it: with how often its agents report. */
export interface HostSummary {
  id: string;
  name: string;
  /** The reporting interval of the host's agents (the shortest), in seconds; null with none. */
  intervalSeconds: number | null;
}

/** Where hosts are kept. */
export interface HostStore {
  /** Adds a host named `name` unless one exists (names are unique); `at` is epoch ms. */
  insertIfAbsent(name: string, at: number): Promise<void>;
  /** Returns undefined when there is no host of that name. */
  byName(name: string): Promise<HostRow | undefined>;
  /** Returns undefined when absent. */
  get(id: string): Promise<HostRow | undefined>;
  /** Up to `limit` hosts with an id after `after`, in id order (`''` starts at the first). */
  page(after: string, limit: number): Promise<HostRow[]>;
  /** A host with its agents' shortest reporting interval; undefined when absent. */
  summary(id: string): Promise<HostSummary | undefined>;
  /** The host an agent reports for; undefined for an unknown agent, null when it has none. */
  ofAgent(agentId: string): Promise<string | null | undefined>;
  /** The ids of the first `limit` hosts, oldest first. */
  firstIds(limit: number): Promise<string[]>;
  /** Every host, by name. */
  all(): Promise<HostRow[]>;
}

/**
 * Hosts: the one host table. An agent's host is found by the name it reports from and created
 * on first use; faces and telemetry read hosts through here.
 */
export const createHostService = (deps: { store: HostStore }) => {
  const { store } = deps;
  return {
    /**
     * The id of the host named `name`, created at `at` (epoch ms) when there is none. Safe
     * against a concurrent creation of the same name: the name is unique, the first one stays.
     */
    async hostFor(name: string, at: number): Promise<string> {
      await store.insertIfAbsent(name, at);
      const row = await store.byName(name);
      if (!row) throw new Error(`host ${name} vanished right after it was created`);
      return row.id;
    },

    /** The host with this id, or undefined. */
    get: (id: string): Promise<HostRow | undefined> => store.get(id),

    /** Up to `limit` hosts with an id after `after`, in id order. */
    page: (after: string, limit: number): Promise<HostRow[]> => store.page(after, limit),

    /** A host with its agents' shortest reporting interval, or undefined. */
    summary: (id: string): Promise<HostSummary | undefined> => store.summary(id),

    /** The host an agent reports for; undefined for an unknown agent, null when it has none. */
    ofAgent: (agentId: string): Promise<string | null | undefined> => store.ofAgent(agentId),

    /** The ids of the first `limit` hosts, oldest first. */
    firstIds: (limit: number): Promise<string[]> => store.firstIds(limit),

    /** Every host, by name. */
    all: (): Promise<HostRow[]> => store.all(),
  };
};

/** The hosts service. */
export type HostService = ReturnType<typeof createHostService>;
