import type { Collected } from '@vigil/protocol';
import type { Collector } from './collector.js';

/** `duplex` as openITCOCKPIT encodes it: 0 unknown, 1 half, 2 full. */
export function duplexCode(text: string | undefined): number {
  const t = text?.trim();
  return t === 'full' ? 2 : t === 'half' ? 1 : 0;
}

/** A whole number from a sysfs attribute, or `fallback` when it is unreadable or not a number. */
function sysInt(text: string | undefined, fallback: number): number {
  const v = Number(text?.trim());
  return text !== undefined && Number.isInteger(v) ? v : fallback;
}

/**
 * `net_stats`: per interface in /sys/class/net, whether it has a carrier (`isup`, as the
 * openITCOCKPIT agent defines it), duplex, speed in Mbit/s and MTU. Reading `speed` of an interface
 * that is down fails in the kernel; it is then 0.
 */
export const netStats = (): Collector<'net_stats'> => ({
  key: 'net_stats',
  toggle: 'netstats',
  async collect({ host }) {
    const out: Collected<'net_stats'> = {};
    for (const iface of host.sys.list('class/net').sort()) {
      const attr = (name: string) => host.sys.tryRead(`class/net/${iface}/${name}`);
      const [carrier, duplex, speed, mtu] = ['carrier', 'duplex', 'speed', 'mtu'].map(attr);
      out[iface] = {
        isup: carrier?.trim() === '1',
        duplex: duplexCode(duplex),
        speed: sysInt(speed, 0),
        mtu: sysInt(mtu, 0),
      };
    }
    return out;
  },
});
