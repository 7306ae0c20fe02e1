import { createHash } from 'node:crypto';
import type { DeployedCheck } from '@vigil/protocol';
import type { ConfigObject, Json, ResolvedObject } from '../objects/model.js';
import { canonical } from '../objects/properties.js';
import { cmp, templateIndex, type Snapshot } from './snapshot.js';

/** Where Icinga's `PluginDir` points on Debian: relative commands are taken from here. */
export const PLUGIN_DIR = '/usr/lib/nagios/plugins';

/**
 * The host templates a host imports, at every level, each after the templates it imports
 * itself (the order in which their values apply).
 */
export function templateChain(snapshot: Snapshot, host: ConfigObject): string[] {
  const templates = templateIndex(snapshot).templates.host;
  const chain: string[] = [];
  const walk = (names: string[], path: string[]) => {
    for (const n of names) {
      if (chain.includes(n) || path.includes(n)) continue;
      const t = templates.get(n);
      if (!t) continue;
      walk(t.imports, [...path, n]);
      chain.push(n);
    }
  };
  walk(host.imports, [host.object_name]);
  return chain;
}

/**
 * The services a host runs in a snapshot: those attached to the templates it imports, in the
 * order the templates apply, then its own; a later one of the same name takes the place of an
 * earlier one. Sorted by name.
 */
export function hostServices(snapshot: Snapshot, host: ConfigObject): ConfigObject[] {
  const order = [...templateChain(snapshot, host), host.object_name];
  const { servicesOf } = templateIndex(snapshot);
  const byName = new Map<string, ConfigObject>();
  for (const owner of order)
    for (const s of servicesOf.get(owner) ?? []) byName.set(s.object_name, s);
  return [...byName.values()].sort((a, b) => cmp(a.object_name, b.object_name));
}

/** A macro's value: a JSON value, or undefined when it resolves to nothing. */
type MacroValue = Json | undefined;

/** What macros of one check are resolved against. */
interface MacroScope {
  host: ResolvedObject;
  service: ResolvedObject;
  command: ResolvedObject;
}

const present = (v: MacroValue): v is Json => v !== undefined && v !== null;

/** One macro (`address`, `host.vars.os`, `ping_wrta`), as Icinga resolves it. */
function macro(name: string, scope: MacroScope): MacroValue {
  const { host, service, command } = scope;
  const attribute = (o: ResolvedObject, key: string): MacroValue => {
    if (key === 'name') return o.object.object_name;
    if (key.startsWith('vars.')) return o.vars[key.slice(5)];
    return o.properties[key];
  };
  if (name === 'address' || name === 'address6') return host.properties[name];
  if (name.startsWith('host.')) return attribute(host, name.slice(5));
  if (name.startsWith('service.')) return attribute(service, name.slice(8));
  if (name.startsWith('command.')) return attribute(command, name.slice(8));
  for (const o of [service, host, command]) if (present(o.vars[name])) return o.vars[name];
  return undefined;
}

/**
 * Expands the macros of a string: `$$` is a dollar sign; a string that is one macro takes the
 * macro's value as it is (a list stays a list); otherwise values are written into the text.
 * Undefined when any macro resolves to nothing.
 */
export function expand(text: string, resolveMacro: (name: string) => MacroValue): MacroValue {
  const whole = /^\$([^$]+)\$$/.exec(text);
  if (whole) return resolveMacro(whole[1]!) ?? undefined;
  let missing = false;
  const out = text.replace(/\$([^$]*)\$/g, (_m, name: string) => {
    if (name === '') return '$';
    const v = resolveMacro(name);
    if (!present(v)) {
      missing = true;
      return '';
    }
    return typeof v === 'object' ? canonical(v) : String(v);
  });
  return missing ? undefined : out;
}

/** An argument's fields, whether it was given as a bare value or as an object. */
interface Argument {
  name: string;
  value?: Json;
  key?: string;
  set_if?: Json;
  skip_key: boolean;
  repeat_key: boolean;
  required: boolean;
  order: number;
  separator?: string;
}

const flag = (v: Json | undefined, fallback: boolean): boolean =>
  v === undefined || v === null ? fallback : v === true || v === 'y' || v === 'true' || v === 1;

function argumentsOf(value: Json | undefined): Argument[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value).map(([name, a]): Argument => {
    if (a === null || typeof a !== 'object' || Array.isArray(a))
      return { name, value: a, skip_key: false, repeat_key: true, required: false, order: 0 };
    const order = Number(a.order ?? 0);
    return {
      name,
      ...(a.value !== undefined ? { value: a.value } : {}),
      ...(typeof a.key === 'string' ? { key: a.key } : {}),
      ...(a.set_if !== undefined ? { set_if: a.set_if } : {}),
      skip_key: flag(a.skip_key, false),
      repeat_key: flag(a.repeat_key, true),
      required: flag(a.required, false),
      order: Number.isFinite(order) ? order : 0,
      ...(typeof a.separator === 'string' ? { separator: a.separator } : {}),
    };
  });
}

