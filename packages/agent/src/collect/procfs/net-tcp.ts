/** TCP states by the hex code /proc/net/tcp uses (include/net/tcp_states.h). */
export const TCP_STATES: Record<string, string> = {
  '01': 'established',
  '02': 'syn_sent',
  '03': 'syn_recv',
  '04': 'fin_wait1',
  '05': 'fin_wait2',
  '06': 'time_wait',
  '07': 'close',
  '08': 'close_wait',
  '09': 'last_ack',
  '0A': 'listen',
  '0B': 'closing',
  '0C': 'new_syn_recv',
};

/** Adds the connections of one /proc/net/tcp or tcp6 file to `counts`, by state name. */
export function countTcpStates(text: string, counts: Record<string, number>): void {
  const rows = text.split('\n');
  for (let i = 1; i < rows.length; i++) {
    const f = rows[i]!.trim().split(/\s+/);
    if (f.length < 4) continue;
    const state = TCP_STATES[f[3]!.toUpperCase()];
    if (state) counts[state] = (counts[state] ?? 0) + 1;
  }
}

/** One socket of a /proc/net/tcp, tcp6, udp or udp6 line. */
export interface SocketLine {
  /** The local address, decoded (`0.0.0.0`, `::1`). */
  address: string;
  port: number;
  /** The remote port (0 for a socket that is not connected). */
  remotePort: number;
  /** The state as the kernel prints it: two upper-case hex digits (`0A` is TCP LISTEN). */
  state: string;
  /** The socket's inode, which /proc/<pid>/fd links name (`socket:[<inode>]`); 0 when gone. */
  inode: number;
}

/** The four bytes of a 32-bit word the kernel printed in host order (little-endian). */
function wordBytes(hex: string): number[] {
  const v = parseInt(hex, 16);
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** An IPv6 address from its 16 bytes, in RFC 5952's text form (`::1`, `fe80::1`, `::ffff:1.2.3.4`). */
export function formatIpv6(bytes: readonly number[]): string {
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff)
    return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // The longest run of two or more zero groups (the first of equals) becomes `::`.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]) => g.map((n) => n.toString(16)).join(':');
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

/**
 * Decodes a local or remote address of a /proc/net line: 8 hex digits (IPv4) or 32 (IPv6), each
 * 32-bit word in the byte order of the machine that printed it (little-endian: x86, arm64).
 * Returns undefined for anything else.
 */
export function decodeSocketAddress(hex: string): string | undefined {
  if (!/^[0-9A-Fa-f]+$/.test(hex)) return undefined;
  if (hex.length === 8) return wordBytes(hex).join('.');
  if (hex.length !== 32) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < 32; i += 8) bytes.push(...wordBytes(hex.slice(i, i + 8)));
  return formatIpv6(bytes);
}

/**
 * Parses the sockets of /proc/net/tcp, tcp6, udp or udp6 (the same columns: `sl local_address
 * rem_address st … uid timeout inode`). The header and malformed lines are skipped.
 */
export function parseSockets(text: string): SocketLine[] {
  const out: SocketLine[] = [];
  const rows = text.split('\n');
  for (let i = 1; i < rows.length; i++) {
    const f = rows[i]!.trim().split(/\s+/);
    if (f.length < 10 || !f[0]!.endsWith(':')) continue;
    const [localHex, localPort] = f[1]!.split(':');
    const [, remotePort] = f[2]!.split(':');
    const address = decodeSocketAddress(localHex ?? '');
    const port = parseInt(localPort ?? '', 16);
    const remote = parseInt(remotePort ?? '', 16);
    const inode = Number(f[9]);
    if (address === undefined || !(port >= 0 && port <= 65535) || !Number.isInteger(inode))
      continue;
    out.push({
      address,
      port,
      remotePort: Number.isNaN(remote) ? 0 : remote,
      state: f[3]!.toUpperCase(),
      inode,
    });
  }
  return out;
}

/**
 * Whether a socket listens: TCP in LISTEN (`0A`); UDP bound and not connected (`07`, the
 * state the kernel shows for an unconnected UDP socket, with no remote port). Port 0 never does.
 */
export function isListening(protocol: 'tcp' | 'udp', s: SocketLine): boolean {
  if (s.port === 0) return false;
  return protocol === 'tcp' ? s.state === '0A' : s.state === '07' && s.remotePort === 0;
}
