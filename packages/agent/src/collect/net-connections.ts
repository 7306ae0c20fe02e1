import type { Collector } from './collector.js';
import { countTcpStates, TCP_STATES } from './procfs/net-tcp.js';

/** `net_connections` (Vigil): TCP connections over IPv4 and IPv6 counted by state, and in total. */
export const netConnections = (): Collector<'net_connections'> => ({
  key: 'net_connections',
  toggle: 'netstats',
  async collect({ host }) {
    const counts: Record<string, number> = {};
    for (const s of Object.values(TCP_STATES)) counts[s] = 0;
    const v4 = host.proc.tryRead('net/tcp');
    const v6 = host.proc.tryRead('net/tcp6');
    if (v4 === undefined && v6 === undefined) return { available: false };
    if (v4 !== undefined) countTcpStates(v4, counts);
    if (v6 !== undefined) countTcpStates(v6, counts);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    return { available: true, total, tcp: counts };
  },
});
