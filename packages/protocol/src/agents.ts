import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from './errors.js';
import { ComplianceDelivery } from './compliance.js';

/**
 * Agent identifiers: the one given at manual add (`web-server-01`) or the agent's UUID. Letters,
 * digits, dot, dash and underscore, so that an id is safe in a URL path and a certificate name.
 */
export const AGENT_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';
export const AgentId = Type.String({ pattern: AGENT_ID_PATTERN, description: 'Agent id.' });

/** How an agent reaches the server. */
export const AgentKind = StringEnum(['oitc', 'native', 'pull']);
export type AgentKind = Static<typeof AgentKind>;

/** Where an agent stands with the operator. */
export const AgentApproval = StringEnum(['pending', 'approved', 'rejected', 'revoked']);
export type AgentApproval = Static<typeof AgentApproval>;

/** What `GET /api/v1/agents` shows: approval, or for approved agents whether they report. */
export const AgentStatus = StringEnum(['online', 'offline', 'pending', 'rejected', 'revoked']);
export type AgentStatus = Static<typeof AgentStatus>;

/**
 * How the server talks to a pull agent: plain HTTP, mutual TLS, no longer trusted (it answers
 * plain HTTP after Auto-TLS), or Auto-TLS did not take (the agent took the certificate but does
 * not answer over mutual TLS).
 */
export const PullTls = StringEnum(['plain', 'mtls', 'certificate_deleted', 'autotls_failed']);
export type PullTls = Static<typeof PullTls>;

/**
 * Whether the server runs Auto-TLS with a pull agent (openITCOCKPIT's choice per agent): `on`
 * always, then mutual TLS only; `off` never, plain HTTP only; `auto` tries it and falls back to
 * plain HTTP when the agent cannot do it.
 */
export const PullAutoTls = StringEnum(['auto', 'on', 'off']);
export type PullAutoTls = Static<typeof PullAutoTls>;

/** The user name of a pull agent's HTTP Basic credentials (`auth = user:password`). */
const PullUsername = Type.String({
  minLength: 1,
  maxLength: 200,
  description: "HTTP Basic user name (the part before ':' of the agent's `auth`).",
});
/** The password of a pull agent's HTTP Basic credentials; write-only. */
const PullPassword = Type.String({
  minLength: 1,
  maxLength: 200,
  description: "HTTP Basic password (the part after ':' of the agent's `auth`); never returned.",
});
const PullAddress = Type.String({
  minLength: 3,
  maxLength: 300,
  description: 'Pull mode: HOST:PORT (or http://HOST:PORT) of the agent web server.',
});

const Time = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

/** An agent as the native API shows it (Tyto's fields first, then Vigil's). */
export const AgentView = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    hostname: Type.Union([Type.String(), Type.Null()]),
    status: AgentStatus,
    architecture: Type.Union([Type.String(), Type.Null()]),
    os: Type.Union([Type.String(), Type.Null()]),
    last_seen: Time,
    registered_at: Type.String({ format: 'date-time' }),
    kind: AgentKind,
    approval: AgentApproval,
    host_id: Type.Union([Type.String(), Type.Null()]),
    version: Type.Union([Type.String(), Type.Null()]),
    ip_address: Type.Union([Type.String(), Type.Null()]),
    interval_seconds: Type.Integer(),
    certificate: Type.Union([
      Type.Object({
        serial: Type.String(),
        fingerprint: Type.String(),
        not_after: Type.String({ format: 'date-time' }),
      }),
      Type.Null(),
    ]),
    pull: Type.Union([
      Type.Object({
        address: Type.String(),
        tls: Type.Union([PullTls, Type.Null()]),
        autotls: PullAutoTls,
        username: Type.Union([Type.String(), Type.Null()]),
        has_password: Type.Boolean(),
      }),
      Type.Null(),
    ]),
    last_error: Type.Union([Type.String(), Type.Null()]),
    /**
     * How far ahead of the server's clock the agent's clock was at its last document, in seconds,
     * when beyond `agents.max_clock_skew_seconds` (its documents are then taken as collected at
     * arrival); null while its clock is fine.
     */
    clock_skew_seconds: Type.Union([Type.Integer(), Type.Null()]),
  },
  { title: 'Agent' },
);
export type AgentView = Static<typeof AgentView>;

/** Response of `GET /api/v1/agents` and `GET /api/v1/agents/pending`. */
export const AgentList = Type.Object({ agents: Type.Array(AgentView) }, { title: 'AgentList' });
export type AgentList = Static<typeof AgentList>;

