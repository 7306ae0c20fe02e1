import { parseCidr } from '../net.js';
import { checkSyslogListen } from '../logs/syslog/listen.js';

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
  /** A string key that also takes a TOML array of strings (joined with commas). */
  readonly list?: boolean;
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

/** Every configuration key, by section. The table of docs/configuration.md follows this. */
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
    console_dir: {
      type: 'string',
      default: '',
      description:
        'Directory of the built web console (`index.html` and `assets/`); empty: `packages/web/dist` of this installation.',
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
  director: {
    ticket_salt: {
      type: 'string',
      default: '',
      secret: true,
      description:
        "Salt of Icinga 2 agent tickets (Icinga's `TicketSalt`); empty: a random one generated into `<data>/ticket-salt` on first start (mode 0600). Servers sharing one PostgreSQL database need the same salt.",
    },
  },
  jobs: {
    workers_in_process: {
      type: 'boolean',
      default: true,
      description:
        '`vigil serve` runs job workers and periodic work in its own process; false: only `vigil worker` processes do.',
    },
    concurrency: {
      type: 'integer',
      default: 4,
      min: 1,
      max: 256,
      description: 'Most jobs one process runs at the same time.',
    },
    poll_interval_ms: {
      type: 'integer',
      default: 1000,
      min: 50,
      max: 60000,
      description: 'How often an idle worker looks for due jobs queued by other processes.',
    },
    purge_interval_seconds: {
      type: 'integer',
      default: 3600,
      min: 1,
      max: 86400,
      description:
        'Period of the cluster job that deletes succeeded jobs after 7 days and dead ones after 30.',
    },
    leader_lease_seconds: {
      type: 'integer',
      default: 15,
      min: 2,
      max: 3600,
      description:
        'On SQLite, how long the leader of periodic work holds its lease without renewing it; another process takes over after that.',
    },
  },
  notifications: {
    timeout_seconds: {
      type: 'integer',
      default: 10,
      min: 1,
      max: 300,
      description:
        'How long a notification sender waits for its receiver (HTTP answer or SMTP exchange); past it the attempt fails and is retried.',
    },
    external_url: {
      type: 'string',
      default: '',
      description:
        "The console's address as people reach it (`https://vigil.example.com`), for links in notifications (Alertmanager's `externalURL` and `generatorURL`). Empty: no links.",
    },
  },
  syslog: {
    listen: {
      type: 'string',
      default: '',
      list: true,
      description:
        'Addresses the syslog listener receives on: `udp://HOST:PORT` and `tcp://HOST:PORT`, comma-separated or a TOML array (`["udp://0.0.0.0:514", "tcp://0.0.0.0:514"]`). Empty: off.',
      check: checkSyslogListen,
    },
    max_connections: {
      type: 'integer',
      default: 256,
      min: 1,
      max: 65536,
      description: 'Most open syslog TCP connections; more are refused.',
    },
    max_message_bytes: {
      type: 'integer',
      default: 65536,
      min: 480,
      max: 1048576,
      description: 'Longest syslog message (a datagram or a TCP frame); a longer one is cut there.',
    },
    idle_timeout_seconds: {
      type: 'integer',
      default: 300,
      min: 1,
      max: 86400,
      description: 'A syslog TCP connection that sends nothing for this long is closed.',
    },
    queue_max_lines: {
      type: 'integer',
      default: 20000,
      min: 100,
      max: 10000000,
      description:
        'Most received syslog lines waiting to be stored; when full, UDP datagrams are dropped (and counted) and TCP senders are paused.',
    },
  },
  logs: {
    retention_days: {
      type: 'integer',
      default: 14,
      min: 1,
      max: 3650,
      description:
        'Log lines written longer ago than this are deleted (in batches of 5,000, every minute).',
    },
    max_bytes: {
      type: 'integer',
      default: 1073741824,
      min: 1048576,
      max: 1099511627776,
      description:
        'Most bytes of log messages and fields kept (UTF-8, as stored); past it the oldest lines are deleted first. Indexes take about as much again.',
    },
    max_push_bytes: {
      type: 'integer',
      default: 67108864,
      min: 65536,
      max: 1073741824,
      description:
        'Largest log push once decompressed (`POST /api/v1/agents/{id}/logs`); larger ones get 413. The body as sent is bounded by `agents.max_document_bytes`.',
    },
    commit_delay_ms: {
      type: 'integer',
      default: 5,
      min: 0,
      max: 1000,
      description:
        'How long a log push waits for others to share its transaction (group commit); it is answered once committed.',
    },
    max_batch_lines: {
      type: 'integer',
      default: 20000,
      min: 100,
      max: 1000000,
      description: 'Most log lines one group commit writes.',
    },
    batch_memory_hours: {
      type: 'integer',
      default: 24,
      min: 1,
      max: 8760,
      description:
        "How long an agent's log batch ids are remembered: a batch resent within it is not stored twice.",
    },
  },
  intelligence: {
    retention_days: {
      type: 'integer',
      default: 90,
      min: 1,
      max: 3650,
      description:
        'Host intelligence events (what changed on hosts) recorded longer ago than this are deleted (in batches of 5,000, every hour).',
    },
  },
  compliance: {
    packs_dir: {
      type: 'string',
      default: '',
      description:
        'Directory of operator compliance packs (one JSON file per pack), loaded beside the built-in ones; empty: the built-in ones only.',
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
