import type { HostOverview } from './live';

/** The fleet's filters: a name substring, a status and an operating system ('' for any). */
export interface FleetFilter {
  q: string;
  status: string;
  os: string;
}

/** The operating system of a host as the list shows and filters it: `debian 12.11`. */
export function osLabel(h: HostOverview): string {
  const name = h.os.name ?? h.os.family;
  if (!name) return '';
  return h.os.version ? `${name} ${h.os.version}` : name;
}

/** The OS names to filter by (without versions), sorted. */
export function osNames(hosts: readonly HostOverview[]): string[] {
  const names = new Set<string>();
  for (const h of hosts) {
    const n = h.os.name ?? h.os.family;
    if (n) names.add(n);
  }
  return [...names].sort();
}

/** The hosts that pass a filter; the name match ignores case. */
export function filterHosts(hosts: readonly HostOverview[], f: FleetFilter): HostOverview[] {
  const q = f.q.trim().toLowerCase();
  return hosts.filter(
    (h) =>
      (!f.status || h.status === f.status) &&
      (!f.os || (h.os.name ?? h.os.family) === f.os) &&
      (!q || h.name.toLowerCase().includes(q)),
  );
}

/** The columns the list sorts by. */
export type FleetColumn =
  'status' | 'name' | 'os' | 'uptime' | 'cpu' | 'memory' | 'disk' | 'network' | 'checks';

const STATUS_RANK: Record<string, number> = { offline: 0, pending: 1, unknown: 2, online: 3 };

/** A host's value in a column, for sorting (problems first when ascending by status/checks). */
export function columnValue(h: HostOverview, c: FleetColumn): unknown {
  switch (c) {
    case 'status':
      return STATUS_RANK[h.status] ?? 9;
    case 'name':
      return h.name;
    case 'os':
      return osLabel(h) || null;
    case 'uptime':
      return h.uptime_seconds;
    case 'cpu':
      return h.latest.cpu_percent;
    case 'memory':
      return h.latest.memory_percent;
    case 'disk':
      return h.latest.disk_percent;
    case 'network': {
      const { net_rx_bytes_per_second: rx, net_tx_bytes_per_second: tx } = h.latest;
      return rx === null && tx === null ? null : (rx ?? 0) + (tx ?? 0);
    }
    case 'checks':
      // Most critical first when descending.
      return h.checks.critical * 1e6 + h.checks.warning * 1e3 + h.checks.unknown;
  }
}
