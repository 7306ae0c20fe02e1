import { createHash } from 'node:crypto';
import type { ConfigObject, Json, ObjectKind, ResolvedObject } from '../objects/model.js';
import { canonical } from '../objects/properties.js';
import { resolve } from '../objects/resolve.js';

/**
 * The whole enabled configuration at one moment, as a deployment keeps it: every list sorted by
 * name (services by host, then name), so that the same configuration always gives the same text
 * and the same checksum.
 */
export interface Snapshot {
  /** Check, event and notification commands, objects and templates alike. */
  commands: ConfigObject[];
  hostgroups: ConfigObject[];
  host_templates: ConfigObject[];
  hosts: ConfigObject[];
  service_templates: ConfigObject[];
  /** Services attached to a host, or to a host template (then applied to its importers). */
  services: ConfigObject[];
}

/** The sections of a snapshot, in the order it lists them. */
export const SECTIONS = [
  'commands',
  'hostgroups',
  'host_templates',
  'hosts',
  'service_templates',
  'services',
] as const satisfies readonly (keyof Snapshot)[];

/** How many objects of each section a snapshot holds. */
export type SnapshotCounts = Record<keyof Snapshot, number>;

/** Compares strings by code unit, the same in every locale. */
export const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const byName = (a: ConfigObject, b: ConfigObject): number =>
  cmp(a.host ?? '', b.host ?? '') || cmp(a.object_name, b.object_name);

/** Puts a snapshot's sections into their canonical order. */
export function sortSnapshot(s: Snapshot): Snapshot {
  const out = { ...s };
  for (const k of SECTIONS) out[k] = [...s[k]].sort(byName);
  return out;
}

/** The checksum of a snapshot: SHA-1 of its canonical JSON text, 40 hex digits (as Director's). */
export const checksumOf = (s: Snapshot): string =>
  createHash('sha1').update(canonical(s)).digest('hex');

/** The number of objects in each section. */
export const countsOf = (s: Snapshot): SnapshotCounts =>
  Object.fromEntries(SECTIONS.map((k) => [k, s[k].length])) as SnapshotCounts;

/** A snapshot's objects by name, built once per snapshot (`templateIndex`). */
export interface SnapshotIndex {
  /** Templates by kind and name. */
  templates: Record<ObjectKind, Map<string, ConfigObject>>;
  hosts: Map<string, ConfigObject>;
  commands: Map<string, ConfigObject>;
  /** Services by the host or host template they are attached to, in snapshot order. */
  servicesOf: Map<string, ConfigObject[]>;
  /** Resolves an object against the snapshot's templates; throws as `resolve` does. */
  resolve(o: ConfigObject): ResolvedObject;
}

const indexes = new WeakMap<Snapshot, SnapshotIndex>();

/**
 * The index of a snapshot, built on first use and kept while the snapshot lives: a snapshot is
 * not to be changed once indexed.
 */
export function templateIndex(s: Snapshot): SnapshotIndex {
  const known = indexes.get(s);
  if (known) return known;
  const byName = (list: ConfigObject[]) => new Map(list.map((o) => [o.object_name, o]));
  const templates: Record<ObjectKind, Map<string, ConfigObject>> = {
    host: byName(s.host_templates),
    service: byName(s.service_templates),
    command: byName(s.commands.filter((o) => o.object_type === 'template')),
    hostgroup: byName(s.hostgroups.filter((o) => o.object_type === 'template')),
  };
  const servicesOf = new Map<string, ConfigObject[]>();
  for (const svc of s.services)
    if (svc.host !== null) servicesOf.set(svc.host, [...(servicesOf.get(svc.host) ?? []), svc]);
  const index: SnapshotIndex = {
    templates,
    hosts: byName(s.hosts),
    commands: byName(s.commands),
    servicesOf,
    resolve: (o) => resolve(o, (kind, name) => templates[kind].get(name)),
  };
  indexes.set(s, index);
  return index;
}

/** Names an object for messages and diffs: `service "ping" on web1`. */
export const label = (o: ConfigObject): string =>
  `${o.object_type === 'template' ? `${o.kind} template` : o.kind} "${o.object_name}"${o.host ? ` on ${o.host}` : ''}`;

/**
 * Checks that a snapshot holds together: every import names a template of its kind, every
 * check or event command and host group exists, every service's host (or host template) is in
 * it, and every service, once resolved, has a check command (a host without one gets Icinga's
 * default). Returns the problems found, one sentence each; empty when it is valid.
 */
