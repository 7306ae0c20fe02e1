import { VigilError } from '../errors.js';
import type { ConfigObject, Json, ObjectKind } from './model.js';

/** How a property's value is read and kept. */
type PropertyType = 'string' | 'boolean' | 'number' | 'interval' | 'names' | 'arguments';

const CHECKS: Record<string, PropertyType> = {
  display_name: 'string',
  check_command: 'string',
  max_check_attempts: 'number',
  check_period: 'string',
  check_interval: 'interval',
  retry_interval: 'interval',
  check_timeout: 'interval',
  enable_notifications: 'boolean',
  enable_active_checks: 'boolean',
  enable_passive_checks: 'boolean',
  enable_event_handler: 'boolean',
  enable_flapping: 'boolean',
  enable_perfdata: 'boolean',
  event_command: 'string',
  flapping_threshold_high: 'number',
  flapping_threshold_low: 'number',
  volatile: 'boolean',
  zone: 'string',
  command_endpoint: 'string',
  notes: 'string',
  notes_url: 'string',
  action_url: 'string',
  icon_image: 'string',
  icon_image_alt: 'string',
};

/** The properties each kind has besides object_name, object_type, imports, vars and disabled. */
export const PROPERTIES: Record<ObjectKind, Record<string, PropertyType>> = {
  host: {
    ...CHECKS,
    groups: 'names',
    address: 'string',
    address6: 'string',
    has_agent: 'boolean',
    master_should_connect: 'boolean',
    accept_config: 'boolean',
  },
  service: {
    ...CHECKS,
    use_agent: 'boolean',
    apply_for: 'string',
    use_var_overrides: 'boolean',
    assign_filter: 'string',
  },
  command: {
    methods_execute: 'string',
    command: 'string',
    timeout: 'interval',
    zone: 'string',
    is_string: 'boolean',
    arguments: 'arguments',
  },
  hostgroup: { display_name: 'string', assign_filter: 'string' },
};

/** Kinds that carry custom variables. */
export const HAS_VARS: Record<ObjectKind, boolean> = {
  host: true,
  service: true,
  command: true,
  hostgroup: false,
};

const bad = (message: string): VigilError =>
  new VigilError('bad_data', message, { code: 'config.invalid' });

/** Reads a boolean as Director does: y/n, 1/0, true/false; '' and null unset it. */
function toBoolean(key: string, value: unknown): boolean | null {
  if (value === null || value === '') return null;
  if (value === true || value === 1 || value === 'y' || value === '1' || value === 'true')
    return true;
  if (value === false || value === 0 || value === 'n' || value === '0' || value === 'false')
    return false;
  throw bad(`Got invalid boolean for ${key}: ${JSON.stringify(value)}`);
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Reads an interval (`60`, `"5m"`, `"1h 30m"`) as a number of seconds, kept as a string. */
function toInterval(key: string, value: unknown): string | null {
  if (value === null || value === '') return null;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return String(value);
  if (typeof value === 'string') {
    const t = value.trim();
    if (/^\d+(\.\d+)?$/.test(t)) return t;
    const parts = t.split(/\s+/);
    let total = 0;
    for (const p of parts) {
      const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(p);
      if (!m) throw bad(`${key} is not an interval: ${JSON.stringify(value)} (e.g. 60, "5m")`);
      total += Number(m[1]) * UNITS[m[2]!]!;
    }
    return String(total);
  }
  throw bad(`${key} is not an interval: ${JSON.stringify(value)} (e.g. 60, "5m")`);
}

/** Reads one property's value for keeping; null unsets it. */
function normalise(key: string, type: PropertyType, value: unknown): Json {
  if (value === undefined) return null;
  switch (type) {
    case 'boolean':
      return toBoolean(key, value);
    case 'interval':
      return toInterval(key, value);
    case 'number':
      if (value === null || value === '') return null;
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) return value.trim();
      throw bad(`${key} must be a number, not ${JSON.stringify(value)}`);
    case 'names': {
      if (value === null || value === '') return null;
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || list.some((n) => typeof n !== 'string' || n === ''))
        throw bad(`${key} must be a name or a list of names`);
      return list.length === 0 ? null : [...new Set(list as string[])];
    }
    case 'arguments':
      if (value === null) return null;
      if (typeof value !== 'object' || Array.isArray(value))
        throw bad(`${key} must be an object keyed by argument`);
      return argumentsOf(value as Record<string, unknown>);
    default:
      if (value === null || value === '') return null;
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      throw bad(`${key} must be a string, not ${JSON.stringify(value)}`);
  }
}

/** The fields a command argument given as an object may have. */
const ARGUMENT_FIELDS = new Set([
  'value',
  'description',
  'required',
  'skip_key',
  'repeat_key',
  'set_if',
  'order',
  'separator',
  'key',
]);

