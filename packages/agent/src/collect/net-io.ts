import { RateTracker } from '../rates.js';
import type { Collected } from '@vigil/protocol';
import type { Collector } from './collector.js';
import { round } from './numbers.js';
import { parseNetDev } from './procfs/netdev.js';

/**
 * `net_io`: per interface in /proc/net/dev, the cumulative counters and their per-second rates
 * since the previous cycle; an interface's first cycle (or the first after it reappeared) has
 * zero rates.
 */
export const netIo = (): Collector<'net_io'> => {
  const rates = new RateTracker();
  return {
    key: 'net_io',
    toggle: 'netio',
    async collect({ host, nowMs }) {
      const out: Collected<'net_io'> = {};
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