export function validateSnapshot(s: Snapshot): string[] {
  const problems: string[] = [];
  const index = templateIndex(s);
  const commands = new Set(s.commands.map((o) => o.object_name));
  const groups = new Set(s.hostgroups.map((o) => o.object_name));
  const hostNames = new Set([...s.hosts, ...s.host_templates].map((o) => o.object_name));
  const check = (o: ConfigObject): void => {
    let r: ResolvedObject;
    try {
      r = index.resolve(o);
    } catch (err) {
      problems.push(`${label(o)}: ${(err as Error).message}`);
      return;
    }
    for (const key of ['check_command', 'event_command'] as const) {
      const name = o.properties[key];
      if (typeof name === 'string' && !commands.has(name))
        problems.push(`${label(o)}: ${key} ${name} is not a command`);
    }
    const own = o.properties.groups;
    if (Array.isArray(own))
      for (const g of own)
        if (typeof g === 'string' && !groups.has(g))
          problems.push(`${label(o)}: group ${g} is not a host group`);
    if (o.kind === 'service' && o.object_type === 'object') {
      if (!o.host || !hostNames.has(o.host))
        problems.push(`${label(o)}: its host ${o.host ?? '(none)'} is not in the configuration`);
      if (typeof r.properties.check_command !== 'string')
        problems.push(`${label(o)}: has no check_command, neither its own nor inherited`);
    }
  };
  for (const k of SECTIONS) for (const o of s[k]) check(o);
  return problems;
}

/** An object as a diff names it. */
export interface ObjectKey {
  kind: ObjectKind;
  object_type: ConfigObject['object_type'];
  name: string;
  /** A service's host or host template; null otherwise. */
  host: string | null;
}

/** What changed between two snapshots. */
export interface SnapshotDiff {
  added: ObjectKey[];
  removed: ObjectKey[];
  /** Objects in both that differ, with the keys that differ (`vars.NAME` for one variable). */
  changed: (ObjectKey & { keys: string[] })[];
}

const keyOf = (o: ConfigObject): ObjectKey => ({
  kind: o.kind,
  object_type: o.object_type,
  name: o.object_name,
  host: o.host,
});

/** The keys in which two versions of an object differ, sorted. */
function changedKeys(a: ConfigObject, b: ConfigObject): string[] {
  const keys: string[] = [];
  const same = (x: Json | undefined, y: Json | undefined) =>
    canonical(x ?? null) === canonical(y ?? null);
  if (!same(a.imports, b.imports)) keys.push('imports');
  if (a.disabled !== b.disabled) keys.push('disabled');
  for (const k of new Set([...Object.keys(a.properties), ...Object.keys(b.properties)]))
    if (!same(a.properties[k], b.properties[k])) keys.push(k);
  for (const k of new Set([...Object.keys(a.vars), ...Object.keys(b.vars)]))
    if (!same(a.vars[k], b.vars[k])) keys.push(`vars.${k}`);
  return keys.sort();
}

/**
 * The difference from snapshot `from` to snapshot `to` (an empty `from` when there is nothing
 * to compare with): objects added, removed and changed, each list sorted by kind, then host,
 * then name.
 */
export function diffSnapshots(from: Snapshot | null, to: Snapshot): SnapshotDiff {
  const id = (o: ConfigObject) =>
    `${o.kind}\u0000${o.object_type}\u0000${o.host ?? ''}\u0000${o.object_name}`;
  const all = (s: Snapshot | null) =>
    new Map((s ? SECTIONS.flatMap((k) => s[k]) : []).map((o) => [id(o), o]));
  const before = all(from);
  const after = all(to);
  const diff: SnapshotDiff = { added: [], removed: [], changed: [] };
  for (const [k, o] of after) {
    const old = before.get(k);
    if (!old) diff.added.push(keyOf(o));
    else {
      const keys = changedKeys(old, o);
      if (keys.length > 0) diff.changed.push({ ...keyOf(o), keys });
    }
  }
  for (const [k, o] of before) if (!after.has(k)) diff.removed.push(keyOf(o));
  const order = (a: ObjectKey, b: ObjectKey) =>
    cmp(a.kind, b.kind) ||
    cmp(a.object_type, b.object_type) ||
    cmp(a.host ?? '', b.host ?? '') ||
    cmp(a.name, b.name);
  diff.added.sort(order);
  diff.removed.sort(order);
  diff.changed.sort(order);
  return diff;
}
