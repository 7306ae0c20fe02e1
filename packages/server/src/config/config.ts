import { isRecord } from '@vigil/protocol/guards';
import { readFileSync } from 'node:fs';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import { KEYS, type KeySpec } from './keys.js';

/**
 * Vigil's configuration: a TOML file overlaid by `VIGIL_<SECTION>_<KEY>` environment variables,
 * validated against the key table (`keys.ts`). Unknown sections and keys are errors, so a typo never
 * silently falls back to a default.
 */
export interface Config {
  server: {
    listen: string;
    tls: 'auto' | 'off' | 'files';
    tls_cert: string;
    tls_key: string;
    body_limit_bytes: number;
    shutdown_timeout_seconds: number;
    console_dir: string;
  };
  storage: { data_dir: string; master_key_file: string };
  database: { url: string; pool_max: number };
  admin: { password: string };
  auth: {
    access_token_ttl_seconds: number;
    refresh_token_ttl_seconds: number;
    allow_registration: boolean;
  };
  director: { ticket_salt: string };
  jobs: {
    workers_in_process: boolean;
    concurrency: number;
    poll_interval_ms: number;
    purge_interval_seconds: number;
    leader_lease_seconds: number;
  };
  notifications: { timeout_seconds: number; external_url: string };
  syslog: {
    listen: string;
    max_connections: number;
    max_message_bytes: number;
    idle_timeout_seconds: number;
    queue_max_lines: number;
  };
  logs: {
    retention_days: number;
    max_bytes: number;
    max_push_bytes: number;
    commit_delay_ms: number;
    max_batch_lines: number;
    batch_memory_hours: number;
  };
  intelligence: { retention_days: number };
  compliance: { packs_dir: string };
  log: {
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
    format: 'auto' | 'json' | 'pretty';
  };
  telemetry: {
    retention_raw_hours: number;
    retention_1m_days: number;
    retention_5m_days: number;
    retention_1h_days: number;
    commit_delay_ms: number;
    max_batch: number;
    document_flush_seconds: number;
    stream_heartbeat_seconds: number;
    stream_max_per_user: number;
    expose_host_metrics: boolean;
    max_check_attempts: number;
  };
  agents: {
    enrollment_token_ttl_seconds: number;
    certificate_lifetime_days: number;
    default_interval_seconds: number;
    auto_approve_networks: string;
    auto_approve_hostnames: string;
    oitc_api_key: string;
    command_timeout_seconds: number;
    pull_concurrency: number;
    max_clock_skew_seconds: number;
    max_document_bytes: number;
    pending_per_address: number;
    pending_ttl_hours: number;
  };
}

/** Environment variables with this prefix are read by other tools, not by the server's config. */
const FOREIGN_ENV_PREFIXES = ['VIGIL_TEST_', 'VIGIL_AGENT_', 'VIGIL_BENCH_'];
/** Environment variables that are not configuration keys but are understood. */
const NON_KEY_ENV = new Set(['VIGIL_CONFIG']);

/** A configuration problem, naming the key (`section.key` or the variable) and why it is wrong. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`${key}: ${reason}`);
    this.name = 'ConfigError';
  }
}

function coerceEnv(spec: KeySpec, raw: string, name: string): unknown {
  if (spec.type === 'string') return raw;
  if (spec.type === 'integer') {
    if (!/^-?\d+$/.test(raw.trim()))
      throw new ConfigError(name, `expected an integer, got '${raw}'`);
    return Number(raw.trim());
  }
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(name, `expected true or false, got '${raw}'`);
}

function validate(spec: KeySpec, value: unknown, name: string): string | number | boolean {
  if (spec.list && Array.isArray(value) && value.every((x) => typeof x === 'string'))
    value = value.join(', ');
  if (spec.type === 'string') {
    if (typeof value !== 'string')
      throw new ConfigError(name, `expected a string, got ${JSON.stringify(value)}`);
    if (spec.oneOf && !spec.oneOf.includes(value))
      throw new ConfigError(name, `must be one of ${spec.oneOf.join(', ')}; got '${value}'`);
  } else if (spec.type === 'integer') {
    if (typeof value !== 'number' || !Number.isInteger(value))
      throw new ConfigError(name, `expected an integer, got ${JSON.stringify(value)}`);
    if (spec.min !== undefined && value < spec.min)
      throw new ConfigError(name, `must be at least ${spec.min}; got ${value}`);
    if (spec.max !== undefined && value > spec.max)
      throw new ConfigError(name, `must be at most ${spec.max}; got ${value}`);
  } else if (typeof value !== 'boolean') {
    throw new ConfigError(name, `expected true or false, got ${JSON.stringify(value)}`);
  }
  const problem = spec.check?.(value as never);
  if (problem) throw new ConfigError(name, problem);
  return value as string | number | boolean;
}

/** Where the configuration comes from. */
export interface ConfigSource {
  /** The TOML file; when undefined, `vigil.toml` in the working directory is used if it exists. */
  file?: string;
  /** Whether a missing `file` is an error (true when the operator named it). */
  fileRequired?: boolean;
  env?: NodeJS.ProcessEnv;
}

