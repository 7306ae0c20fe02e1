import type { Collector } from './collector.js';
import { parseUtmp } from './procfs/utmp.js';

/** `users`: the sessions in /run/utmp (an empty list where there is no utmp, as in containers). */
export const users = (): Collector<'users'> => ({
  key: 'users',
  toggle: 'userstats',
  async collect({ host }) {
    for (const rel of ['run/utmp', 'var/run/utmp']) {
      const buf = host.rootfs.tryBytes(rel);
      if (buf) return parseUtmp(buf);
    }
    return [];
  },
});
