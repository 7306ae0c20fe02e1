import { isRecord } from '@vigil/protocol/guards';
import { readFileSync } from 'node:fs';
import { parseCidr } from '../net.js';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';

/**
 * Vigil's configuration: a TOML file overlaid by `VIGIL_<SECTION>_<KEY>` environment variables,
 * validated against the key table below. Unknown sections and keys are errors, so a typo never
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
  };
  storage: { data_dir: string; master_key_file: string };
  database: { url: string; pool_max: number };
  admin: { password: string };
  auth: {
    access_token_ttl_seconds: number;
    refresh_token_ttl_seconds: number;
    allow_registration: boolean;
  };
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

type KeyType = 'string' | 'integer' | 'boolean';

/** The description of one configuration key. */
export interface KeySpec {
  readonly type: KeyType;
  readonly default: string | number | boolean;
  readonly description: string;
  /** Masked by `check-config` and never logged. */
  readonly secret?: boolean;
  /** Values a string key may take. */
  readonly oneOf?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  /** Extra check; returns the reason a value is wrong, or undefined. */
  readonly check?: (value: never) => string | undefined;
}

const checkListen = (v: string): string | undefined => {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(v);
  if (!m) return 'expected HOST:PORT, e.g. 0.0.0.0:8443 or [::]:8443';
  if (Number(m[3]) > 65535) return 'port must be 0–65535';
  return undefined;
};

const checkDatabaseUrl = (v: string): string | undefined => {
  if (v === '') return undefined;
  if (!/^postgres(?:ql)?:\/\//.test(v))
    return 'expected a postgres:// URL, or empty for SQLite in the data directory';
  try {
    new URL(v);
  } catch {
    return 'not a valid URL';
  }
  return undefined;
};

const checkCidrList = (v: string): string | undefined => {
  for (const item of v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean))
    if (!parseCidr(item)) return `'${item}' is not a CIDR network such as 10.0.0.0/8 or fd00::/8`;
  return undefined;
};