function readToml(file: string, required: boolean): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(file, `cannot read: ${(err as Error).message}`);
  }
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(file, `invalid TOML: ${(err as Error).message.split('\n')[0]}`);
  }
}

/**
 * Loads, overlays and validates the configuration.
 * @throws ConfigError naming the first bad key and why.
 */
export function loadConfig(source: ConfigSource = {}): Config {
  const env = source.env ?? process.env;
  const file = source.file ?? env.VIGIL_CONFIG ?? 'vigil.toml';
  const required = source.fileRequired ?? (source.file !== undefined || !!env.VIGIL_CONFIG);
  const fromFile = readToml(file, required);

  const out: Record<string, Record<string, unknown>> = {};
  for (const [section, keys] of Object.entries(KEYS)) {
    out[section] = {};
    for (const [key, spec] of Object.entries(keys)) out[section]![key] = spec.default;
  }

  for (const [section, body] of Object.entries(fromFile)) {
    const keys = (KEYS as Record<string, Record<string, KeySpec>>)[section];
    if (!keys)
      throw new ConfigError(section, `unknown section (known: ${Object.keys(KEYS).join(', ')})`);
    if (!isRecord(body)) throw new ConfigError(section, 'expected a table');
    for (const [key, value] of Object.entries(body)) {
      const spec = keys[key];
      const name = `${section}.${key}`;
      if (!spec)
        throw new ConfigError(
          name,
          `unknown key (known in [${section}]: ${Object.keys(keys).join(', ')})`,
        );
      out[section]![key] = validate(spec, value, name);
    }
  }

  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('VIGIL_') || raw === undefined) continue;
    if (NON_KEY_ENV.has(name) || FOREIGN_ENV_PREFIXES.some((p) => name.startsWith(p))) continue;
    const rest = name.slice('VIGIL_'.length).toLowerCase();
    const sep = rest.indexOf('_');
    const section = sep < 0 ? rest : rest.slice(0, sep);
    const key = sep < 0 ? '' : rest.slice(sep + 1);
    const spec = (KEYS as Record<string, Record<string, KeySpec>>)[section]?.[key];
    if (!spec) throw new ConfigError(name, 'unknown configuration variable');
    out[section]![key] = validate(spec, coerceEnv(spec, raw, name), name);
  }

  const config = out as unknown as Config;
  const { server } = config;
  if ((server.tls_cert === '') !== (server.tls_key === ''))
    throw new ConfigError(
      server.tls_cert === '' ? 'server.tls_cert' : 'server.tls_key',
      'tls_cert and tls_key must be set together',
    );
  if (server.tls === 'files' && server.tls_cert === '')
    throw new ConfigError('server.tls', "'files' needs server.tls_cert and server.tls_key");
  if (server.tls === 'auto' && server.tls_cert !== '') server.tls = 'files';
  return config;
}

const maskUrl = (url: string): string => {
  try {
    const u = new URL(url);
    if (u.password) u.password = '****';
    return u.toString();
  } catch {
    return '****';
  }
};

/** The configuration with every secret masked, for printing. */
export function maskedConfig(config: Config): Config {
  const copy = structuredClone(config) as unknown as Record<string, Record<string, unknown>>;
  for (const [section, keys] of Object.entries(KEYS)) {
    for (const [key, spec] of Object.entries(keys) as [string, KeySpec][]) {
      const v = copy[section]![key];
      if (!spec.secret || v === '') continue;
      copy[section]![key] = key === 'url' ? maskUrl(String(v)) : '****';
    }
  }
  return copy as unknown as Config;
}

/** Renders a configuration as TOML. */
export const toToml = (config: Config): string => stringifyToml(config);

/** Splits `server.listen` into host and port. */
export function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  return { host, port: Number(listen.slice(i + 1)) };
}
