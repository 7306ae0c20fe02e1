import { createHash } from 'node:crypto';
import { fieldsOf, type CheckDocument } from '@vigil/protocol/decode';
import { isRecord } from '@vigil/protocol/guards';
import type { AccountEntry, HostState, NewIntelEvent, PortEntry } from './model.js';

// The pure half of host intelligence: what a document or an inventory tells of a host, its
// fingerprints (what the recorder keeps in memory per host to see cheaply that nothing changed),
// and the events between a stored state and what a document or inventory tells.

/** How far a host's boot time must move (ms) before it can be a reboot. */
export const REBOOT_SHIFT_MS = 120_000;

/**
 * A listening socket's subject: `tcp/0.0.0.0:22`; an IPv6 address is bracketed
 * (`tcp/[::]:22`), so the port stays readable.
 */
export const portSubject = (p: { protocol: string; address: string; port: number }): string =>
  `${p.protocol}/${p.address.includes(':') ? `[${p.address}]` : p.address}:${p.port}`;

/** A short fingerprint of a set of strings, whatever their order and repeats (it sorts `items`). */
function fingerprint(items: string[]): string {
  items.sort();
  let text = '';
  for (let i = 0; i < items.length; i++)
    if (i === 0 || items[i] !== items[i - 1]) text += `${items[i]}\n`;
  // A short text is its own fingerprint (it ends in a newline, or is empty; a digest never is).
  return text.length <= 64 ? text : createHash('sha1').update(text).digest('base64');
}

/** A systemd unit of the document's `systemd_services`, as far as it is read here. */
interface UnitEntry {
  Name?: unknown;
  ActiveState?: unknown;
  SubState?: unknown;
}

/** What one document tells of its host; a part the document does not carry is undefined. */
export interface DocumentFacts {
  /** The document's time (epoch ms). */
  at: number;
  kernel: string | undefined;
  /** The boot time (epoch ms): `at` less `agent.system_uptime`. */
  boot: number | undefined;
  /** The `listening_ports` entries as sent (read into `PortEntry`s only on a change). */
  ports: Record<string, unknown>[] | undefined;
  /** The `accounts` entries as sent (read into `AccountEntry`s only on a change). */
  accounts: Record<string, unknown>[] | undefined;
  /** The systemd units as sent, for their states. */
  units: UnitEntry[] | undefined;
  /** The names of the failed units, sorted. */
  failedUnits: string[] | undefined;
  /** Fingerprints of the ports' subjects, the accounts' names and the failed units. */
  prints: { ports?: string; accounts?: string; units?: string };
}

/** The valid entries of a list section, or undefined when it is absent or a collector's error. */
const entries = (value: unknown): Record<string, unknown>[] | undefined =>
  Array.isArray(value) ? value.filter(isRecord) : undefined;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) ? v : undefined;

/** The subject of a sent `listening_ports` entry, or undefined when it lacks a field. */
function sentPortSubject(e: Record<string, unknown>): string | undefined {
  const { protocol, address, port } = e;
  return typeof protocol === 'string' &&
    protocol !== '' &&
    typeof address === 'string' &&
    typeof port === 'number' &&
    Number.isInteger(port)
    ? portSubject({ protocol, address, port })
    : undefined;
}

/** The listening ports of a document's section, deduplicated by subject. */
function portsOf(list: Record<string, unknown>[]): PortEntry[] {
  const out = new Map<string, PortEntry>();
  for (const e of list) {
    const protocol = str(e.protocol);
    const address = str(e.address);
    const port = int(e.port);
    if (!protocol || address === undefined || port === undefined) continue;
    const entry: PortEntry = { protocol, address, port };
    const process = str(e.process);
    const pid = int(e.pid);
    if (process !== undefined) entry.process = process;
    if (pid !== undefined) entry.pid = pid;
    const key = portSubject(entry);
    if (!out.has(key)) out.set(key, entry);
  }
  return [...out.values()];
}

/** The accounts of a document's section, deduplicated by name. */
function accountsOf(list: Record<string, unknown>[]): AccountEntry[] {
  const out = new Map<string, AccountEntry>();
  for (const e of list) {
    const name = str(e.name);
    if (!name || out.has(name)) continue;
    const entry: AccountEntry = { name };
    const uid = int(e.uid);
    const gid = int(e.gid);
    if (uid !== undefined) entry.uid = uid;
    if (gid !== undefined) entry.gid = gid;
    if (str(e.home) !== undefined) entry.home = str(e.home);
    if (str(e.shell) !== undefined) entry.shell = str(e.shell);
    out.set(name, entry);
  }
  return [...out.values()];
}

/** The fingerprints of a list of ports, of accounts and of failed units. */
export const portsPrint = (ports: readonly PortEntry[]): string =>
  fingerprint(ports.map(portSubject));
export const accountsPrint = (accounts: readonly AccountEntry[]): string =>
  fingerprint(accounts.map((a) => a.name));
export const unitsPrint = (units: readonly string[]): string => fingerprint([...units]);