/** Every configuration key, by section. The README's configuration table follows this. */
export const KEYS = {
  server: {
    listen: {
      type: 'string',
      default: '0.0.0.0:8443',
      description: 'Address and port the server listens on.',
      check: checkListen,
    },
    tls: {
      type: 'string',
      default: 'auto',
      oneOf: ['auto', 'off', 'files'],
      description:
        '`auto`: generate a CA and server certificate into `<data>/tls/` on first start; `files`: use `tls_cert`/`tls_key`; `off`: plain HTTP (not for production).',
    },
    tls_cert: {
      type: 'string',
      default: '',
      description: 'PEM certificate chain file; setting it with `tls_key` selects `files`.',
    },
    tls_key: { type: 'string', default: '', description: 'PEM private key file.' },
    body_limit_bytes: {
      type: 'integer',
      default: 1048576,
      min: 1024,
      max: 1073741824,
      description: 'Largest accepted request body; larger ones get 413.',
    },
    shutdown_timeout_seconds: {
      type: 'integer',
      default: 10,
      min: 0,
      max: 3600,
      description: 'How long SIGTERM waits for in-flight requests before closing them.',
    },
  },
  storage: {
    data_dir: {
      type: 'string',
      default: './data',
      description: 'Directory for the SQLite database, TLS material and generated secrets.',
    },
    master_key_file: {
      type: 'string',
      default: '',
      description:
        'File with the 32-byte key (base64) that seals secrets in the database, such as TOTP secrets; empty: `<data>/master.key`, created on first start (mode 0600). Servers sharing one PostgreSQL database need the same key.',
    },
  },
  database: {
    url: {
      type: 'string',
      default: '',
      secret: true,
      description: 'Empty: SQLite file `<data>/vigil.db`. `postgres://…`: PostgreSQL.',
      check: checkDatabaseUrl,
    },
    pool_max: {
      type: 'integer',
      default: 10,
      min: 1,
      max: 1000,
      description: 'Most PostgreSQL connections per process.',
    },
  },
  admin: {
    password: {
      type: 'string',
      default: '',
      secret: true,
      description:
        'Password of the `admin` user created on first start when no user exists; empty: a random one is generated, printed once and written to `<data>/initial-admin-password`.',
      check: (v: string) =>
        v !== '' && v.length < 12 ? 'must be at least 12 characters' : undefined,
    },
  },
  auth: {
    access_token_ttl_seconds: {
      type: 'integer',
      default: 900,
      min: 30,
      max: 86400,
      description: 'Lifetime of bearer access tokens.',
    },
    refresh_token_ttl_seconds: {
      type: 'integer',
      default: 2592000,
      min: 300,
      max: 31536000,
      description: 'Lifetime of refresh tokens.',
    },
    allow_registration: {
      type: 'boolean',
      default: false,
      description: 'Whether `POST /api/v1/auth/register` accepts self-registration.',
    },
  },
  telemetry: {
    retention_raw_hours: {
      type: 'integer',
      default: 48,
      min: 1,
      max: 8760,
      description: 'How long raw samples (one row per push) are kept.',
    },
    retention_1m_days: {
      type: 'integer',
      default: 14,
      min: 1,
      max: 3650,
      description: 'How long 1-minute rollups are kept.',
    },
    retention_5m_days: {
      type: 'integer',
      default: 90,
      min: 1,
      max: 3650,
      description: 'How long 5-minute rollups are kept.',
    },
    retention_1h_days: {
      type: 'integer',
      default: 730,
      min: 1,
      max: 36500,
      description: 'How long 1-hour rollups are kept.',
    },
    commit_delay_ms: {
      type: 'integer',
      default: 10,
      min: 0,
      max: 1000,
      description:
        'Longest a push waits for others to share its transaction (group commit); the answer is sent after the commit.',
    },
    max_batch: {
      type: 'integer',
      default: 500,
      min: 1,
      max: 10000,
      description: 'Most pushes committed in one transaction.',
    },
    document_flush_seconds: {
      type: 'integer',
      default: 60,
      min: 0,
      max: 3600,
      description:
        "Least time between two writes of an agent's latest full document (0: every push); the samples of every push are committed before its answer.",
    },
    stream_heartbeat_seconds: {
      type: 'integer',
      default: 15,
      min: 1,
      max: 300,
      description: 'Interval of the heartbeat comment on `GET /api/v1/stream`.',
    },
    stream_max_per_user: {
      type: 'integer',
      default: 10,
      min: 1,
      max: 1000,
      description: 'Most simultaneous `GET /api/v1/stream` connections per user (429 beyond).',
    },
    max_check_attempts: {
      type: 'integer',
      default: 3,
      min: 1,
      max: 100,
      description:
        "Consecutive non-OK results of a plugin check before its problem is HARD (Nagios' max_check_attempts).",
    },
    expose_host_metrics: {
      type: 'boolean',
      default: false,
      description:
        "Whether `GET /metrics` also carries every host's latest values (`vigil_host_*` with a `host_id` label).",
    },
  },
  agents: {
    enrollment_token_ttl_seconds: {
      type: 'integer',
      default: 86400,
      min: 60,
      max: 31536000,
      description: 'How long an enrollment token from `POST /api/v1/agents` stays valid.',
    },
    certificate_lifetime_days: {
      type: 'integer',
      default: 90,
      min: 1,
      max: 825,
      description:
        'Lifetime of agent client certificates; agents renew theirs when a third of it is left.',
    },
    default_interval_seconds: {
      type: 'integer',
      default: 30,
      min: 1,
      max: 3600,
      description:
        'Expected reporting interval of an agent that names none; offline after 3 missed intervals.',
    },
    auto_approve_networks: {
      type: 'string',
      default: '',
      description:
        'Comma-separated CIDR networks (`10.0.0.0/8, fd00::/8`) whose self-registering agents are approved without an operator. Empty: off.',
      check: (v: string) => checkCidrList(v),
    },
    auto_approve_hostnames: {
      type: 'string',
      default: '',
      description:
        'Comma-separated host name patterns (`*` and `?` wildcards, `web-*.example.com`) whose self-registering agents are approved without an operator. Empty: off.',
    },
    oitc_api_key: {
      type: 'string',
      default: '',
      secret: true,
      description:
        'When set, openITCOCKPIT agents must send `Authorization: X-OITC-API <key>` to `/agentconnector`.',
    },
    command_timeout_seconds: {
      type: 'integer',
      default: 15,
      min: 1,
      max: 300,
      description: 'How long a process command waits for its agent before answering 504.',
    },
    pull_concurrency: {
      type: 'integer',
      default: 16,
      min: 1,
      max: 1024,
      description: 'Most pull agents polled at the same time.',
    },
    max_clock_skew_seconds: {
      type: 'integer',
      default: 300,
      min: 0,
      max: 86400,
      description:
        "How far ahead of the server's clock an agent's `collected_at` may be; a later time is replaced by the server's and the agent is flagged (`clock_skew_seconds`).",
    },
    max_document_bytes: {
      type: 'integer',
      default: 16777216,
      min: 65536,
      max: 268435456,
      description:
        'Largest check-data document an agent may push or be pulled (`/agentconnector`, `/api/v1/agents/{id}/push`, pull answers); larger ones get 413.',
    },
    pending_per_address: {
      type: 'integer',
      default: 10,
      min: 1,
      max: 100000,
      description:
        'Most pending (unapproved) enrollment requests from one source address; more get 429.',
    },
    pending_ttl_hours: {
      type: 'integer',
      default: 168,
      min: 1,
      max: 87600,
      description: 'How long a pending enrollment request waits for approval before it is removed.',
    },
  },
  log: {
    level: {
      type: 'string',
      default: 'info',
      oneOf: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      description: 'Least severe log level written.',
    },
    format: {
      type: 'string',
      default: 'auto',
      oneOf: ['auto', 'json', 'pretty'],
      description:
        '`auto`: short human-readable lines when standard output is a terminal, JSON lines otherwise; `json`: always JSON lines; `pretty`: always human-readable lines.',
    },
  },
} as const satisfies Record<string, Record<string, KeySpec>>;

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
