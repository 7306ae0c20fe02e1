import type { FactGroup } from '../system/settings.js';

/**
 * Agentless discovery's fixed, read-only commands, each with the fact group it feeds. Nothing
 * else is ever run on a host: no command is built from data.
 */
export const DISCOVERY_COMMANDS = [
  { name: 'os_release', group: 'os', command: 'cat /etc/os-release' },
  { name: 'uname', group: 'os', command: 'uname -srm' },
  { name: 'nproc', group: 'hardware', command: 'nproc' },
  { name: 'meminfo', group: 'hardware', command: 'cat /proc/meminfo' },
  { name: 'df', group: 'storage', command: 'df -kP' },
  { name: 'ip_addr', group: 'network', command: 'ip -o addr' },
] as const satisfies readonly { name: string; group: FactGroup; command: string }[];

/** The name of a discovery command. */
export type DiscoveryCommand = (typeof DISCOVERY_COMMANDS)[number]['name'];

/** What discovery found on a host, in the system-info shape; null where unknown. */
export interface DiscoveredFacts {
  os: {
    name: string | null;
    family: string | null;
    version: string | null;
    kernel: string | null;
    architecture: string | null;
  };
  cpu: { cores: number | null };
  memory: { total_bytes: number | null; swap_total_bytes: number | null };
  disks: {
    device: string;
    mountpoint: string;
    fstype: null;
    total_bytes: number;
    used_percent: number | null;
  }[];
  interfaces: { name: string; addresses: string[] }[];
  /** How each command went: skipped (its group is not collected), ok, or its error. */
  commands: Record<string, { status: 'ok' | 'failed' | 'skipped'; error?: string }>;
}

/** `/etc/os-release`: `KEY=value` lines, values optionally quoted. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2]!;
    if (/^(["']).*\1$/.test(v)) v = v.slice(1, -1).replace(/\\(["$`\\])/g, '$1');
    out[m[1]!] = v;
  }
  if (!out.ID && !out.NAME) throw new Error('os-release: neither ID nor NAME');
  return out;
}

/** `uname -srm`: kernel name, release and machine. */
export function parseUname(text: string): { system: string; release: string; machine: string } {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 3 || parts[0] === '') throw new Error('uname: expected three fields');
  return { system: parts[0]!, release: parts[1]!, machine: parts[2]! };
}

/** `nproc`: a positive count. */
export function parseNproc(text: string): number {
  const t = text.trim();
  if (!/^\d+$/.test(t) || Number(t) < 1) throw new Error('nproc: not a positive integer');
  return Number(t);
}

/** `/proc/meminfo`: total memory and swap in bytes (the file says kB, meaning KiB). */
export function parseMeminfo(text: string): { total_bytes: number; swap_total_bytes: number } {
  const kib = (key: string): number | undefined => {
    const m = new RegExp(`^${key}:\\s+(\\d+)\\s+kB$`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kib('MemTotal');
  if (total === undefined) throw new Error('meminfo: no MemTotal');
  return { total_bytes: total, swap_total_bytes: kib('SwapTotal') ?? 0 };
}

/** `df -kP`: one line per mount after the header, sizes in KiB. */
export function parseDf(text: string): DiscoveredFacts['disks'] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (!/^Filesystem\s/.test(lines[0] ?? '')) throw new Error('df: no header');
  const out: DiscoveredFacts['disks'] = [];
  for (const line of lines.slice(1)) {
    // The mount point is the rest of the line: it may hold spaces.
    const m = /^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+%|-)\s+(.+)$/.exec(line);
    if (!m) throw new Error(`df: unexpected line ${JSON.stringify(line)}`);
    out.push({
      device: m[1]!,
      mountpoint: m[6]!,
      fstype: null,
      total_bytes: Number(m[2]) * 1024,
      used_percent: m[5] === '-' ? null : Number(m[5]!.slice(0, -1)),
    });
  }
  return out;
}

/** `ip -o addr`: one address per line (`2: eth0    inet 10.0.0.5/24 …`), grouped by interface. */
export function parseIpAddr(text: string): DiscoveredFacts['interfaces'] {
  const byName = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const m = /^\d+:\s+(\S+?)(?:@\S+)?\s+(inet6?)\s+(\S+)/.exec(line);
    if (!m) throw new Error(`ip addr: unexpected line ${JSON.stringify(line)}`);
    const list = byName.get(m[1]!) ?? [];
    list.push(m[3]!);
    byName.set(m[1]!, list);
  }
  return [...byName].map(([name, addresses]) => ({ name, addresses }));
}

/**
 * Builds the facts from each command's output (undefined: not run). A command that failed or
 * whose output does not parse leaves its facts null and says why in `commands`.
 */
export function discoveredFacts(
  outputs: Partial<
    Record<DiscoveryCommand, { ok: true; stdout: string } | { ok: false; error: string }>
  >,
): DiscoveredFacts {
  const commands: DiscoveredFacts['commands'] = {};
  const parse = <T>(name: DiscoveryCommand, fn: (text: string) => T): T | undefined => {
    const o = outputs[name];
    if (o === undefined) {
      commands[name] = { status: 'skipped' };
      return undefined;
    }
    if (!o.ok) {
      commands[name] = { status: 'failed', error: o.error };
      return undefined;
    }
    try {
      const v = fn(o.stdout);
      commands[name] = { status: 'ok' };
      return v;
    } catch (err) {
      commands[name] = { status: 'failed', error: (err as Error).message };
      return undefined;
    }
  };
  const osr = parse('os_release', parseOsRelease);
  const uname = parse('uname', parseUname);
  const cores = parse('nproc', parseNproc);
  const mem = parse('meminfo', parseMeminfo);
  return {
    os: {
      name: osr?.PRETTY_NAME ?? osr?.NAME ?? null,
      family: osr?.ID_LIKE?.split(/\s+/)[0] ?? osr?.ID ?? null,
      version: osr?.VERSION_ID ?? null,
      kernel: uname?.release ?? null,
      architecture: uname?.machine ?? null,
    },
    cpu: { cores: cores ?? null },
    memory: {
      total_bytes: mem?.total_bytes ?? null,
      swap_total_bytes: mem?.swap_total_bytes ?? null,
    },
    disks: parse('df', parseDf) ?? [],
    interfaces: parse('ip_addr', parseIpAddr) ?? [],
    commands,
  };
}