/** What a document (collected at `at`, epoch ms) tells of its host. */
export function documentFacts(doc: CheckDocument, at: number): DocumentFacts {
  const agent = fieldsOf(doc.agent);
  const kernel =
    typeof agent.kernel_version === 'string' && agent.kernel_version !== ''
      ? agent.kernel_version
      : undefined;
  // An agent that omits its uptime (or sends nonsense) tells nothing of the boot time.
  const uptime = agent.system_uptime;
  const boot =
    typeof uptime === 'number' && Number.isFinite(uptime) && uptime >= 0
      ? at - Math.round(uptime) * 1000
      : undefined;
  const ports = entries(doc.listening_ports);
  const accounts = entries(doc.accounts);
  const units: UnitEntry[] | undefined = entries(doc.systemd_services);
  // The fingerprints are taken of the subjects and names alone: no entry is built per push.
  const subjects: string[] = [];
  for (const e of ports ?? []) {
    const subject = sentPortSubject(e);
    if (subject !== undefined) subjects.push(subject);
  }
  const names: string[] = [];
  for (const e of accounts ?? []) if (typeof e.name === 'string' && e.name) names.push(e.name);
  const failedUnits =
    units &&
    [
      ...new Set(
        units
          .filter((u) => u.ActiveState === 'failed' && typeof u.Name === 'string')
          .map((u) => u.Name as string),
      ),
    ].sort();
  return {
    at,
    kernel,
    boot,
    ports,
    accounts,
    units,
    failedUnits,
    prints: {
      ports: ports && fingerprint(subjects),
      accounts: accounts && fingerprint(names),
      units: failedUnits && unitsPrint(failedUnits),
    },
  };
}

/**
 * Whether the boot time moved from `previous` (seen in a document at `previousAt`) to `boot`
 * because the host restarted: it moved forward by more than `REBOOT_SHIFT_MS`, to after the
 * previous document. A boot time that creeps (an uptime that does not advance with the clock,
 * a clock step) stays before the previous document and is no reboot.
 */
export const isReboot = (previous: number, previousAt: number, boot: number): boolean =>
  boot - previous > REBOOT_SHIFT_MS && boot >= previousAt - 2_000;

/** Packages of an inventory: name → version; undefined for an inventory not (yet) scanned. */
export function inventoryPackages(inventory: unknown): Record<string, string> | undefined {
  if (!isRecord(inventory)) return undefined;
  // A pending inventory (the agent's scan has not run yet) keeps the state.
  if (inventory.Pending === true || inventory.Stats === null || inventory.Enabled === false)
    return undefined;
  if (!Array.isArray(inventory.LinuxPackages)) return undefined;
  const versions = new Map<string, Set<string>>();
  for (const p of inventory.LinuxPackages) {
    if (!isRecord(p) || typeof p.Name !== 'string' || p.Name === '') continue;
    const version = typeof p.Version === 'string' ? p.Version : '';
    const set = versions.get(p.Name) ?? new Set<string>();
    set.add(version);
    versions.set(p.Name, set);
  }
  const out: Record<string, string> = {};
  // Several packages of one name (architectures of a multi-arch system) share one entry.
  for (const name of [...versions.keys()].sort())
    out[name] = [...versions.get(name)!].sort().join(' ');
  return out;
}

/** The fingerprint of a package list. */
export const packagesPrint = (packages: Readonly<Record<string, string>>): string =>
  fingerprint(Object.entries(packages).map(([n, v]) => `${n}=${v}`));

const byKindThenSubject = (a: NewIntelEvent, b: NewIntelEvent) =>
  a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.subject < b.subject ? -1 : 1;

/** `{process, pid}` of a port, as far as known. */
const portDetail = (p: PortEntry): Record<string, unknown> => ({
  ...(p.process !== undefined ? { process: p.process } : {}),
  ...(p.pid !== undefined ? { pid: p.pid } : {}),
});

/** `{uid, shell}` of an account, as far as known. */
const accountDetail = (a: AccountEntry): Record<string, unknown> => ({
  ...(a.uid !== undefined ? { uid: a.uid } : {}),
  ...(a.shell !== undefined ? { shell: a.shell } : {}),
});

/** Events of one set of keyed things moving from `before` to `after`. */
function setChanges<T>(
  before: readonly T[],
  after: readonly T[],
  key: (t: T) => string,
  added: (t: T) => NewIntelEvent,
  removed: (t: T) => NewIntelEvent,
): NewIntelEvent[] {
  const old = new Map(before.map((t) => [key(t), t]));
  const now = new Map(after.map((t) => [key(t), t]));
  const out: NewIntelEvent[] = [];
  for (const [k, t] of now) if (!old.has(k)) out.push(added(t));
  for (const [k, t] of old) if (!now.has(k)) out.push(removed(t));
  return out;
}

/**
 * The events between `state` and a document's `facts`, and the state after it. `reboot` (with
 * the boot time it moved from) is the recorder's decision (`isReboot`) against the previous
 * document. A part the state never had is only set; a part the document does not carry is
 * kept. Events are sorted by kind, then subject.
 */