/**
 * Body of `POST /api/v1/agents`. Without `address` the agent enrolls itself with the returned
 * token; with `address` (`HOST:PORT` of its local web server) the server pulls from it.
 */
export const CreateAgentRequest = Type.Object(
  {
    id: Type.Optional(AgentId),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    address: Type.Optional(PullAddress),
    interval_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    autotls: Type.Optional(PullAutoTls),
    username: Type.Optional(PullUsername),
    password: Type.Optional(PullPassword),
  },
  { additionalProperties: false, title: 'CreateAgentRequest' },
);
export type CreateAgentRequest = Static<typeof CreateAgentRequest>;

/**
 * Body of `PATCH /api/v1/agents/{id}`: a pull agent's settings. `username: null` removes the
 * credentials; a changed address or `autotls` makes the next contact a first contact again.
 */
export const UpdateAgentRequest = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    address: Type.Optional(PullAddress),
    interval_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    autotls: Type.Optional(PullAutoTls),
    username: Type.Optional(Type.Union([PullUsername, Type.Null()])),
    password: Type.Optional(PullPassword),
  },
  { additionalProperties: false, minProperties: 1, title: 'UpdateAgentRequest' },
);
export type UpdateAgentRequest = Static<typeof UpdateAgentRequest>;

/** Response of `POST /api/v1/agents`: the agent, and for push agents its one-time token. */
export const CreatedAgent = Type.Intersect(
  [
    AgentView,
    Type.Object({
      enrollment_token: Type.Optional(Type.String()),
      enrollment_expires_at: Type.Optional(Type.String({ format: 'date-time' })),
    }),
  ],
  { title: 'CreatedAgent' },
);
export type CreatedAgent = Static<typeof CreatedAgent>;

/** Body of `POST /api/v1/agents/enroll` (sent by `vigil-agent enroll`). */
export const EnrollRequest = Type.Object(
  {
    token: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    /**
     * The Icinga 2 ticket of the host the agent enrolls as (`hostname`): an approved enrollment
     * of a configured agent host, as a token is.
     */
    ticket: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    id: Type.Optional(AgentId),
    csr: Type.String({ minLength: 100, maxLength: 16384 }),
    hostname: Type.String({ minLength: 1, maxLength: 253 }),
    os: Type.Optional(Type.String({ maxLength: 64 })),
    architecture: Type.Optional(Type.String({ maxLength: 64 })),
    version: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false, title: 'EnrollRequest' },
);
export type EnrollRequest = Static<typeof EnrollRequest>;

/**
 * Answer to an enrollment: the signed client certificate once approved; while pending, a secret
 * with which the agent polls `POST /api/v1/agents/enroll/poll`.
 */
export const EnrollResponse = Type.Object(
  {
    agent_id: Type.String(),
    status: StringEnum(['approved', 'pending']),
    certificate: Type.Optional(Type.String()),
    ca_certificate: Type.Optional(Type.String()),
    poll_secret: Type.Optional(Type.String()),
    interval_seconds: Type.Integer(),
  },
  { title: 'EnrollResponse' },
);
export type EnrollResponse = Static<typeof EnrollResponse>;

/** Body of `POST /api/v1/agents/enroll/poll`. */
export const EnrollPollRequest = Type.Object(
  { agent_id: AgentId, poll_secret: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false, title: 'EnrollPollRequest' },
);
export type EnrollPollRequest = Static<typeof EnrollPollRequest>;

/** Body of `POST /api/v1/agents/{id}/certificate` (renewal over mutual TLS). */
export const RenewRequest = Type.Object(
  { csr: Type.String({ minLength: 100, maxLength: 16384 }) },
  { additionalProperties: false, title: 'RenewRequest' },
);
export type RenewRequest = Static<typeof RenewRequest>;

/** Response of a renewal. */
export const RenewResponse = Type.Object(
  { certificate: Type.String(), ca_certificate: Type.String() },
  { title: 'RenewResponse' },
);
export type RenewResponse = Static<typeof RenewResponse>;

/** Signals an operator may send to a process: SIGHUP, SIGINT, SIGKILL, SIGTERM, SIGCONT, SIGSTOP. */
export const ALLOWED_SIGNALS: readonly number[] = [1, 2, 9, 15, 18, 19];

/** A command from the server to an agent. */
export const AgentCommand = Type.Union(
  [
    Type.Object({ id: Type.String(), kind: Type.Literal('process.get'), pid: Type.Integer() }),
    Type.Object({
      id: Type.String(),
      kind: Type.Literal('process.signal'),
      pid: Type.Integer(),
      signal: Type.Integer(),
    }),
  ],
  { title: 'AgentCommand' },
);
export type AgentCommand = Static<typeof AgentCommand>;

