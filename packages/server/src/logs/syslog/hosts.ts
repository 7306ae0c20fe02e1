import { isIP } from 'node:net';

/** A host as the syslog matcher knows it. */
export interface SyslogHostRow {
  id: string;
  name: string;
  display_name: string | null;
  /** An IP address or a DNS name; null when unknown. */
  address: string | null;
}

/** Where the matcher reads the fleet: every enabled host, in one read. */
export interface SyslogHostDirectory {
  listing(): Promise<SyslogHostRow[]>;
}

/** The fleet's hosts indexed by what a syslog line can name them by. */
export interface SyslogHostIndex {
  /**
   * The host of a line: the one its HOSTNAME names (a host's name, display name or address,
   * without regard to case), else the one whose address is the sender's, else the one whose
   * name's first label is the HOSTNAME's first label (when only one host has it); null for
   * none. HOSTNAME comes first so that lines forwarded by a relay are filed under their origin.
   */
  match(senderAddress: string | null, hostname: string | null): string | null;
}

/** The host matcher: a cached index of the fleet, read again periodically and on changes. */
export interface SyslogHostMatcher {
  /** The current index; the first call (and one after `invalidate`) waits for the read. */
  index(): Promise<SyslogHostIndex>;
  /** Drops the index: the next `index()` reads the fleet again (a host was added or changed). */
  invalidate(): void;
}

/** The address as the index keys it: lower case, an IPv4-mapped IPv6 address as plain IPv4. */
export function normalizeAddress(address: string): string {
  const a = address.trim().toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  return mapped ? mapped[1]! : a;
}

const AMBIGUOUS = '';
const firstLabel = (name: string) => {
  const dot = name.indexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
};

/** Builds the index of a fleet. */
export function indexHosts(rows: readonly SyslogHostRow[]): SyslogHostIndex {
  const byAddress = new Map<string, string>();
  const byName = new Map<string, string>();
  const byShort = new Map<string, string>();
  const put = (map: Map<string, string>, key: string, id: string) => {
    const prev = map.get(key);
    // A key two hosts share names neither.
    map.set(key, prev === undefined || prev === id ? id : AMBIGUOUS);
  };
  for (const h of rows) {
    put(byName, h.name.toLowerCase(), h.id);
    if (h.display_name) put(byName, h.display_name.trim().toLowerCase(), h.id);
    if (h.address) {
      const a = normalizeAddress(h.address);
      if (isIP(a) !== 0) put(byAddress, a, h.id);
      else put(byName, a, h.id);
    }
    put(byShort, firstLabel(h.name.toLowerCase()), h.id);
  }
  const found = (id: string | undefined) => (id === undefined || id === AMBIGUOUS ? null : id);
  return {
    match(senderAddress, hostname) {
      if (hostname) {
        const name = hostname.toLowerCase();
        const byHostname = found(
          isIP(normalizeAddress(name)) !== 0
            ? byAddress.get(normalizeAddress(name))
            : byName.get(name),
        );
        if (byHostname) return byHostname;
      }
      if (senderAddress) {
        const bySender = found(byAddress.get(normalizeAddress(senderAddress)));
        if (bySender) return bySender;
      }
      if (hostname && isIP(hostname) === 0)
        return found(byShort.get(firstLabel(hostname.toLowerCase())));
      return null;
    },
  };
}

/**
 * A matcher over `directory`: the index is read once and kept `refreshMs`; after that the next
 * call gets the kept index while a new one is read beside it (so a line never waits for the
 * database once the first read is done). A failed read keeps the previous index and is retried
 * on the next call; `log` is told.
 */
export function createSyslogHostMatcher(deps: {
  directory: SyslogHostDirectory;
  refreshMs: number;
  now: () => number;
  log: (err: unknown, what: string) => void;
}): SyslogHostMatcher {
  let current: { at: number; index: SyslogHostIndex } | undefined;
  let loading: Promise<SyslogHostIndex> | undefined;
  let loadingGeneration = -1;
  let generation = 0;
  const load = (): Promise<SyslogHostIndex> => {
    // A read started before the last change would miss it: that one starts a read of its own.
    if (loading && loadingGeneration === generation) return loading;
    const gen = generation;
    loadingGeneration = gen;
    const started = deps.now();
    const p: Promise<SyslogHostIndex> = deps.directory
      .listing()
      .then((rows) => {
        const index = indexHosts(rows);
        if (gen === generation) current = { at: started, index };
        return index;
      })
      .finally(() => {
        if (loading === p) loading = undefined;
      });
    loading = p;
    return p;
  };
  return {
    async index() {
      if (!current) return load();
      if (deps.now() - current.at >= deps.refreshMs)
        load().catch((err: unknown) => deps.log(err, 'reading the hosts for syslog failed'));
      return current.index;
    },
    invalidate() {
      generation++;
      current = undefined;
    },
  };
}
