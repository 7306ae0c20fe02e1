import { randomBytes, randomUUID } from 'node:crypto';
import { AGENT_ID_PATTERN, ALLOWED_SIGNALS } from '@vigil/protocol';
import type {
  AgentApproval,
  AgentCommand,
  AgentStatus,
  AgentView,
  CommandResult,
  CreateAgentRequest,
  CreatedAgent,
  EnrollPollRequest,
  EnrollRequest,
  EnrollResponse,
  NativePush,
  NativePushResult,
  ProcessDetail,
  PullAutoTls,
  PullTls,
  RenewResponse,
  SignalResult,
  UpdateAgentRequest,
} from '@vigil/protocol';
import {
  auditRow,
  type AuditEntry,
  type AuditStore,
  type RequestContext,
} from '../audit/service.js';
import type { Database } from '../db/schema.js';
import { VigilError } from '../errors.js';
import { checkName, nameProblem } from '../identity/names.js';
import { hostnameMatcher, networkMatcher, sourceGroup } from '../net.js';
import { hashToken, newToken, safeEqual, type Sealer } from '../secrets.js';
import type { TelemetryService } from '../telemetry/service.js';
import type { CertificateAuthority } from '../tls/pki.js';
import { CsrError } from '../tls/pki.js';
import type { CommandBroker } from './commands.js';

/** An agent as stored. Timestamps are epoch milliseconds. */
export type AgentRow = Omit<Database['agents'], 'pull_autotls'> & { pull_autotls: PullAutoTls };
type AgentPatch = Partial<AgentRow>;

/** Where agents and the hosts they report from are kept. */
export interface AgentStore {
  /** Returns undefined when absent. */
  get(id: string): Promise<AgentRow | undefined>;
  byFingerprint(fingerprint: string): Promise<AgentRow | undefined>;
  byTokenHash(hash: string): Promise<AgentRow | undefined>;
  /** Oldest registration first; all agents, or those with the given approval. */
  list(approval?: AgentApproval): Promise<AgentRow[]>;
  /** Approved pull agents. */
  pullAgents(): Promise<AgentRow[]>;
  insert(row: AgentRow): Promise<void>;
  update(id: string, patch: AgentPatch): Promise<void>;
  /** Returns false when there was no such agent. */
  remove(id: string): Promise<boolean>;
  /** How many agents wait for approval; with `from`, those that registered from that address. */
  countPending(from?: string): Promise<number>;
  /** Agents waiting for approval that registered before `before` (epoch ms). */
  pendingBefore(before: number): Promise<AgentRow[]>;
  /** A value of the `settings` table. */
  setting(key: string): Promise<string | undefined>;
  setSetting(key: string, value: string): Promise<void>;
  /** The id of the host named `name`, created when there is none. */
  hostFor(name: string, now: number): Promise<string>;
  /** The agent's newest document, as JSON text. */
  latestDocument(id: string): Promise<{ collected_at: number; document: string } | undefined>;
}

/** The stores a mutation writes to, within one transaction. */
export interface AgentStores {
  agents: AgentStore;
  audit: AuditStore;
}

/** Runs `fn` in one transaction. */
export type Transact<S> = <T>(fn: (stores: S) => Promise<T>) => Promise<T>;

/** The settings of the agents domain (section `[agents]` of the configuration). */
export interface AgentPolicy {
  tokenTtlSeconds: number;
  certificateDays: number;
  defaultIntervalSeconds: number;
  autoApproveNetworks: string;
  autoApproveHostnames: string;
  commandTimeoutSeconds: number;
  /** Most pending self-registrations from one source address. */
  pendingPerAddress: number;
  /** How long a pending self-registration waits before it is removed. */
  pendingTtlHours: number;
}

/** Carries a command to a pull agent directly (the server connects to the agent). */
export interface PullCommander {
  command(agent: AgentRow, command: AgentCommand, timeoutMs: number): Promise<CommandResult>;
}

/** What an agent's client certificate looked like on its TLS connection. */
export interface PeerCertificate {
  /** Whether the certificate chains to the Vigil CA and is within its validity. */
  authorized: boolean;
  /** SHA-256 fingerprint, colon hex; undefined when the client sent no certificate. */
  fingerprint?: string;
}

/** Where an agent's request came from, for its audit events. */
export interface Origin {
  sourceAddress: string | null;
  correlationId: string | null;
}

/** Outcome of an openITCOCKPIT registration, for the face to render. */
export type OitcRegistration =
  | { outcome: 'created'; agentuuid: string; password: string }
  | { outcome: 'ok'; agentuuid: string; password: string }
  | { outcome: 'already_registered' }
  | { outcome: 'not_found' };

const ID_PATTERN = new RegExp(AGENT_ID_PATTERN);

/**
 * Self-registrations (anonymous by nature) waiting for an operator are capped, so that a flood
 * of them cannot fill the store.
 */
export const MAX_PENDING = 1000;

/** An agent is offline after this many missed intervals. */
const MISSED_INTERVALS = 3;
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The status `GET /api/v1/agents` shows for a row at `now`. */
export function agentStatus(row: AgentRow, now: number): AgentStatus {
  if (row.approval !== 'approved') return row.approval;
  const fresh =
    row.last_seen !== null &&
    now - row.last_seen <= MISSED_INTERVALS * row.interval_seconds * 1000 + 1000;
  return fresh ? 'online' : 'offline';
}

/** The public form of a row. */
export function toAgentView(row: AgentRow, now: number): AgentView {
  return {
    id: row.id,
    name: row.name,
    hostname: row.hostname,
    status: agentStatus(row, now),
    architecture: row.architecture,
    os: row.os,
    last_seen: iso(row.last_seen),
    registered_at: new Date(row.registered_at).toISOString(),
    kind: row.kind,
    approval: row.approval,
    host_id: row.host_id,
    version: row.version,
    ip_address: row.ip_address,
    interval_seconds: row.interval_seconds,
    certificate:
      row.cert_fingerprint && row.cert_serial && row.cert_not_after !== null
        ? {
            serial: row.cert_serial,
            fingerprint: row.cert_fingerprint,
            not_after: new Date(row.cert_not_after).toISOString(),
          }
        : null,
    pull: row.pull_address
      ? {
          address: row.pull_address,
          tls: row.pull_tls,
          autotls: row.pull_autotls,
          username: row.pull_username,
          has_password: row.pull_password !== null,
        }
      : null,
    last_error: row.last_error,
    clock_skew_seconds: row.clock_skew_seconds ?? null,
  };
}

