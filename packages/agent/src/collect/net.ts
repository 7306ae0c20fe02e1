import { RateTracker } from '../rates.js';
import type { Collector } from './collector.js';
import { parseNetDev } from './netdev.js';
import { round } from './parse.js';

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
export const netStats = (): Collector => ({
  key: 'net_stats',
  toggle: 'netstats',
  async collect({ host }) {
    const out: Record<string, unknown> = {};
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

/**
 * `net_io`: per interface in /proc/net/dev, the cumulative counters and their per-second rates
 * since the previous cycle; an interface's first cycle (or the first after it reappeared) has
 * zero rates.
 */
export const netIo = (): Collector => {
  const rates = new RateTracker();
  return {
    key: 'net_io',
    toggle: 'netio',
    async collect({ host, nowMs }) {
      const out: Record<string, unknown> = {};
      for (const c of parseNetDev(host.proc.read('net/dev'))) {
        const r = (field: string, v: number) => {
          const rate = rates.rate(`${c.iface}/${field}`, v, nowMs);
          return rate === undefined ? 0 : round(rate);
        };
        out[c.iface] = {
          name: c.iface,
          timestamp: Math.floor(nowMs / 1000),
          bytes_sent: c.txBytes,
          bytes_recv: c.rxBytes,
          packets_sent: c.txPackets,
          packets_recv: c.rxPackets,
          errin: c.rxErrors,
          errout: c.txErrors,
          dropin: c.rxDropped,
          dropout: c.txDropped,
          avg_bytes_sent_ps: r('bs', c.txBytes),
          avg_bytes_recv_ps: r('br', c.rxBytes),
          avg_packets_sent_ps: r('ps', c.txPackets),
          avg_packets_recv_ps: r('pr', c.rxPackets),
          avg_errin: r('ei', c.rxErrors),
          avg_errout: r('eo', c.txErrors),
          avg_dropin: r('di', c.rxDropped),
          avg_dropout: r('do', c.txDropped),
        };
      }
      rates.sweep();
      return out;
    },
  };
};
