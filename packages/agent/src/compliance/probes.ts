import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { ComplianceProbe } from '@vigil/protocol';
import {
  expandPath,
  MAX_DPKG_STATUS_BYTES,
  readBounded,
  reasonOf,
  under,
  type ProbeContext,
} from './context.js';

/** What a probe found: a verdict and, in words, why. */
export interface Outcome {
  readonly status: 'pass' | 'fail' | 'error';
  readonly detail: string;
}

type Probe<K extends ComplianceProbe['kind']> = Extract<ComplianceProbe, { kind: K }>;

/** The longest line of a file a pattern is tried on (longer ones are cut): bounds regex time. */
const MAX_LINE = 4096;
/** The most directory entries one `world_writable` probe visits. */
export const MAX_WALK_ENTRIES = 10_000;
/** How many offending files a `world_writable` detail names. */
const SHOWN = 5;

const pass = (detail: string): Outcome => ({ status: 'pass', detail });
const fail = (detail: string): Outcome => ({ status: 'fail', detail });
const error = (detail: string): Outcome => ({ status: 'error', detail });
const clip = (s: string, n = 120) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The installed packages in dpkg's status file (`Status: … installed`). */
export function parseDpkgInstalled(text: string): Set<string> {
  const out = new Set<string>();
  for (const stanza of text.split(/\n\s*\n/)) {
    const name = /^Package:\s*(\S+)/m.exec(stanza)?.[1];
    const status = /^Status:\s*(.*)$/m.exec(stanza)?.[1]?.trim().split(/\s+/);
    if (name && status?.[2] === 'installed') out.add(name);
  }
  return out;
}

/** Name-by-id of /etc/passwd or /etc/group (the first and third fields). */
export function parseIdNames(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    const id = Number(f[2]);
    if (f.length >= 3 && f[0] && Number.isInteger(id) && !out.has(id)) out.set(id, f[0]);
  }
  return out;
}

/** The ports in a /proc/net/{tcp,udp}[6] table, of sockets in `state` (hex, e.g. `0A`). */
export function parseProcNetPorts(text: string, state: string | undefined): Set<number> {
  const out = new Set<number>();
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    const port = Number.parseInt(f[1]!.split(':')[1] ?? '', 16);
    if (!Number.isInteger(port)) continue;
    if (state === undefined || f[3]!.toUpperCase() === state) out.add(port);
  }
  return out;
}

/** A unit name with its type: `auditd` is `auditd.service`. */
export const unitName = (unit: string) =>
  /\.(service|socket|timer|target|path|mount|automount|swap|slice|scope)$/.test(unit)
    ? unit
    : `${unit}.service`;

/**
 * Runs probes against one probe context. What several rules need (dpkg's database, the account
 * names, the units asked about) is read once per runner: one runner serves one evaluation.
 */
