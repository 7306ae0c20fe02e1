import type { SourceTree } from '../host.js';
import type { Collector } from './collector.js';
import { isListening, parseSockets } from './procfs/net-tcp.js';

/** The socket tables, by protocol. */
const TABLES = [
  ['tcp', 'net/tcp'],
  ['tcp', 'net/tcp6'],
  ['udp', 'net/udp'],
  ['udp', 'net/udp6'],
] as const;

/** The process that holds a socket. */
interface Owner {
  pid: number;
  process: string | undefined;
}

/**
 * Finds the owners of the sockets `wanted` (by inode) through the /proc/<pid>/fd links
 * (`socket:[<inode>]`), lowest pid first (a forking server's parent before its children); stops
 * once every one is found. Another user's descriptors cannot be read without privileges: their
 * sockets stay without an owner.
 */
function findOwners(proc: SourceTree, wanted: Set<number>): Map<number, Owner> {
  const found = new Map<number, Owner>();
  const pids = proc
    .list('.')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .sort((a, b) => a - b);
  for (const pid of pids) {
    for (const fd of proc.list(`${pid}/fd`)) {
      const m = /^socket:\[(\d+)\]$/.exec(proc.link(`${pid}/fd/${fd}`) ?? '');
      if (!m) continue;
      const inode = Number(m[1]);
      if (!wanted.has(inode) || found.has(inode)) continue;
      found.set(inode, { pid, process: proc.tryRead(`${pid}/comm`)?.trim() || undefined });
    }
    if (found.size === wanted.size) break;
  }
  return found;
}

/**
 * `listening_ports` (Vigil): the TCP sockets in LISTEN state and the bound UDP sockets of
 * /proc/net/tcp, tcp6, udp and udp6, one entry per protocol, address and port, with the
 * process that holds each when its descriptors are readable. Finding owners walks every
 * process's descriptors, so it runs only when a socket appears whose owner was not looked for
 * yet; owners are kept while their sockets exist. A machine where none of the four tables is
 * readable fails the collector rather than report that nothing listens.
 */
export const listeningPorts = (): Collector<'listening_ports'> => {
  /** Owners by socket inode, and the inodes already looked for (found or not). */
  let owners = new Map<number, Owner>();
  let searched = new Set<number>();
  return {
    key: 'listening_ports',
    toggle: 'netstats',
    async collect({ host }) {
      const sockets: { protocol: 'tcp' | 'udp'; address: string; port: number; inode: number }[] =
        [];
      let readable = false;
      for (const [protocol, rel] of TABLES) {
        const text = host.proc.tryRead(rel);
        if (text === undefined) continue;
        readable = true;
        for (const s of parseSockets(text))
          if (isListening(protocol, s))
            sockets.push({ protocol, address: s.address, port: s.port, inode: s.inode });
      }
      if (!readable) throw new Error('none of /proc/net/tcp, tcp6, udp and udp6 is readable');
      const inodes = new Set(sockets.map((s) => s.inode).filter((i) => i > 0));
      const unsearched = new Set([...inodes].filter((i) => !searched.has(i)));
      const next = new Map([...owners].filter(([i]) => inodes.has(i)));
      if (unsearched.size > 0)
        for (const [i, o] of findOwners(host.proc, unsearched)) next.set(i, o);
      owners = next;
      searched = inodes;
      const out = new Map<
        string,
        { protocol: string; address: string; port: number; process?: string; pid?: number }
      >();
      for (const s of sockets) {
        const key = `${s.protocol}/${s.address}/${s.port}`;
        const owner = owners.get(s.inode);
        const known = out.get(key);
        if (known && (known.pid !== undefined || !owner)) continue;
        out.set(key, {
          protocol: s.protocol,
          address: s.address,
          port: s.port,
          ...(owner?.process !== undefined ? { process: owner.process } : {}),
          ...(owner ? { pid: owner.pid } : {}),
        });
      }
      const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
      return [...out.values()].sort(
        (a, b) => order(a.protocol, b.protocol) || a.port - b.port || order(a.address, b.address),
      );
    },
  };
};