/** Checks a command's arguments: each a string value or an object of argument fields. */
function argumentsOf(value: Record<string, unknown>): Json {
  const out: Record<string, Json> = {};
  for (const [name, arg] of Object.entries(value)) {
    if (name === '') throw bad('an argument needs a name');
    if (arg === null) continue;
    if (typeof arg === 'string' || typeof arg === 'number') {
      out[name] = String(arg);
      continue;
    }
    if (typeof arg !== 'object' || Array.isArray(arg))
      throw bad(`argument ${name} must be a string or an object`);
    const fields: Record<string, Json> = {};
    for (const [k, v] of Object.entries(arg as Record<string, unknown>)) {
      if (!ARGUMENT_FIELDS.has(k)) throw bad(`argument ${name} has an unknown field ${k}`);
      if (v === null || v === undefined) continue;
      if (typeof v === 'object') throw bad(`argument ${name}: ${k} must be a plain value`);
      fields[k] = v as Json;
    }
    out[name] = fields;
  }
  return Object.keys(out).length === 0 ? null : out;
}

/** Reads `imports` as given: a name or a list of names. */
function importsOf(value: unknown): string[] {
  if (value === null || value === '' || value === undefined) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.some((n) => typeof n !== 'string' || n.trim() === ''))
    throw bad('imports must be a template name or a list of template names');
  return [...new Set(list as string[])];
}

function varsOf(value: unknown): Record<string, Json> {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw bad('vars must be an object of custom variables');
  return { ...(value as Record<string, Json>) };
}

/** The empty object of a kind, named `name`. */
export const emptyObject = (
  kind: ObjectKind,
  name: string,
  type: ConfigObject['object_type'],
): ConfigObject => ({
  kind,
  object_type: type,
  object_name: name,
  host: null,
  imports: [],
  vars: {},
  properties: {},
  disabled: false,
});

/**
 * Applies changes in Director's vocabulary to a copy of `object`: each key sets one property;
 * `vars` replaces every custom variable and `vars.NAME` sets one; `arguments.NAME` sets one
 * argument of a command; '' or null unsets a property. `object_name` and `object_type` are
 * applied only when `identity` allows it (a create); otherwise they must not differ.
 * @throws VigilError bad_data for an unknown key or a value of the wrong type.
 */
export function applyChanges(
  object: ConfigObject,
  changes: Record<string, unknown>,
  identity: boolean,
): ConfigObject {
  const out: ConfigObject = {
    ...object,
    imports: [...object.imports],
    vars: { ...object.vars },
    properties: { ...object.properties },
  };
  const known = PROPERTIES[object.kind];
  for (const [key, value] of Object.entries(changes)) {
    if (key === 'object_name' || key === 'object_type') {
      if (identity) continue;
      if (value !== (key === 'object_name' ? object.object_name : object.object_type))
        throw bad(`${key} cannot be changed here`);
      continue;
    }
    if (key === 'imports') out.imports = importsOf(value);
    else if (key === 'disabled') out.disabled = toBoolean(key, value) ?? false;
    else if (key === 'host' && object.kind === 'service') {
      if (value !== null && (typeof value !== 'string' || value === ''))
        throw bad('host must be a host name');
      out.host = (value as string | null) ?? null;
    } else if (key === 'vars' && HAS_VARS[object.kind]) out.vars = varsOf(value);
    else if (key.startsWith('vars.') && key.length > 5 && HAS_VARS[object.kind]) {
      if (value === null) delete out.vars[key.slice(5)];
      else out.vars[key.slice(5)] = value as Json;
    } else if (key.startsWith('arguments.') && key.length > 10 && object.kind === 'command') {
      const args = { ...((out.properties.arguments as Record<string, Json> | undefined) ?? {}) };
      const one = argumentsOf({ [key.slice(10)]: value }) as Record<string, Json> | null;
      if (one) Object.assign(args, one);
      else delete args[key.slice(10)];
      if (Object.keys(args).length === 0) delete out.properties.arguments;
      else out.properties.arguments = args;
    } else if (known[key]) {
      const v = normalise(key, known[key], value);
      if (v === null) delete out.properties[key];
      else out.properties[key] = v;
    } else throw bad(`Trying to set invalid key "${key}"`);
  }
  return out;
}

/** Tells whether two objects hold the same configuration. */
export const sameObject = (a: ConfigObject, b: ConfigObject): boolean =>
  canonical(a) === canonical(b);

/** A JSON text of `value` with object keys sorted, for comparison and checksums. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v as Record<string, unknown>)
            .sort()
            .map((k) => [k, (v as Record<string, unknown>)[k]]),
        )
      : v,
  );
}