/**
 * Normalises a pull address: `HOST:PORT`, `[v6]:PORT` or an http(s) URL with nothing but a host
 * and port. Returns `HOST:PORT`; undefined when it is none of these.
 */
export function normalizePullAddress(text: string): string | undefined {
  let t = text.trim();
  const scheme = /^(https?):\/\//i.exec(t);
  if (scheme) t = t.slice(scheme[0].length).replace(/\/$/, '');
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(t);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) return undefined;
  return `${m[1]}:${m[2]}`;
}

/** The pull address of a request, normalised. @throws VigilError bad_data */
function pullAddressOf(text: string): string {
  const address = normalizePullAddress(text);
  if (!address)
    throw new VigilError(
      'bad_data',
      `address must be HOST:PORT of the agent web server (e.g. 10.0.0.5:3333); got '${text}'`,
      { code: 'agent.address_invalid' },
    );
  return address;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Checks a pull agent's HTTP Basic credentials as the agent's `auth = user:password` can hold
 * them: the user name ends at the first ':', so it may not contain one.
 * @throws VigilError bad_data
 */
function checkCredentials(username: string, password: string): void {
  const bad = (message: string) =>
    new VigilError('bad_data', message, { code: 'agent.credentials_invalid' });
  if (username.includes(':'))
    throw bad(
      "username may not contain ':' (the agent's auth = user:password splits at the first ':')",
    );
  if (CONTROL.test(username) || CONTROL.test(password))
    throw bad('username and password may not contain control characters');
}

/** The error for a command an agent could not carry out. */
function commandFailure(result: Extract<CommandResult, { ok: false }>, pid: number): VigilError {
  switch (result.failure) {
    case 'no_such_process':
      return new VigilError('not_found', `no process ${pid} on the agent`, {
        code: 'process.not_found',
      });
    case 'permission_denied':
      return new VigilError(
        'forbidden',
        `the agent may not do this to process ${pid}: ${result.message}`,
        {
          code: 'process.permission_denied',
        },
      );
    case 'protected_process':
      return new VigilError('forbidden', result.message, { code: 'process.protected' });
    default:
      return new VigilError('bad_data', result.message, { code: 'process.bad_command' });
  }
}

/** A new agent row: the given fields, everything else empty. */
function newAgentRow(
  fields: Pick<AgentRow, 'id' | 'name' | 'kind' | 'approval' | 'interval_seconds'> &
    Partial<AgentRow>,
  at: number,
): AgentRow {
  return {
    host_id: null,
    hostname: null,
    ip_address: null,
    os: null,
    architecture: null,
    version: null,
    secret_hash: null,
    enrollment_token_hash: null,
    enrollment_expires_at: null,
    csr: null,
    cert_serial: null,
    cert_fingerprint: null,
    cert_not_after: null,
    cert_pem: null,
    pull_address: null,
    pull_tls: null,
    pull_autotls: 'auto',
    pull_username: null,
    pull_password: null,
    enrolled_from: null,
    last_seen: null,
    last_error: null,
    clock_skew_seconds: null,
    registered_at: at,
    updated_at: at,
    ...fields,
  };
}

/**
 * When a document was collected: its `agent.last_updated_timestamp` (seconds) when it has a
 * sane one, else `fallback`.
 */
/**
 * Whether a check-data document carries no data at all (`{}`). The openITCOCKPIT agent answers
 * `GET /` so from every start or reload of its web server (after Auto-TLS, a configuration push,
 * each certificate renewal) until its checks first ran (`webserver/handler.go`, `getState`): a
 * sign of life, not a host whose values are all gone.
 */
export function hasNoData(doc: Record<string, unknown>): boolean {
  return Object.keys(doc).length === 0;
}

/**
 * Whether a package inventory (the agent's `GET /packages` answer) is one not yet scanned: the
 * openITCOCKPIT agent has `{"Enabled": true, "Pending": true}` with empty lists from every start
 * or reload until its first scan ends, 90 s later.
 */
export function isPendingInventory(inventory: unknown): boolean {
  if (typeof inventory !== 'object' || inventory === null) return false;
  const { Enabled, Pending, LastUpdate } = inventory as Record<string, unknown>;
  return (
    Enabled === true && (Pending === true || typeof LastUpdate !== 'number' || LastUpdate <= 0)
  );
}

function collectedAtOf(doc: Record<string, unknown>, fallback: number): number {
  const stamp = (doc.agent as Record<string, unknown> | undefined)?.last_updated_timestamp;
  return typeof stamp === 'number' && Number.isFinite(stamp) && stamp > 0
    ? Math.round(stamp * 1000)
    : fallback;
}

/** Where an agent's documents go: its host. */
function ingestTarget(agent: AgentRow): { agentId: string; hostId: string } {
  if (!agent.host_id)
    throw new VigilError('conflict', `agent ${agent.id} is not linked to a host`, {
      code: 'agent.no_host',
    });
  return { agentId: agent.id, hostId: agent.host_id };
}

const notFound = (id: string) =>
  new VigilError('not_found', `no agent ${id}`, { code: 'agent.not_found' });

/** Reads `agent.check_interval` of a document when it is a sane number of seconds. */
function reportedInterval(doc: Record<string, unknown>): number | undefined {
  const agent = doc.agent as Record<string, unknown> | undefined;
  const v = agent?.check_interval;
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 86400 ? v : undefined;
}

/** Facts an agent's document tells about it (for the agents list). */
function reportedFacts(doc: Record<string, unknown>): AgentPatch {
  const agent = doc.agent as Record<string, unknown> | undefined;
  if (!agent || typeof agent !== 'object') return {};
  const s = (v: unknown) => (typeof v === 'string' && v !== '' ? v.slice(0, 128) : undefined);
  const patch: AgentPatch = {};
  const os = s(agent.goos) ?? s(agent.system)?.toLowerCase();
  if (os) patch.os = os;
  const arch = s(agent.goarch);
  if (arch) patch.architecture = arch;
  const version = s(agent.agent_version);
  if (version) patch.version = version;
  const interval = reportedInterval(doc);
  if (interval) patch.interval_seconds = interval;
  return patch;
}

/**
 * Agents: the four ways they enroll (manual add with a token, self-enrollment awaiting approval,
 * openITCOCKPIT push registration, pull), their certificates, their reports and the commands
 * sent to them.
 */
export const createAgentService = (deps: {
  store: AgentStore;
  transact: Transact<AgentStores>;
  ca: CertificateAuthority;
  ingest: TelemetryService;
  commands: CommandBroker;
  policy: AgentPolicy;
  now: () => number;
  /** Whether agents can reach the server over TLS (mutual TLS needs it). */
  tls: boolean;
  /** Seals pull agents' passwords at rest. */
  sealer: Sealer;
  pullCommander?: () => PullCommander | undefined;
}) => {
  const { store, transact, ca, policy, now } = deps;
  const autoNetwork = networkMatcher(policy.autoApproveNetworks);
  const autoHostname = hostnameMatcher(policy.autoApproveHostnames);
  const autoApproves = (address: string | null, hostname: string | null): boolean =>
    autoNetwork(address) || autoHostname(hostname);

  /** Applies `patch` to agent `id` and writes the audit event, in one transaction. */
  async function mutate(
    ctx: RequestContext,
    entry: AuditEntry,
    fn: (s: AgentStores) => Promise<void>,
  ): Promise<void> {
    authCache.clear();
    await transact(async (s) => {
      await fn(s);
      await s.audit.insert(auditRow(ctx, entry, now()));
    });
    authCache.clear();
  }

  /**
   * Refuses a self-registration when too many wait for approval: from its source address
   * (`agents.pending_per_address`), or from everywhere (`MAX_PENDING`).
   */
  async function checkPendingRoom(sourceAddress: string | null): Promise<void> {
    if (
      sourceAddress !== null &&
      (await store.countPending(sourceAddress)) >= policy.pendingPerAddress
    )
      throw new VigilError(
        'too_many_requests',
        `${policy.pendingPerAddress} enrollment requests from ${sourceAddress} already wait for approval (agents.pending_per_address); approve or reject them, or wait until they expire after ${policy.pendingTtlHours} h`,
        { code: 'agent.too_many_pending', headers: { 'retry-after': '60' } },
      );
    if ((await store.countPending()) >= MAX_PENDING)
      throw new VigilError(
        'too_many_requests',
        `${MAX_PENDING} agents already wait for approval; approve or reject some first`,
        { code: 'agent.too_many_pending', headers: { 'retry-after': '60' } },
      );
  }

  /**
   * Runs self-registrations one at a time in this process, so that counting the pending requests
   * and storing a new one are one step: requests arriving together cannot all pass the count.
   */
  let registrationTail: Promise<unknown> = Promise.resolve();
  function oneRegistrationAtATime<T>(fn: () => Promise<T>): Promise<T> {
    const run = registrationTail.then(fn, fn);
    registrationTail = run.catch(() => undefined);
    return run;
  }

  // Agents authenticate on every push: their rows are cached, and every change made through
  // this service drops the cache, so a revocation takes effect at the next request. The time
  // limit only bounds how long a change made outside this process goes unseen; it is well above
  // the agents' interval, or a fleet reporting every 10 s would miss the cache on every push.
  // (Several server processes will need a shared invalidation signal.)
  const authCache = new Map<string, { row: AgentRow; at: number }>();
  const AUTH_TTL_MS = 300_000;
  /** The cached row, or a promise of it loaded (a hit needs no turn of the event loop). */
  const cached = (
    key: string,
    load: () => Promise<AgentRow | undefined>,
  ): AgentRow | Promise<AgentRow | undefined> => {
    const hit = authCache.get(key);
    const t = Date.now();
    if (hit && t - hit.at < AUTH_TTL_MS) return hit.row;
    return load().then((row) => {
      if (row) authCache.set(key, { row, at: t });
      else authCache.delete(key);
      if (authCache.size > 100_000) authCache.clear();
      return row;
    });
  };

  /** The public form of a row, with the last contact this process has not written yet. */
  function viewOf(row: AgentRow, t: number): AgentView {
    const seen = deps.ingest.lastContact(row.id);
    const fresher = seen !== undefined && (row.last_seen === null || seen > row.last_seen);
    return toAgentView(fresher ? { ...row, last_seen: seen } : row, t);
  }

  async function mustGet(id: string): Promise<AgentRow> {
    const row = await store.get(id);
    if (!row) throw notFound(id);
    return row;
  }

  async function checkCsr(csr: string): Promise<void> {
    try {
      await ca.verify(csr);
    } catch (err) {
      if (err instanceof CsrError)
        throw new VigilError('bad_data', err.message, { code: 'agent.csr_invalid' });
      throw err;
    }
  }

  async function sign(csr: string, commonName: string) {
    try {
      return await ca.sign(csr, { commonName, days: policy.certificateDays });
    } catch (err) {
      if (err instanceof CsrError)
        throw new VigilError('bad_data', err.message, { code: 'agent.csr_invalid' });
      throw err;
    }
  }

  const agentActor = (row: Pick<AgentRow, 'id' | 'hostname'>, origin: Origin) =>
    ({
      actor: { type: 'agent', id: row.id, label: row.hostname ?? row.id },
      correlationId: origin.correlationId,
      sourceAddress: origin.sourceAddress,
    }) satisfies RequestContext;

  const certificateFields = (c: { serial: string; fingerprint: string; notAfterMs: number }) => ({
    cert_serial: c.serial,
    cert_fingerprint: c.fingerprint,
    cert_not_after: c.notAfterMs,
  });

  /** The fleet-wide collection interval (`POST /api/v1/settings/refresh`), cached. */
  let fleetInterval: number | null | undefined;
  const intervalSetting = async (): Promise<number | null> => {
    if (fleetInterval === undefined) {
      const v = await store.setting('collection_interval_seconds');
      fleetInterval = v === undefined ? null : Number(v);
    }
    return fleetInterval;
  };

  const service = {
    /** The fleet-wide collection interval, or null when agents keep their own. */
    collectionInterval: intervalSetting,

    /**
     * Sets the collection interval of every Vigil agent (1–3600 s): native agents get it in the
     * answer to their next push, pull agents are polled at it.
     * @throws VigilError bad_data outside 1–3600.
     */
    async setCollectionInterval(seconds: number, ctx: RequestContext): Promise<number> {
      if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600)
        throw new VigilError('bad_data', 'interval must be whole seconds from 1 to 3600', {
          code: 'settings.interval_invalid',
        });
      await mutate(
        ctx,
        {
          action: 'settings.refresh',
          resourceType: 'settings',
          resourceId: 'collection_interval_seconds',
          detail: { interval: seconds, previous: await intervalSetting() },
        },
        (s) => s.agents.setSetting('collection_interval_seconds', String(seconds)),
      );
      fleetInterval = seconds;
      return seconds;
    },

    /** Every agent, oldest registration first. */
    async list(): Promise<AgentView[]> {
      const t = now();
      return (await store.list()).map((r) => viewOf(r, t));
    },

    /** Agents waiting for an operator's decision. */
    async pending(): Promise<AgentView[]> {
      const t = now();
      return (await store.list('pending')).map((r) => viewOf(r, t));
    },

    /** @throws VigilError not_found */
    async get(id: string): Promise<AgentView> {
      return viewOf(await mustGet(id), now());
    },

    /** The row of an agent, or undefined. */
    row: (id: string) => store.get(id),

    /**
     * Adds an agent by hand. Without an address it is a push agent that enrolls with the returned
     * one-time token; with one, the server pulls from it.
     * @throws VigilError conflict when the id is taken, bad_data for a bad address.
     */
    async create(req: CreateAgentRequest, ctx: RequestContext): Promise<CreatedAgent> {
      const id = req.id ?? randomUUID();
      if (!ID_PATTERN.test(id))
        throw new VigilError('bad_data', `agent id '${id}' may hold only letters, digits, . _ -`, {
          code: 'agent.id_invalid',
        });
      // The rules every name follows (identity/names.ts): no control or invisible characters, not
      // blank, not a look-alike of a built-in name.
      const name = checkName(req.name, 'agent name');
      const t = now();
      const pullAddress = req.address !== undefined ? pullAddressOf(req.address) : null;
      if (
        !pullAddress &&
        (req.autotls !== undefined || req.username !== undefined || req.password !== undefined)
      )
        throw new VigilError(
          'bad_data',
          'autotls, username and password are settings of pull agents: give address too',
          { code: 'agent.not_pull' },
        );
      if ((req.username === undefined) !== (req.password === undefined))
        throw new VigilError('bad_data', 'give username and password together', {
          code: 'agent.credentials_invalid',
        });
      if (req.username !== undefined) checkCredentials(req.username, req.password!);
      const token = pullAddress ? undefined : newToken('vge');
      const expires = t + policy.tokenTtlSeconds * 1000;
      const row = newAgentRow(
        {
          id,
          name,
          kind: pullAddress ? 'pull' : 'native',
          approval: 'approved',
          interval_seconds: req.interval_seconds ?? policy.defaultIntervalSeconds,
          enrollment_token_hash: token ? hashToken(token) : null,
          enrollment_expires_at: token ? expires : null,
          pull_address: pullAddress,
          pull_autotls: req.autotls ?? 'auto',
          pull_username: req.username ?? null,
          pull_password:
            req.password !== undefined ? deps.sealer.seal(Buffer.from(req.password)) : null,
        },
        t,
      );
      await mutate(
        ctx,
        {
          action: 'agent.create',
          resourceType: 'agent',
          resourceId: id,
          detail: {
            name,
            kind: row.kind,
            address: pullAddress,
            ...(pullAddress ? { autotls: row.pull_autotls, username: row.pull_username } : {}),
          },
        },
        async (s) => {
          if (await s.agents.get(id))
            throw new VigilError('conflict', `an agent with id ${id} exists`, {
              code: 'agent.exists',
            });
          if (pullAddress) {
            row.host_id = await s.agents.hostFor(req.name, t);
          }
          await s.agents.insert(row);
        },
      );
      const view = viewOf(row, t);
      return token
        ? {
            ...view,
            enrollment_token: token,
            enrollment_expires_at: new Date(expires).toISOString(),
          }
        : view;
    },

    /**
     * Changes an agent's name and interval, and a pull agent's settings: address, Auto-TLS,
     * HTTP Basic credentials (`username: null` removes them). A new address or Auto-TLS choice
     * makes the next contact a first contact again. The audit event names what changed, never
     * the password.
     * @throws VigilError not_found, bad_data.
     */
    async update(id: string, req: UpdateAgentRequest, ctx: RequestContext): Promise<AgentView> {
      const row = await mustGet(id);
      const pullOnly = ['address', 'autotls', 'username', 'password'] as const;
      if (row.kind !== 'pull' && pullOnly.some((k) => req[k] !== undefined))
        throw new VigilError(
          'bad_data',
          `agent ${id} is a ${row.kind === 'oitc' ? 'openITCOCKPIT push' : 'push'} agent: address, autotls, username and password are settings of pull agents`,
          { code: 'agent.not_pull' },
        );
      const t = now();
      const patch: AgentPatch = {};
      const changed: Record<string, unknown> = {};
      const name = req.name === undefined ? undefined : checkName(req.name, 'agent name');
      if (name !== undefined && name !== row.name) patch.name = changed.name = name;
      if (req.interval_seconds !== undefined && req.interval_seconds !== row.interval_seconds)
        patch.interval_seconds = changed.interval_seconds = req.interval_seconds;
      if (req.address !== undefined) {
        const address = pullAddressOf(req.address);
        if (address !== row.pull_address) patch.pull_address = changed.address = address;
      }
      if (req.autotls !== undefined && req.autotls !== row.pull_autotls)
        patch.pull_autotls = changed.autotls = req.autotls;
      if (req.username === null) {
        if (req.password !== undefined)
          throw new VigilError('bad_data', 'a password needs a username', {
            code: 'agent.credentials_invalid',
          });
        if (row.pull_username !== null || row.pull_password !== null) {
          patch.pull_username = patch.pull_password = null;
          changed.username = null;
          changed.password = 'removed';
        }
      } else if (req.username !== undefined || req.password !== undefined) {
        const username = req.username ?? row.pull_username;
        if (username === null)
          throw new VigilError('bad_data', 'a password needs a username', {
            code: 'agent.credentials_invalid',
          });
        if (req.password === undefined && row.pull_password === null)
          throw new VigilError('bad_data', 'give username and password together', {
            code: 'agent.credentials_invalid',
          });
        checkCredentials(username, req.password ?? '');
        if (username !== row.pull_username) patch.pull_username = changed.username = username;
        if (req.password !== undefined) {
          patch.pull_password = deps.sealer.seal(Buffer.from(req.password));
          changed.password = 'changed';
        }
      }
      if (patch.pull_address !== undefined || patch.pull_autotls !== undefined) {
        // A first contact again: Auto-TLS as now chosen, at the address now given.
        patch.pull_tls = null;
        patch.last_error = null;
      }
      if (Object.keys(patch).length === 0) return viewOf(row, t);
      patch.updated_at = t;
      await mutate(
        ctx,
        { action: 'agent.update', resourceType: 'agent', resourceId: id, detail: changed },
        (s) => s.agents.update(id, patch),
      );
      return viewOf({ ...row, ...patch }, t);
    },

    /**
     * A fresh enrollment token for native agent `id`, adding the agent (approved, as a manual add
     * is) when there is none. @throws VigilError conflict when `id` is not a native agent.
     */
    async enrollmentToken(
      req: { id: string; name: string },
      ctx: RequestContext,
    ): Promise<{ token: string; expiresAt: number }> {
      if (await store.get(req.id)) return service.newEnrollmentToken(req.id, ctx);
      const created = await service.create({ id: req.id, name: req.name }, ctx);
      return {
        token: created.enrollment_token!,
        expiresAt: Date.parse(created.enrollment_expires_at!),
      };
    },

    /** Issues a new enrollment token for a native agent (the old one stops working). */
    async newEnrollmentToken(
      id: string,
      ctx: RequestContext,
    ): Promise<{ token: string; expiresAt: number }> {
      const row = await mustGet(id);
      if (row.kind !== 'native')
        throw new VigilError('conflict', `agent ${id} does not enroll with a token (${row.kind})`, {
          code: 'agent.kind_mismatch',
        });
      const token = newToken('vge');
      const expiresAt = now() + policy.tokenTtlSeconds * 1000;
      await mutate(
        ctx,
        { action: 'agent.token.issue', resourceType: 'agent', resourceId: id },
        async (s) => {
          await s.agents.update(id, {
            enrollment_token_hash: hashToken(token),
            enrollment_expires_at: expiresAt,
            updated_at: now(),
          });
        },
      );
      return { token, expiresAt };
    },

    /** Removes an agent and everything it reported. @throws VigilError not_found */
    async remove(id: string, ctx: RequestContext): Promise<void> {
      await mutate(
        ctx,
        { action: 'agent.delete', resourceType: 'agent', resourceId: id },
        async (s) => {
          if (!(await s.agents.remove(id))) throw notFound(id);
        },
      );
      deps.commands.cancelAll(id, 'the agent was removed');
    },

    /**
     * Approves a pending agent: links it to its host, and for a native enrollment signs the
     * certificate the agent fetches at its next poll.
     * @throws VigilError not_found, conflict when it is not pending.
     */
    async approve(id: string, ctx: RequestContext): Promise<AgentView> {
      const row = await mustGet(id);
      if (row.approval !== 'pending')
        throw new VigilError('conflict', `agent ${id} is ${row.approval}, not pending`, {
          code: 'agent.not_pending',
        });
      const t = now();
      const patch: AgentPatch = { approval: 'approved', updated_at: t };
      if (row.kind === 'native' && row.csr) {
        const cert = await sign(row.csr, row.id);
        Object.assign(patch, certificateFields(cert), { cert_pem: cert.pem, csr: null });
      }
      await mutate(
        ctx,
        { action: 'agent.approve', resourceType: 'agent', resourceId: id },
        async (s) => {
          patch.host_id = await s.agents.hostFor(row.hostname ?? row.id, t);
          await s.agents.update(id, patch);
        },
      );
      return viewOf({ ...row, ...patch }, t);
    },

    /** Rejects a pending agent. @throws VigilError not_found, conflict when not pending. */
    async reject(id: string, ctx: RequestContext): Promise<AgentView> {
      const row = await mustGet(id);
      if (row.approval !== 'pending')
        throw new VigilError('conflict', `agent ${id} is ${row.approval}, not pending`, {
          code: 'agent.not_pending',
        });
      const t = now();
      const patch: AgentPatch = { approval: 'rejected', csr: null, updated_at: t };
      await mutate(ctx, { action: 'agent.reject', resourceType: 'agent', resourceId: id }, (s) =>
        s.agents.update(id, patch),
      );
      return viewOf({ ...row, ...patch }, t);
    },

    /**
     * Revokes an agent: its certificate (or push password) is refused from its very next
     * request on. @throws VigilError not_found, conflict when already revoked.
     */
    async revoke(id: string, ctx: RequestContext): Promise<AgentView> {
      const row = await mustGet(id);
      if (row.approval === 'revoked')
        throw new VigilError('conflict', `agent ${id} is already revoked`, {
          code: 'agent.revoked',
        });
      const t = now();
      const patch: AgentPatch = {
        approval: 'revoked',
        enrollment_token_hash: null,
        enrollment_expires_at: null,
        cert_pem: null,
        updated_at: t,
      };
      await mutate(
        ctx,
        {
          action: 'agent.revoke',
          resourceType: 'agent',
          resourceId: id,
          detail: { certificate_serial: row.cert_serial },
        },
        (s) => s.agents.update(id, patch),
      );
      deps.commands.cancelAll(id, 'the agent was revoked');
      return viewOf({ ...row, ...patch }, t);
    },

    /**
     * Native enrollment. With a token from `POST /api/v1/agents`, the request's CSR is signed at
     * once; without one, the agent waits as `pending` (unless an auto-approve rule matches) and
     * polls with the returned secret.
     * @throws VigilError unauthenticated (bad token), conflict (id taken), bad_data (bad CSR),
     *   unavailable (TLS off).
     */
    async enroll(req: EnrollRequest, origin: Origin): Promise<EnrollResponse> {
      const { sourceAddress } = origin;
      // The host name becomes the agent's name: the rules every name follows apply.
      checkName(req.hostname, 'hostname');
      if (!deps.tls)
        throw new VigilError(
          'unavailable',
          'native agents need TLS on the server (server.tls = "auto" or certificate files)',
          { code: 'agent.tls_required' },
        );
      const t = now();
      const facts = {
        hostname: req.hostname.normalize('NFC'),
        ip_address: sourceAddress,
        os: req.os ?? null,
        architecture: req.architecture ?? null,
        version: req.version ?? null,
      };
      if (req.token !== undefined) {
        const row = await store.byTokenHash(hashToken(req.token));
        if (
          !row ||
          row.kind !== 'native' ||
          row.approval !== 'approved' ||
          (row.enrollment_expires_at ?? 0) < t
        )
          throw new VigilError(
            'unauthenticated',
            'the enrollment token is invalid, expired or already used',
            { code: 'agent.token_invalid' },
          );
        const cert = await sign(req.csr, row.id);
        await mutate(
          agentActor({ id: row.id, hostname: req.hostname }, origin),
          {
            action: 'agent.enroll',
            resourceType: 'agent',
            resourceId: row.id,
            detail: { hostname: req.hostname, certificate_serial: cert.serial, with_token: true },
          },
          async (s) => {
            await s.agents.update(row.id, {
              ...facts,
              ...certificateFields(cert),
              host_id: await s.agents.hostFor(req.hostname, t),
              enrollment_token_hash: null,
              enrollment_expires_at: null,
              updated_at: t,
            });
          },
        );
        return {
          agent_id: row.id,
          status: 'approved',
          certificate: cert.pem,
          ca_certificate: ca.caPem,
          interval_seconds: row.interval_seconds,
        };
      }

      const id = req.id ?? randomUUID();
      const group = sourceGroup(sourceAddress);
      const auto = autoApproves(sourceAddress, req.hostname);
      // A bad request is refused now, before anything is stored; it is signed at approval.
      if (!auto) await checkCsr(req.csr);
      const cert = auto ? await sign(req.csr, id) : undefined;
      const secret = auto ? undefined : newToken('vgp');
      const row = newAgentRow(
        {
          id,
          name: facts.hostname,
          kind: 'native',
          approval: auto ? 'approved' : 'pending',
          ...facts,
          interval_seconds: policy.defaultIntervalSeconds,
          secret_hash: secret ? hashToken(secret) : null,
          csr: auto ? null : req.csr,
          enrolled_from: group,
          ...(cert ? certificateFields(cert) : {}),
        },
        t,
      );
      await oneRegistrationAtATime(async () => {
        if (!auto) await checkPendingRoom(group);
        await mutate(
          agentActor(row, origin),
          {
            action: 'agent.enroll',
            resourceType: 'agent',
            resourceId: id,
            detail: { hostname: req.hostname, auto_approved: auto, with_token: false },
          },
          async (s) => {
            if (await s.agents.get(id))
              throw new VigilError('conflict', `an agent with id ${id} exists`, {
                code: 'agent.exists',
              });
            if (auto) row.host_id = await s.agents.hostFor(facts.hostname, t);
            await s.agents.insert(row);
          },
        );
      });
      return cert
        ? {
            agent_id: id,
            status: 'approved',
            certificate: cert.pem,
            ca_certificate: ca.caPem,
            interval_seconds: row.interval_seconds,
          }
        : {
            agent_id: id,
            status: 'pending',
            poll_secret: secret!,
            interval_seconds: row.interval_seconds,
          };
    },

    /**
     * A pending native enrollment asks whether it was approved; the certificate is handed out
     * once. @throws VigilError unauthenticated (bad secret), forbidden (rejected).
     */
    async pollEnrollment(req: EnrollPollRequest): Promise<EnrollResponse> {
      const row = await store.get(req.agent_id);
      if (
        !row ||
        row.kind !== 'native' ||
        !row.secret_hash ||
        !safeEqual(row.secret_hash, hashToken(req.poll_secret))
      )
        throw new VigilError('unauthenticated', 'unknown agent or wrong poll secret', {
          code: 'agent.poll_invalid',
        });
      if (row.approval === 'rejected' || row.approval === 'revoked')
        throw new VigilError('forbidden', `the enrollment of agent ${row.id} was ${row.approval}`, {
          code: `agent.${row.approval}`,
        });
      if (row.approval === 'pending' || !row.cert_pem)
        return { agent_id: row.id, status: 'pending', interval_seconds: row.interval_seconds };
      await store.update(row.id, { cert_pem: null, secret_hash: null, updated_at: now() });
      authCache.clear();
      return {
        agent_id: row.id,
        status: 'approved',
        certificate: row.cert_pem,
        ca_certificate: ca.caPem,
        interval_seconds: row.interval_seconds,
      };
    },

    /**
     * The approved native agent that owns a client certificate.
     * @throws VigilError unauthenticated (no, invalid or unknown certificate), forbidden
     *   (revoked, or `expectedId` names another agent).
     */
    async byCertificate(peer: PeerCertificate, expectedId?: string): Promise<AgentRow> {
      if (!peer.fingerprint)
        throw new VigilError('unauthenticated', 'this endpoint needs an agent client certificate', {
          code: 'agent.certificate_required',
        });
      if (!peer.authorized)
        throw new VigilError(
          'unauthenticated',
          'the client certificate is not one the Vigil CA issued, or it expired',
          { code: 'agent.certificate_invalid' },
        );
      const row = await cached(`fp:${peer.fingerprint}`, () =>
        store.byFingerprint(peer.fingerprint!),
      );
      if (!row)
        throw new VigilError('unauthenticated', 'the client certificate is not current', {
          code: 'agent.certificate_unknown',
        });
      if (row.approval !== 'approved')
        throw new VigilError('forbidden', `agent ${row.id} is ${row.approval}`, {
          code: `agent.${row.approval}`,
        });
      if (expectedId !== undefined && expectedId !== row.id)
        throw new VigilError('forbidden', `this certificate belongs to agent ${row.id}`, {
          code: 'agent.wrong_agent',
        });
      return row;
    },

    /** Takes in a native push; the answer carries commands waiting for the agent. */
    async pushNative(agent: AgentRow, body: NativePush): Promise<NativePushResult> {
      const outcome = await deps.ingest.ingest(
        ingestTarget(agent),
        body.collected_at,
        body.checkdata,
      );
      // The clock skew is set while the agent's clock is too far ahead, and cleared after.
      const patch = {
        ...reportedFacts(body.checkdata),
        clock_skew_seconds: outcome.clock_skew_seconds,
      };
      const changed = Object.entries(patch).some(
        ([k, v]) => (agent as Record<string, unknown>)[k] !== v,
      );
      if (changed) {
        await store.update(agent.id, { ...patch, updated_at: now() });
        authCache.clear();
      }
      return {
        received_checks: outcome.received_checks,
        duplicate: outcome.duplicate,
        interval_seconds:
          (await intervalSetting()) ?? patch.interval_seconds ?? agent.interval_seconds,
        commands: deps.commands.take(agent.id),
      };
    },

    /** Signs a fresh certificate for an agent that proved it holds the current one. */
    async renew(agent: AgentRow, csr: string, origin: Origin): Promise<RenewResponse> {
      const cert = await sign(csr, agent.id);
      await mutate(
        agentActor(agent, origin),
        {
          action: 'agent.certificate.renew',
          resourceType: 'agent',
          resourceId: agent.id,
          detail: { previous_serial: agent.cert_serial, certificate_serial: cert.serial },
        },
        (s) => s.agents.update(agent.id, { ...certificateFields(cert), updated_at: now() }),
      );
      return { certificate: cert.pem, ca_certificate: ca.caPem };
    },

    /**
     * openITCOCKPIT `register_agent.json`: a new uuid with an empty password registers (pending
     * unless an auto-approve rule matches); a known uuid with its password checks the state.
     */
    async registerOitc(
      req: { agentuuid: string; password: string; hostname?: string; ipaddress?: string },
      origin: Origin,
    ): Promise<OitcRegistration> {
      const { sourceAddress } = origin;
      const row = await store.get(req.agentuuid);
      if (row) {
        if (row.kind !== 'oitc') return { outcome: 'not_found' };
        if (req.password === '') return { outcome: 'already_registered' };
        const ok =
          row.secret_hash !== null &&
          safeEqual(row.secret_hash, hashToken(req.password)) &&
          row.approval !== 'rejected' &&
          row.approval !== 'revoked';
        return ok
          ? { outcome: 'ok', agentuuid: row.id, password: req.password }
          : { outcome: 'not_found' };
      }
      if (req.password !== '') return { outcome: 'not_found' };
      const t = now();
      const password = randomBytes(64).toString('hex');
      // A host name that breaks the rules every name follows is not kept: the agent is named by
      // its uuid instead, since refusing it would leave a real agent registering forever.
      const given = req.hostname?.trim() ? req.hostname.trim().slice(0, 253) : null;
      const hostname = given !== null && !nameProblem(given) ? given.normalize('NFC') : null;
      const address = req.ipaddress?.trim() ? req.ipaddress.trim().slice(0, 64) : sourceAddress;
      const auto = autoApproves(sourceAddress, hostname);
      const newRow = newAgentRow(
        {
          id: req.agentuuid,
          name: hostname ?? req.agentuuid,
          kind: 'oitc',
          approval: auto ? 'approved' : 'pending',
          hostname,
          ip_address: address,
          interval_seconds: policy.defaultIntervalSeconds,
          secret_hash: hashToken(password),
          enrolled_from: sourceGroup(sourceAddress),
        },
        t,
      );
      return oneRegistrationAtATime(async (): Promise<OitcRegistration> => {
        // The same agent may have registered meanwhile: it keeps its first password.
        if (await store.get(newRow.id)) return { outcome: 'already_registered' };
        if (!auto) await checkPendingRoom(newRow.enrolled_from);
        await mutate(
          agentActor(newRow, origin),
          {
            action: 'agent.register',
            resourceType: 'agent',
            resourceId: newRow.id,
            detail: { hostname, ip_address: address, auto_approved: auto, kind: 'oitc' },
          },
          async (s) => {
            if (auto) newRow.host_id = await s.agents.hostFor(hostname ?? newRow.id, t);
            await s.agents.insert(newRow);
          },
        );
        return { outcome: 'created', agentuuid: newRow.id, password };
      });
    },

    /**
     * The approved openITCOCKPIT agent with these credentials and a host, else undefined (the
     * face answers "Invalid credentials or host not found").
     */
    async oitcAgent(agentuuid: string, password: string): Promise<AgentRow | undefined> {
      const hit = cached(`id:${agentuuid}`, () => store.get(agentuuid));
      const row = hit instanceof Promise ? await hit : hit;
      if (
        !row ||
        row.kind !== 'oitc' ||
        !row.secret_hash ||
        !safeEqual(row.secret_hash, hashToken(password)) ||
        row.approval !== 'approved' ||
        !row.host_id
      )
        return undefined;
      return row;
    },

    /** Takes in an openITCOCKPIT push of an agent `oitcAgent` returned. */
    async submitOitc(agent: AgentRow, checkdata: Record<string, unknown>) {
      if (hasNoData(checkdata)) {
        const t = now();
        await store.update(agent.id, { last_seen: t, updated_at: t });
        return { received_checks: 0 };
      }
      const outcome = await deps.ingest.ingest(
        ingestTarget(agent),
        collectedAtOf(checkdata, now()),
        checkdata,
      );
      const patch = {
        ...reportedFacts(checkdata),
        clock_skew_seconds: outcome.clock_skew_seconds,
      };
      if (Object.entries(patch).some(([k, v]) => (agent as Record<string, unknown>)[k] !== v)) {
        await store.update(agent.id, { ...patch, updated_at: now() });
        authCache.clear();
      }
      return outcome;
    },

    /**
     * Stores a package inventory an agent sent; a pending one (`isPendingInventory`) leaves the
     * stored inventory as it is.
     */
    async submitInventory(agent: AgentRow, inventory: unknown): Promise<void> {
      if (!isPendingInventory(inventory)) await deps.ingest.ingestInventory(agent.id, inventory);
      await store.update(agent.id, { last_seen: now() });
    },

    /**
     * Removes self-registrations that waited for approval longer than `agents.pending_ttl_hours`,
     * each with an audit event by the system. Returns how many were removed.
     */
    async expirePending(): Promise<number> {
      const ttlMs = policy.pendingTtlHours * 3_600_000;
      const stale = await store.pendingBefore(now() - ttlMs);
      let removed = 0;
      for (const row of stale) {
        await mutate(
          {
            actor: { type: 'system', id: null, label: 'pending-expiry' },
            correlationId: null,
            sourceAddress: null,
          },
          {
            action: 'agent.expire',
            resourceType: 'agent',
            resourceId: row.id,
            detail: {
              hostname: row.hostname,
              enrolled_from: row.enrolled_from,
              registered_at: new Date(row.registered_at).toISOString(),
              ttl_hours: policy.pendingTtlHours,
            },
          },
          async (s) => {
            // Only if it is still pending: an operator may have decided meanwhile.
            const current = await s.agents.get(row.id);
            if (current?.approval === 'pending' && (await s.agents.remove(row.id))) removed += 1;
          },
        );
      }
      return removed;
    },

    /** Approved pull agents. */
    pullAgents: () => store.pullAgents(),

    /**
     * The HTTP Basic credentials a pull agent wants on every request, or undefined.
     * @throws Error when the sealed password cannot be opened (another master key).
     */
    pullCredentials(agent: AgentRow): { username: string; password: string } | undefined {
      if (agent.pull_username === null || agent.pull_password === null) return undefined;
      return {
        username: agent.pull_username,
        password: deps.sealer.open(agent.pull_password).toString('utf8'),
      };
    },

    /**
     * Stores the package inventory pulled from an agent (`GET /packages`), unless it is pending
     * (`isPendingInventory`): the stored one is kept then. Returns whether it was stored.
     */
    async recordPullInventory(agent: AgentRow, inventory: unknown): Promise<boolean> {
      if (isPendingInventory(inventory)) return false;
      await deps.ingest.ingestInventory(agent.id, inventory);
      return true;
    },

    /**
     * Records how talking to a pull agent went; a document is ingested, one without data
     * (`hasNoData`) only counts as a contact.
     */
    async recordPull(
      agent: AgentRow,
      outcome: { tls?: PullTls; document?: Record<string, unknown>; error?: string },
    ): Promise<void> {
      const t = now();
      const patch: AgentPatch = { updated_at: t, last_error: outcome.error ?? null };
      if (outcome.tls !== undefined) patch.pull_tls = outcome.tls;
      // A document without data is a contact, not a push: the host keeps its values.
      if (outcome.document && hasNoData(outcome.document)) patch.last_seen = t;
      else if (outcome.document) {
        try {
          const ingested = await deps.ingest.ingest(
            ingestTarget(agent),
            collectedAtOf(outcome.document, t),
            outcome.document,
          );
          // A pull agent is polled at the interval its operator set, not at its own.
          const { interval_seconds: _own, ...facts } = reportedFacts(outcome.document);
          Object.assign(patch, facts, {
            last_seen: t,
            clock_skew_seconds: ingested.clock_skew_seconds,
          });
        } catch (err) {
          patch.last_error = (err as Error).message;
        }
      }
      await store.update(agent.id, patch);
    },

    /**
     * Records a certificate a pull agent took (Auto-TLS, or its renewal over mutual TLS), with
     * its audit event, and how talking to the agent stands afterwards.
     */
    async recordAutoTls(
      agent: AgentRow,
      cert: { serial: string; fingerprint: string; notAfterMs: number },
      outcome: { tls: PullTls; error?: string; renewal?: boolean },
    ): Promise<void> {
      await mutate(
        {
          actor: { type: 'system', id: null, label: 'pull' },
          correlationId: null,
          sourceAddress: null,
        },
        {
          action: outcome.renewal ? 'agent.certificate.renew' : 'agent.autotls',
          resourceType: 'agent',
          resourceId: agent.id,
          detail: {
            address: agent.pull_address,
            certificate_serial: cert.serial,
            ...(outcome.renewal ? { previous_serial: agent.cert_serial } : {}),
            tls: outcome.tls,
          },
        },
        (s) =>
          s.agents.update(agent.id, {
            ...certificateFields(cert),
            pull_tls: outcome.tls,
            last_error: outcome.error ?? null,
            updated_at: now(),
          }),
      );
    },

    /**
     * Sends a command to an agent and waits for its result: through the agent's long poll or its
     * next push (push agents), or directly (pull agents).
     * @throws VigilError not_found, conflict (no command channel or not approved), timeout.
     */
    async command(
      agentId: string,
      command:
        | { kind: 'process.get'; pid: number }
        | { kind: 'process.signal'; pid: number; signal: number },
    ): Promise<CommandResult> {
      const row = await mustGet(agentId);
      if (row.approval !== 'approved')
        throw new VigilError('conflict', `agent ${agentId} is ${row.approval}`, {
          code: 'agent.not_approved',
        });
      const timeoutMs = policy.commandTimeoutSeconds * 1000;
      const full = { ...command, id: randomUUID() } as AgentCommand;
      if (row.kind === 'pull') {
        const commander = deps.pullCommander?.();
        if (!commander || row.pull_tls !== 'mtls')
          throw new VigilError(
            'conflict',
            `agent ${agentId} takes commands only over mutual TLS, which is not established`,
            { code: 'agent.no_command_channel' },
          );
        return commander.command(row, full, timeoutMs);
      }
      if (row.kind !== 'native')
        throw new VigilError(
          'conflict',
          `agent ${agentId} is an openITCOCKPIT push agent, which has no command channel`,
          { code: 'agent.no_command_channel' },
        );
      return deps.commands.send(agentId, full, timeoutMs);
    },

    /** Waits up to `waitMs` for commands for a native agent (its long poll). */
    waitCommands: (agent: AgentRow, waitMs: number, abort: AbortSignal) =>
      deps.commands.wait(agent.id, waitMs, abort),

    /** Takes an agent's result for a command. @throws VigilError not_found for unknown ids. */
    completeCommand(agent: AgentRow, commandId: string, result: CommandResult): void {
      if (!deps.commands.complete(agent.id, commandId, result))
        throw new VigilError('not_found', `no command ${commandId} is waiting for a result`, {
          code: 'command.not_found',
        });
    },

    /**
     * A process's detail, read by its agent (Tyto's shape).
     * @throws VigilError not_found (agent or process), conflict, timeout.
     */
    async processDetail(agentId: string, pid: number): Promise<ProcessDetail> {
      const result = await service.command(agentId, { kind: 'process.get', pid });
      if (!result.ok) throw commandFailure(result, pid);
      if (!result.process)
        throw new VigilError('external', `agent ${agentId} answered without the process`, {
          code: 'agent.bad_answer',
        });
      return result.process;
    },

    /**
     * Sends a signal (one of `ALLOWED_SIGNALS`) to a process through its agent, and audits the
     * attempt with its outcome.
     * @throws VigilError bad_data (signal not allowed), not_found, forbidden, conflict, timeout.
     */
    async signalProcess(
      agentId: string,
      pid: number,
      signal: number,
      ctx: RequestContext,
    ): Promise<SignalResult> {
      if (!ALLOWED_SIGNALS.includes(signal))
        throw new VigilError(
          'bad_data',
          `signal ${signal} is not allowed; use one of ${ALLOWED_SIGNALS.join(', ')}`,
          { code: 'process.signal_not_allowed' },
        );
      let outcome = 'delivered';
      try {
        const result = await service.command(agentId, { kind: 'process.signal', pid, signal });
        if (!result.ok) {
          outcome = result.failure;
          throw commandFailure(result, pid);
        }
        return { pid, signal, agent_id: agentId, delivered: true };
      } catch (err) {
        if (outcome === 'delivered') outcome = err instanceof VigilError ? err.code : 'error';
        throw err;
      } finally {
        await transact((s) =>
          s.audit.insert(
            auditRow(
              ctx,
              {
                action: 'process.signal',
                resourceType: 'process',
                resourceId: `${agentId}/${pid}`,
                detail: { agent_id: agentId, pid, signal, outcome },
              },
              now(),
            ),
          ),
        );
      }
    },

    /** The agent's latest document (JSON text), if any. */
    latestDocument: (id: string) => store.latestDocument(id),
  };
  return service;
};

/** The agents service. */
export type AgentService = ReturnType<typeof createAgentService>;
