import type { Collector } from './collector.js';
import { parsePasswdAccounts } from './procfs/passwd.js';

/**
 * `accounts` (Vigil): the local accounts of /etc/passwd (name, uid, gid, home, shell; never a
 * password field), so that the server sees accounts added and removed. A machine without a
 * readable /etc/passwd fails the collector rather than report that it has no accounts.
 */
export const accounts = (): Collector<'accounts'> => ({
  key: 'accounts',
  toggle: 'userstats',
  async collect({ host }) {
    const text = host.rootfs.tryRead('etc/passwd');
    if (text === undefined) throw new Error('/etc/passwd is not readable');
    return parsePasswdAccounts(text);
  },
});