export function createProbeRunner(ctx: ProbeContext): (probe: ComplianceProbe) => Promise<Outcome> {
  const memo = <T>(fn: () => Promise<T>) => {
    let p: Promise<T> | undefined;
    return () => (p ??= fn());
  };
  const dpkg = memo(async () => {
    const r = await readBounded(
      under(ctx.root, '/var/lib/dpkg/status'),
      '/var/lib/dpkg/status',
      MAX_DPKG_STATUS_BYTES,
    );
    if (r.ok) return { installed: parseDpkgInstalled(r.text) } as const;
    return r.missing ? undefined : ({ reason: r.reason } as const);
  });
  const names = (file: string) =>
    memo(async () => {
      const r = await readBounded(under(ctx.root, file), file);
      return r.ok ? parseIdNames(r.text) : new Map<number, string>();
    });
  const users = names('/etc/passwd');
  const groups = names('/etc/group');
  const active = new Map<string, Promise<boolean>>();

  const fileContent = async (p: Probe<'file_content'>): Promise<Outcome> => {
    const re = new RegExp(p.pattern, 'i');
    const files: string[] = [];
    for (const pattern of p.paths) files.push(...(await expandPath(ctx.root, pattern)));
    let read = 0;
    let found: string | undefined;
    for (const file of files) {
      const r = await readBounded(under(ctx.root, file), file);
      if (!r.ok) {
        if (r.missing) continue;
        return error(r.reason);
      }
      read += 1;
      const lines = r.text.split('\n');
      for (const [i, raw] of lines.entries()) {
        const line = raw.length > MAX_LINE ? raw.slice(0, MAX_LINE) : raw;
        const t = line.trim();
        if (t === '' || t.startsWith('#')) continue;
        if (re.test(line)) {
          found = `${file}:${i + 1}: ${clip(t)}`;
          break;
        }
      }
      if (found) break;
    }
    if (read === 0) {
      const verdict = p.missing ?? 'fail';
      return { status: verdict, detail: `no such file: ${clip(p.paths.join(', '), 300)}` };
    }
    const where = clip(p.paths.join(', '), 300);
    if (p.expect === 'match')
      return found ? pass(`found ${found}`) : fail(`no line matches /${p.pattern}/ in ${where}`);
    return found ? fail(`found ${found}`) : pass(`no line matches /${p.pattern}/ in ${where}`);
  };

  const sysctl = async (p: Probe<'sysctl'>): Promise<Outcome> => {
    const rel = `sys/${p.key.replace(/\./g, '/')}`;
    const r = await readBounded(path.join(ctx.procRoot, rel), `/proc/${rel}`, 64 * 1024);
    if (!r.ok) return error(r.missing ? `kernel parameter ${p.key} does not exist` : r.reason);
    const seen = r.text.trim().replace(/\s+/g, ' ');
    const want = String(p.value).trim().replace(/\s+/g, ' ');
    const a = Number(seen);
    const b = Number(want);
    const numeric = seen !== '' && want !== '' && Number.isFinite(a) && Number.isFinite(b);
    let ok: boolean;
    if (numeric) ok = { eq: a === b, ne: a !== b, ge: a >= b, le: a <= b }[p.op];
    else if (p.op === 'eq' || p.op === 'ne') ok = (seen === want) === (p.op === 'eq');
    else return error(`${p.key} = ${clip(seen)} is not a number: cannot compare with ${p.op}`);
    const sign = { eq: '=', ne: '≠', ge: '≥', le: '≤' }[p.op];
    return {
      status: ok ? 'pass' : 'fail',
      detail: `${p.key} = ${clip(seen)} (expected ${sign} ${want})`,
    };
  };

  const pkg = async (p: Probe<'package'>): Promise<Outcome> => {
    let installed: boolean;
    const db = await dpkg();
    if (db?.reason !== undefined) return error(db.reason);
    if (db?.installed) installed = db.installed.has(p.name);
    else if (ctx.rpmInstalled) {
      try {
        installed = await ctx.rpmInstalled(p.name);
      } catch (err) {
        return error((err as Error).message);
      }
    } else return error('no package database found (no dpkg status file, rpm not available)');
    const word = installed ? 'installed' : 'not installed';
    return {
      status: installed === (p.expect === 'installed') ? 'pass' : 'fail',
      detail: `${p.name} is ${word}`,
    };
  };

  const enabled = async (unit: string): Promise<boolean | string> => {
    const etc = under(ctx.root, '/etc/systemd/system');
    try {
      // A unit masked in /etc (a link to /dev/null) is never enabled, whatever else says so.
      const mask = await lstat(path.join(etc, unit)).catch(() => undefined);
      if (mask?.isSymbolicLink() && (await readlink(path.join(etc, unit))) === '/dev/null')
        return false;
      const dirs = (await readdir(etc)).filter(
        (d) => d.endsWith('.wants') || d.endsWith('.requires'),
      );
      for (const d of dirs) {
        const st = await lstat(path.join(etc, d, unit)).catch(() => undefined);
        if (st) return true;
      }
      return false;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return false;
      return reasonOf(err, '/etc/systemd/system');
    }
  };

  const service = async (p: Probe<'service'>): Promise<Outcome> => {
    const unit = unitName(p.unit);
    const parts: string[] = [];
    let ok = true;
    if (p.enabled !== undefined) {
      const e = await enabled(unit);
      if (typeof e === 'string') return error(e);
      parts.push(e ? 'enabled' : 'not enabled');
      ok &&= e === p.enabled;
    }
    if (p.active !== undefined) {
      if (!ctx.isActive) return error('cannot ask systemd whether units are active here');
      let a: boolean;
      try {
        let q = active.get(unit);
        if (!q) active.set(unit, (q = ctx.isActive(unit)));
        a = await q;
      } catch (err) {
        return error((err as Error).message);
      }
      parts.push(a ? 'active' : 'not active');
      ok &&= a === p.active;
    }
    return { status: ok ? 'pass' : 'fail', detail: `${unit} is ${parts.join(' and ')}` };
  };

  const fileMode = async (p: Probe<'file_mode'>): Promise<Outcome> => {
    let st;
    try {
      st = await lstat(under(ctx.root, p.path));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR')
        return { status: p.missing ?? 'fail', detail: `${p.path} does not exist` };
      return error(reasonOf(err, p.path));
    }
    const mode = st.mode & 0o7777;
    const octal = (m: number) => `0${m.toString(8).padStart(3, '0')}`;
    const problems: string[] = [];
    const facts = [`mode ${octal(mode)}`];
    if (p.max_mode !== undefined) {
      const max = Number.parseInt(p.max_mode, 8);
      if ((mode & ~max) !== 0) problems.push(`mode ${octal(mode)} is looser than ${octal(max)}`);
    }
    if (p.owner !== undefined) {
      const name = (await users()).get(st.uid) ?? String(st.uid);
      facts.push(`owner ${name}`);
      if (name !== p.owner) problems.push(`owner is ${name}, not ${p.owner}`);
    }
    if (p.group !== undefined) {
      const name = (await groups()).get(st.gid) ?? String(st.gid);
      facts.push(`group ${name}`);
      if (name !== p.group) problems.push(`group is ${name}, not ${p.group}`);
    }
    return problems.length > 0
      ? fail(`${p.path}: ${problems.join('; ')}`)
      : pass(`${p.path}: ${facts.join(', ')}`);
  };

  const port = async (p: Probe<'port'>): Promise<Outcome> => {
    const tables = p.protocol === 'tcp' ? ['net/tcp', 'net/tcp6'] : ['net/udp', 'net/udp6'];
    // TCP sockets count in LISTEN (0A); a bound UDP socket takes datagrams in any state.
    const state = p.protocol === 'tcp' ? '0A' : undefined;
    let read = 0;
    let listening = false;
    for (const t of tables) {
      const r = await readBounded(path.join(ctx.procRoot, t), `/proc/${t}`, 16 * 1024 * 1024);
      if (!r.ok) {
        if (r.missing) continue;
        return error(r.reason);
      }
      read += 1;
      if (parseProcNetPorts(r.text, state).has(p.port)) listening = true;
    }
    if (read === 0) return error(`cannot read /proc/${tables[0]}`);
    const what = `${p.protocol}/${p.port} is ${listening ? 'listening' : 'closed'}`;
    return { status: listening === (p.expect === 'listening') ? 'pass' : 'fail', detail: what };
  };

  const worldWritable = async (p: Probe<'world_writable'>): Promise<Outcome> => {
    const maxDepth = p.max_depth ?? 4;
    const found: string[] = [];
    let visited = 0;
    let unreadable = 0;
    const start = under(ctx.root, p.path);
    try {
      if (!(await lstat(start)).isDirectory()) return error(`${p.path} is not a directory`);
    } catch (err) {
      return error(reasonOf(err, p.path));
    }
    const walk = async (dir: string, shown: string, depth: number): Promise<boolean> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        unreadable += 1;
        return true;
      }
      for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
        if (++visited > MAX_WALK_ENTRIES) return false;
        const full = path.join(dir, e.name);
        const rel = path.posix.join(shown, e.name);
        if (e.isFile()) {
          try {
            if (((await lstat(full)).mode & 0o002) !== 0) found.push(rel);
          } catch {
            unreadable += 1;
          }
        } else if (e.isDirectory() && depth < maxDepth) {
          // Symbolic links are entries of their own kind here: never followed.
          if (!(await walk(full, rel, depth + 1))) return false;
        }
      }
      return true;
    };
    const complete = await walk(start, p.path, 1);
    const skipped = unreadable > 0 ? `; ${unreadable} entries could not be read` : '';
    if (found.length > 0) {
      const more = found.length > SHOWN ? ` and ${found.length - SHOWN} more` : '';
      return fail(`world-writable: ${found.slice(0, SHOWN).join(', ')}${more}${skipped}`);
    }
    if (!complete)
      return error(
        `stopped after ${MAX_WALK_ENTRIES} entries under ${p.path} without finding one: not fully checked`,
      );
    return pass(
      `no world-writable file under ${p.path} (${visited} entries, depth ${maxDepth})${skipped}`,
    );
  };

  const securityUpdates = (p: Probe<'security_updates'>): Outcome => {
    const n = ctx.securityUpdates();
    if (typeof n === 'string') return error(n);
    const detail = `${n} pending security update${n === 1 ? '' : 's'} (at most ${p.max} allowed)`;
    return n <= p.max ? pass(detail) : fail(detail);
  };

  const run = async (probe: ComplianceProbe): Promise<Outcome> => {
    switch (probe.kind) {
      case 'file_content':
        return fileContent(probe);
      case 'sysctl':
        return sysctl(probe);
      case 'package':
        return pkg(probe);
      case 'service':
        return service(probe);
      case 'file_mode':
        return fileMode(probe);
      case 'port':
        return port(probe);
      case 'world_writable':
        return worldWritable(probe);
      case 'security_updates':
        return securityUpdates(probe);
      case 'any':
      case 'all': {
        const outs: Outcome[] = [];
        for (const inner of probe.probes) outs.push(await run(inner));
        const decisive = probe.kind === 'any' ? 'pass' : 'fail';
        const status = outs.some((o) => o.status === decisive)
          ? decisive
          : outs.some((o) => o.status === 'error')
            ? 'error'
            : probe.kind === 'any'
              ? 'fail'
              : 'pass';
        // The probes that decided the verdict say why; the others would only add noise.
        const shown = outs.filter((o) => o.status === status);
        const join = probe.kind === 'any' ? ' | ' : '; ';
        return {
          status,
          detail: (shown.length > 0 ? shown : outs).map((o) => o.detail).join(join),
        };
      }
    }
  };
  return run;
}
