/** One address the syslog listener binds: a protocol, a local address and a port (0: any free). */
export interface SyslogAddress {
  protocol: 'udp' | 'tcp';
  host: string;
  port: number;
}

const ADDRESS = /^(udp|tcp):\/\/(?:\[([0-9a-fA-F:.]+)\]|([^:/[\]\s]+)):(\d{1,5})$/;

const items = (text: string) =>
  text
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/**
 * Why `[syslog] listen` is wrong, or undefined when it is right: a comma-separated list of
 * `udp://HOST:PORT` and `tcp://HOST:PORT` (IPv6 hosts in brackets), each at most once; empty
 * turns the listener off.
 */
export function checkSyslogListen(text: string): string | undefined {
  const seen = new Set<string>();
  for (const item of items(text)) {
    const m = ADDRESS.exec(item);
    if (!m)
      return `'${item}' is not udp://HOST:PORT or tcp://HOST:PORT (e.g. udp://0.0.0.0:514, tcp://[::]:1514)`;
    if (Number(m[4]) > 65535) return `'${item}': the port must be 0–65535`;
    const key = `${m[1]}://${(m[2] ?? m[3])!.toLowerCase()}:${Number(m[4])}`;
    if (seen.has(key) && Number(m[4]) !== 0) return `'${item}' is listed twice`;
    seen.add(key);
  }
  return undefined;
}

/** The addresses of a valid `[syslog] listen` value (see `checkSyslogListen`), in its order. */
export function syslogAddresses(text: string): SyslogAddress[] {
  return items(text).map((item) => {
    const m = ADDRESS.exec(item);
    if (!m) throw new Error(`invalid syslog address ${item}`);
    return { protocol: m[1] as 'udp' | 'tcp', host: (m[2] ?? m[3])!, port: Number(m[4]) };
  });
}
