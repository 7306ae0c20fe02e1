import { BlockList, isIP } from 'node:net';

/** A parsed CIDR network. */
export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/** Parses `10.0.0.0/8` or `fd00::/8` (a bare address is a /32 or /128); undefined when invalid. */
export function parseCidr(text: string): Cidr | undefined {
  const [address = '', prefixText, ...rest] = text.trim().split('/');
  if (rest.length > 0) return undefined;
  const v = isIP(address);
  if (v === 0) return undefined;
  const max = v === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return undefined;
  return { address, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * Builds a matcher for a comma-separated list of CIDR networks. An IPv4-mapped IPv6 address
 * (`::ffff:10.1.2.3`, as a dual-stack socket reports IPv4 peers) matches IPv4 networks.
 */
export function networkMatcher(list: string): (address: string | null | undefined) => boolean {
  const nets = list
    .split(',')
    .map((x) => parseCidr(x))
    .filter((c): c is Cidr => c !== undefined);
  if (nets.length === 0) return () => false;
  const blocks = new BlockList();
  for (const n of nets) blocks.addSubnet(n.address, n.prefix, n.family);
  return (address) => {
    if (!address) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    const a = mapped ? mapped[1]! : address;
    const v = isIP(a);
    return v !== 0 && blocks.check(a, v === 4 ? 'ipv4' : 'ipv6');
  };
}

/**
 * Builds a matcher for comma-separated host name patterns with `*` (any run of characters) and
 * `?` (one character), compared without regard to case.
 */
export function hostnameMatcher(list: string): (hostname: string | null | undefined) => boolean {
  const patterns = list
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map(
      (p) =>
        new RegExp(
          `^${p
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '.*')
            .replace(/\?/g, '.')}$`,
          'i',
        ),
    );
  return (hostname) => !!hostname && patterns.some((re) => re.test(hostname));
}

/**
 * The group a source address is counted in for per-address limits: an IPv4 address itself (also
 * when a dual-stack socket reports it as `::ffff:a.b.c.d`), and for IPv6 its /64, the smallest
 * network one site is given, whose 2^64 addresses are all its own to send from. Null stays null.
 */
export function sourceGroup(address: string | null): string | null {
  if (address === null) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIP(address) !== 6) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const hextets = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  const prefix = hextets
    .slice(0, 4)
    .map((h) => Number.parseInt(h, 16).toString(16))
    .join(':');
  return `${prefix}::/64`;
}