export function documentChanges(
  state: HostState,
  facts: DocumentFacts,
  reboot: { previous: number } | undefined,
): { state: HostState; events: NewIntelEvent[] } {
  const at = facts.at;
  const events: NewIntelEvent[] = [];
  const next: HostState = { ...state, seen_at: at };
  if (facts.kernel !== undefined && facts.kernel !== state.kernel) {
    if (state.kernel !== null)
      events.push({
        kind: 'kernel.changed',
        subject: facts.kernel,
        detail: { from: state.kernel, to: facts.kernel },
        at,
      });
    next.kernel = facts.kernel;
  }
  if (facts.boot !== undefined) {
    if (reboot) {
      const bootTime = new Date(facts.boot).toISOString();
      events.push({
        kind: 'host.rebooted',
        subject: bootTime,
        detail: {
          boot_time: bootTime,
          previous_boot_time: new Date(reboot.previous).toISOString(),
        },
        at,
      });
    }
    next.boot_time = facts.boot;
  }
  if (facts.ports !== undefined) {
    const ports = portsOf(facts.ports);
    if (state.ports !== null)
      events.push(
        ...setChanges(
          state.ports,
          ports,
          portSubject,
          (p) => ({ kind: 'port.opened', subject: portSubject(p), detail: portDetail(p), at }),
          (p) => ({ kind: 'port.closed', subject: portSubject(p), detail: portDetail(p), at }),
        ),
      );
    next.ports = ports.sort((a, b) => (portSubject(a) < portSubject(b) ? -1 : 1));
  }
  if (facts.accounts !== undefined) {
    const accounts = accountsOf(facts.accounts);
    if (state.accounts !== null)
      events.push(
        ...setChanges(
          state.accounts,
          accounts,
          (a) => a.name,
          (a) => ({ kind: 'user.added', subject: a.name, detail: accountDetail(a), at }),
          (a) => ({ kind: 'user.removed', subject: a.name, detail: accountDetail(a), at }),
        ),
      );
    next.accounts = accounts.sort((a, b) => (a.name < b.name ? -1 : 1));
  }
  if (facts.failedUnits !== undefined) {
    if (state.failed_units !== null) {
      const unit = (name: string) => facts.units?.find((u) => u.Name === name);
      events.push(
        ...setChanges(
          state.failed_units,
          facts.failedUnits,
          (n) => n,
          (n) => ({
            kind: 'unit.failed',
            subject: n,
            detail: { sub_state: str(unit(n)?.SubState) ?? null },
            at,
          }),
          (n) => ({
            kind: 'unit.recovered',
            subject: n,
            // A unit that is gone from the list has no state any more.
            detail: { active_state: str(unit(n)?.ActiveState) ?? null },
            at,
          }),
        ),
      );
    }
    next.failed_units = facts.failedUnits;
  }
  return { state: next, events: events.sort(byKindThenSubject) };
}

/**
 * The events between the state's packages and an inventory's (`packages`, seen at `at`), and
 * the state after it. A version that differs in any way is `package.upgraded` with `{from, to}`
 * (versions are not ordered: a downgrade is one too). The first inventory only sets the state.
 */
export function packageChanges(
  state: HostState,
  packages: Readonly<Record<string, string>>,
  at: number,
): { state: HostState; events: NewIntelEvent[] } {
  const events: NewIntelEvent[] = [];
  const before = state.packages;
  if (before !== null) {
    for (const [name, version] of Object.entries(packages)) {
      const old = before[name];
      if (old === undefined)
        events.push({ kind: 'package.installed', subject: name, detail: { version }, at });
      else if (old !== version)
        events.push({
          kind: 'package.upgraded',
          subject: name,
          detail: { from: old, to: version },
          at,
        });
    }
    for (const [name, version] of Object.entries(before))
      if (!(name in packages))
        events.push({ kind: 'package.removed', subject: name, detail: { version }, at });
  }
  return {
    state: { ...state, packages: { ...packages }, packages_at: at },
    events: events.sort(byKindThenSubject),
  };
}

/** A stored state's JSON read back; a part missing or of the wrong type reads as never seen. */
export function parseState(text: string): HostState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = undefined;
  }
  const s = isRecord(raw) ? raw : {};
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const list = <T>(v: unknown) => (Array.isArray(v) ? (v.filter(isRecord) as T[]) : null);
  return {
    kernel: typeof s.kernel === 'string' ? s.kernel : null,
    boot_time: num(s.boot_time),
    seen_at: num(s.seen_at),
    ports: list<PortEntry>(s.ports),
    accounts: list<AccountEntry>(s.accounts),
    failed_units: Array.isArray(s.failed_units)
      ? s.failed_units.filter((n): n is string => typeof n === 'string')
      : null,
    packages: isRecord(s.packages)
      ? (Object.fromEntries(
          Object.entries(s.packages).filter(([, v]) => typeof v === 'string'),
        ) as Record<string, string>)
      : null,
    packages_at: num(s.packages_at),
  };
}
