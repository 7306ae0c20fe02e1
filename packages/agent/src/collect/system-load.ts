import type { Collector } from './collector.js';
import { parseLoadavg } from './procfs/loadavg.js';

/** `system_load`: the load averages keyed "0", "1", "2" as the openITCOCKPIT agent sends them. */
export const systemLoad = (): Collector<'system_load'> => ({
  key: 'system_load',
  toggle: 'cpustats',
  async collect({ host }) {
    const l = parseLoadavg(host.proc.read('loadavg'));
    return { '0': l.m1, '1': l.m5, '2': l.m15 };
  },
});