/** Why an agent could not carry out a command. */
export const CommandFailure = StringEnum([
  'no_such_process',
  'permission_denied',
  'protected_process',
  'bad_command',
]);
export type CommandFailure = Static<typeof CommandFailure>;

/** Process detail (Tyto's shape): `cpu` in percent, `memory` resident bytes. */
export const ProcessDetail = Type.Object(
  {
    pid: Type.Integer(),
    name: Type.String(),
    cmdline: Type.String(),
    user: Type.String(),
    state: Type.String(),
    cpu: Type.Number(),
    memory: Type.Integer(),
    threads: Type.Integer(),
    startTime: Type.String({ format: 'date-time' }),
    ppid: Type.Integer(),
  },
  { title: 'ProcessDetail' },
);
export type ProcessDetail = Static<typeof ProcessDetail>;

/** What an agent reports back for a command. */
export const CommandResult = Type.Union(
  [
    Type.Object(
      {
        ok: Type.Literal(true),
        process: Type.Optional(ProcessDetail),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        ok: Type.Literal(false),
        failure: CommandFailure,
        message: Type.String({ maxLength: 1000 }),
      },
      { additionalProperties: false },
    ),
  ],
  { title: 'CommandResult' },
);
export type CommandResult = Static<typeof CommandResult>;

/** Response of `GET /api/v1/agents/{id}/commands` (long poll). */
export const CommandBatch = Type.Object(
  { commands: Type.Array(AgentCommand) },
  { title: 'CommandBatch' },
);
export type CommandBatch = Static<typeof CommandBatch>;

/** Body of `POST /api/v1/processes/{pid}/signal`. */
export const SignalRequest = Type.Object(
  {
    signal: Type.Integer({ description: 'One of 1, 2, 9, 15, 18, 19.' }),
    agent_id: Type.Optional(AgentId),
  },
  { additionalProperties: false, title: 'SignalRequest' },
);
export type SignalRequest = Static<typeof SignalRequest>;

/** Response of a delivered signal. */
export const SignalResult = Type.Object(
  {
    pid: Type.Integer(),
    signal: Type.Integer(),
    agent_id: Type.String(),
    delivered: Type.Boolean(),
  },
  { title: 'SignalResult' },
);
export type SignalResult = Static<typeof SignalResult>;

/**
 * Body of a native push (`POST /api/v1/agents/{id}/checkdata`): the document and when it was
 * collected (epoch milliseconds), which makes a resent document recognisable.
 */
export const NativePush = Type.Object(
  {
    collected_at: Type.Integer({ minimum: 0 }),
    checkdata: Type.Record(Type.String(), Type.Unknown()),
    /** The checksum of the compliance packs the agent holds (see `ComplianceDelivery`). */
    compliance_checksum: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false, title: 'NativePush' },
);
export type NativePush = Static<typeof NativePush>;

/**
 * One check the active deployment gives an agent's host: its name (the key of its result under
 * the document's `customchecks`), the command as an argument vector (the executable's absolute
 * path, then its arguments, macros already resolved by the server; never a shell command line),
 * and how often and how long it may run, in seconds (the agent's defaults when absent).
 */
export const DeployedCheck = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    command: Type.Array(Type.String({ maxLength: 65536 }), { minItems: 1, maxItems: 1000 }),
    interval_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400 })),
    timeout_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400 })),
  },
  { additionalProperties: false, title: 'DeployedCheck' },
);
export type DeployedCheck = Static<typeof DeployedCheck>;

/** Answer to a native push. */
export const NativePushResult = Type.Object(
  {
    received_checks: Type.Integer(),
    duplicate: Type.Boolean(),
    interval_seconds: Type.Integer(),
    commands: Type.Array(AgentCommand),
    /**
     * The checks the active deployment gives the agent's host (empty without one); an agent runs
     * them only when its own configuration allows it (`[vigil] remote-checks`). Servers before
     * remote checks send neither this nor `checks_checksum`.
     */
    checks: Type.Optional(Type.Array(DeployedCheck)),
    /** Identifies `checks`: the same checksum, the same checks (empty without a deployment). */
    checks_checksum: Type.Optional(Type.String()),
    /** The compliance packs assigned to the agent's host (servers before compliance omit it). */
    compliance: Type.Optional(ComplianceDelivery),
  },
  { title: 'NativePushResult' },
);
export type NativePushResult = Static<typeof NativePushResult>;
