import { ParseError, uint } from './parse.js';

/** One interface's counters from /proc/net/dev. */
export interface NetDevCounters {
  iface: string;
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  rxFifo: number;
  rxFrame: number;
  rxCompressed: number;
  rxMulticast: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
  txFifo: number;
  txCollisions: number;
  txCarrier: number;
  txCompressed: number;
}

const NET_FIELDS = [
  'rxBytes',
  'rxPackets',
  'rxErrors',
  'rxDropped',
  'rxFifo',
  'rxFrame',
  'rxCompressed',
  'rxMulticast',
  'txBytes',
  'txPackets',
  'txErrors',
  'txDropped',
  'txFifo',
  'txCollisions',
  'txCarrier',
  'txCompressed',
] as const;

/** Parses /proc/net/dev (two header lines, then `iface: 16 counters`). */
export function parseNetDev(text: string): NetDevCounters[] {
  const out: NetDevCounters[] = [];
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon === -1 || line.includes('|')) continue;
    const iface = line.slice(0, colon).trim();
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (f.length < 16) throw new ParseError('net/dev', `${iface}: fewer than 16 counters`);
    const c = { iface } as NetDevCounters;
    NET_FIELDS.forEach((k, i) => (c[k] = uint(f[i], 'net/dev', `${iface} ${k}`)));
    out.push(c);
  }
  return out;
}