/** Reads a resolved `set_if` as Icinga does: true/false, or a number (0 is false). */
function setIfHolds(v: MacroValue): boolean {
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false' || !present(v)) return false;
  const n = Number(v);
  return Number.isFinite(n) && n !== 0;
}

/** Thrown inside `commandLine` when a required argument resolves to nothing. */
class MissingRequired extends Error {}

/**
 * The argument vector of a command: the executable (a relative one under `PLUGIN_DIR`, as
 * Icinga's `PluginDir + "/check_x"`), then the arguments in Icinga's order (by `order`, then
 * name). An argument whose value resolves to nothing, or whose `set_if` does not hold, is left
 * out; a boolean value true gives the key alone, false leaves it out; a list repeats the key
 * before each item unless `repeat_key` is false; `skip_key` gives the value alone.
 */
function commandLine(scope: MacroScope): string[] | undefined {
  const resolveMacro = (name: string) => macro(name, scope);
  const raw = scope.command.properties.command;
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  const exe = expand(raw.trim(), resolveMacro);
  if (typeof exe !== 'string' || exe === '') return undefined;
  const argv = [exe.startsWith('/') ? exe : `${PLUGIN_DIR}/${exe}`];
  const args = argumentsOf(scope.command.properties.arguments).sort(
    (a, b) => a.order - b.order || cmp(a.name, b.name),
  );
  for (const a of args) {
    if (a.set_if !== undefined) {
      const v = typeof a.set_if === 'string' ? expand(a.set_if, resolveMacro) : a.set_if;
      if (!setIfHolds(v)) continue;
    }
    const key = a.key ?? a.name;
    if (a.value === undefined || a.value === null) {
      argv.push(key);
      continue;
    }
    const value = typeof a.value === 'string' ? expand(a.value, resolveMacro) : a.value;
    if (!present(value)) {
      if (a.required) throw new MissingRequired(a.name);
      continue;
    }
    if (value === false) continue;
    if (value === true) {
      argv.push(key);
      continue;
    }
    const items = Array.isArray(value)
      ? value.map((v) => (typeof v === 'object' ? canonical(v) : String(v)))
      : [typeof value === 'object' ? canonical(value) : String(value)];
    if (items.length === 0) continue;
    if (a.skip_key) argv.push(...items);
    else if (a.separator !== undefined) argv.push(...items.map((v) => `${key}${a.separator}${v}`));
    else if (a.repeat_key || items.length === 1) for (const v of items) argv.push(key, v);
    else argv.push(key, ...items);
  }
  return argv;
}

/** Reads an interval kept as seconds, rounded up to whole seconds; undefined when unset. */
function seconds(v: Json | undefined): number | undefined {
  const n = typeof v === 'string' || typeof v === 'number' ? Number(v) : NaN;
  return Number.isFinite(n) && n > 0 ? Math.min(86_400, Math.ceil(n)) : undefined;
}

/**
 * The checks a snapshot gives the host named `hostName`: each of its services with its check
 * command resolved into an argument vector, and the checksum of the list (the same checks, the
 * same checksum). Undefined when the host is not in the snapshot. A service whose command has
 * no executable, or lacks a required argument, is left out: Icinga could not run it either.
 */
export function checksForHost(
  snapshot: Snapshot,
  hostName: string,
): { checksum: string; checks: DeployedCheck[] } | undefined {
  const index = templateIndex(snapshot);
  const host = index.hosts.get(hostName);
  if (!host) return undefined;
  const commands = index.commands;
  const resolvedHost = index.resolve(host);
  const checks: DeployedCheck[] = [];
  for (const s of hostServices(snapshot, host)) {
    const service = index.resolve(s);
    const name = service.properties.check_command;
    const command = typeof name === 'string' ? commands.get(name) : undefined;
    if (!command) continue;
    const resolvedCommand = index.resolve(command);
    let argv: string[] | undefined;
    try {
      argv = commandLine({ host: resolvedHost, service, command: resolvedCommand });
    } catch (err) {
      if (err instanceof MissingRequired) continue;
      throw err;
    }
    if (!argv) continue;
    const interval = seconds(service.properties.check_interval);
    const timeout =
      seconds(service.properties.check_timeout) ?? seconds(resolvedCommand.properties.timeout);
    checks.push({
      name: s.object_name,
      command: argv,
      ...(interval !== undefined ? { interval_seconds: interval } : {}),
      ...(timeout !== undefined ? { timeout_seconds: timeout } : {}),
    });
  }
  return { checksum: createHash('sha1').update(canonical(checks)).digest('hex'), checks };
}
