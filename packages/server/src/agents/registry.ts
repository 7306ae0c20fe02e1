import { randomUUID } from 'node:crypto';
import { AGENT_ID_PATTERN } from '@vigil/protocol';
import type {
  AgentApproval,
  AgentView,
  CreateAgentRequest,
  CreatedAgent,
  PullTls,
  UpdateAgentRequest,
} from '@vigil/protocol';
import type { RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import { checkName } from '../identity/names.js';
import { hashToken, newToken } from '../secrets/tokens.js';
import type { Sealer } from '../secrets/sealer.js';
import type { CsrSigner } from './csr.js';
import {
  certificateFields,
  newAgentRow,
  mustGet,
  notFound,
  toAgentView,
  type AgentPatch,
  type AgentPolicy,
  type AgentRow,
} from './model.js';
import type { Mutate } from './mutate.js';
import { checkCredentials, pullAddressOf } from './pull-settings.js';

/** What the registry needs of the agents table. */
export interface RegistryStore {
  /** Returns undefined when absent. */
  get(id: string): Promise<AgentRow | undefined>;
  /** Oldest registration first; all agents, or those with the given approval. */
  list(approval?: AgentApproval): Promise<AgentRow[]>;
  /** Approved pull agents. */
  pullAgents(): Promise<AgentRow[]>;
  /** Agents waiting for approval that registered before `before` (epoch ms). */
  pendingBefore(before: number): Promise<AgentRow[]>;
  /** A value of the `settings` table. */
  setting(key: string): Promise<string | undefined>;
}

const ID_PATTERN = new RegExp(AGENT_ID_PATTERN);

/**
 * The agents registry: the list of agents and their settings, an operator's decisions on them
 * (add, change, approve, reject, revoke, remove), the expiry of pending self-registrations, the
 * fleet-wide collection interval, and what the puller needs to reach pull agents.
 */
export const createAgentRegistry = (deps: {
  store: RegistryStore;
  mutate: Mutate;
  /** Signs a pending native enrollment's CSR at its approval. */
  signer: CsrSigner;
  /** When this process last heard from an agent, not yet written to its row. */
  lastContact: (agentId: string) => number | undefined;
  /** Fails the commands of an agent that was revoked or removed. */
  commands: { cancelAll(agentId: string, reason: string): void };
  policy: Pick<AgentPolicy, 'tokenTtlSeconds' | 'defaultIntervalSeconds' | 'pendingTtlHours'>;
  now: () => number;
  /** Seals pull agents' passwords at rest. */
  sealer: Sealer;
}) => {
  const { store, mutate, policy, now } = deps;
  const sign = deps.signer.sign;

  /** The public form of a row, with the last contact this process has not written yet. */
  function viewOf(row: AgentRow, t: number): AgentView {
    const seen = deps.lastContact(row.id);
    const fresher = seen !== undefined && (row.last_seen === null || seen > row.last_seen);
    return toAgentView(fresher ? { ...row, last_seen: seen } : row, t);
  }

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

    /** One agent's public form. @throws VigilError not_found */
    async get(id: string): Promise<AgentView> {
      return viewOf(await mustGet(store, id), now());
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
            row.host_id = await s.hosts.hostFor(req.name, t);
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
      const row = await mustGet(store, id);
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
      const row = await mustGet(store, id);
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
          patch.host_id = await s.hosts.hostFor(row.hostname ?? row.id, t);
          await s.agents.update(id, patch);
        },
      );
      return viewOf({ ...row, ...patch }, t);
    },

    /** Rejects a pending agent. @throws VigilError not_found, conflict when not pending. */
    async reject(id: string, ctx: RequestContext): Promise<AgentView> {
      const row = await mustGet(store, id);
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
      const row = await mustGet(store, id);
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
  };
  return service;
};

/** The agents registry. */
export type AgentRegistry = ReturnType<typeof createAgentRegistry>;
