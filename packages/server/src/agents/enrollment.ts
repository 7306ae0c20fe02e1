import { randomBytes, randomUUID } from 'node:crypto';
import type {
  EnrollPollRequest,
  EnrollRequest,
  EnrollResponse,
  RenewResponse,
} from '@vigil/protocol';
import type { RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import { checkName, nameProblem } from '../identity/names.js';
import { hostnameMatcher, networkMatcher, sourceGroup } from '../net.js';
import { hashToken, newToken, safeEqual } from '../secrets/tokens.js';
import type { AgentAuthCache } from './auth-cache.js';
import type { CsrSigner } from './csr.js';
import {
  agentActor,
  certificateFields,
  newAgentRow,
  mustGet,
  type AgentPatch,
  type AgentPolicy,
  type AgentRow,
  type Origin,
  type PeerCertificate,
} from './model.js';
import type { Mutate } from './mutate.js';
import type { AgentRegistry } from './registry.js';
import type { TicketCheck } from './ticket-enrollment.js';

/** What enrollment and authentication need of the agents table. */
export interface EnrollmentStore {
  /** Returns undefined when absent. */
  get(id: string): Promise<AgentRow | undefined>;
  byFingerprint(fingerprint: string): Promise<AgentRow | undefined>;
  byTokenHash(hash: string): Promise<AgentRow | undefined>;
  update(id: string, patch: AgentPatch): Promise<void>;
  /** How many agents wait for approval; with `from`, those that registered from that address. */
  countPending(from?: string): Promise<number>;
}

/**
 * How a push agent's password stands: no such agent, an agent of another kind, the right
 * password of an agent not refused, or anything else.
 */
export type PasswordStanding = 'unknown' | 'other_kind' | 'valid' | 'refused';

/** Outcome of a password registration: the new agent's password, or none when it exists. */
export type PasswordRegistration = { registered: true; password: string } | { registered: false };

/**
 * Self-registrations (anonymous by nature) waiting for an operator are capped, so that a flood
 * of them cannot fill the store.
 */
export const MAX_PENDING = 1000;

/**
 * Enrollment and authentication of agents: enrollment tokens, native enrollment (CSR, approval
 * polling, renewal), self-registration of password agents (openITCOCKPIT push), and the
 * certificate and password checks of agents' requests, with their cache.
 */
export const createEnrollmentService = (deps: {
  store: EnrollmentStore;
  mutate: Mutate;
  authCache: AgentAuthCache;
  signer: CsrSigner;
  /** Adds agents by hand (an enrollment token for a new id does). */
  registry: Pick<AgentRegistry, 'create'>;
  policy: Pick<
    AgentPolicy,
    | 'tokenTtlSeconds'
    | 'defaultIntervalSeconds'
    | 'autoApproveNetworks'
    | 'autoApproveHostnames'
    | 'pendingPerAddress'
    | 'pendingTtlHours'
  >;
  now: () => number;
  /** Whether agents can reach the server over TLS (mutual TLS needs it). */
  tls: boolean;
  /** Checks the Icinga 2 tickets of ticket enrollments. */
  tickets: TicketCheck;
}) => {
  const { store, mutate, authCache, signer, policy, now } = deps;
  const sign = signer.sign;
  const autoNetwork = networkMatcher(policy.autoApproveNetworks);
  const autoHostname = hostnameMatcher(policy.autoApproveHostnames);
  const autoApproves = (address: string | null, hostname: string | null): boolean =>
    autoNetwork(address) || autoHostname(hostname);

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

  const service = {
    /**
     * A fresh enrollment token for native agent `id`, adding the agent (approved, as a manual add
     * is) when there is none. @throws VigilError conflict when `id` is not a native agent.
     */
    async enrollmentToken(
      req: { id: string; name: string },
      ctx: RequestContext,
    ): Promise<{ token: string; expiresAt: number }> {
      if (await store.get(req.id)) return service.newEnrollmentToken(req.id, ctx);
      const created = await deps.registry.create({ id: req.id, name: req.name }, ctx);
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
      const row = await mustGet(store, id);
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

    /**
     * Native enrollment. With a token from `POST /api/v1/agents`, the request's CSR is signed at
     * once; so it is with the Icinga 2 ticket of a host configured with an agent (a new agent of
     * that host); with neither, the agent waits as `pending` (unless an auto-approve rule
     * matches) and polls with the returned secret.
     * @throws VigilError unauthenticated (bad token), forbidden (bad ticket), conflict (id
     *   taken), bad_data (bad CSR, or both a token and a ticket), unavailable (TLS off).
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
      if (req.token !== undefined && req.ticket !== undefined)
        throw new VigilError('bad_data', 'send either a token or a ticket, not both', {
          code: 'agent.token_and_ticket',
        });
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
              host_id: await s.hosts.hostFor(req.hostname, t),
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
          ca_certificate: signer.caPem,
          interval_seconds: row.interval_seconds,
        };
      }

      const id = req.id ?? randomUUID();
      const group = sourceGroup(sourceAddress);
      // A valid ticket approves the enrollment, as a token does, for the host it names.
      const ticketHost =
        req.ticket === undefined
          ? undefined
          : await deps.tickets.verify(facts.hostname, req.ticket, origin);
      const auto = ticketHost !== undefined || autoApproves(sourceAddress, req.hostname);
      // A bad request is refused now, before anything is stored; it is signed at approval.
      if (!auto) await signer.check(req.csr);
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
            detail: {
              hostname: req.hostname,
              auto_approved: auto,
              with_token: false,
              with_ticket: ticketHost !== undefined,
            },
          },
          async (s) => {
            if (await s.agents.get(id))
              throw new VigilError('conflict', `an agent with id ${id} exists`, {
                code: 'agent.exists',
              });
            if (auto) row.host_id = ticketHost ?? (await s.hosts.hostFor(facts.hostname, t));
            await s.agents.insert(row);
          },
        );
      });
      return cert
        ? {
            agent_id: id,
            status: 'approved',
            certificate: cert.pem,
            ca_certificate: signer.caPem,
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
        ca_certificate: signer.caPem,
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
      const row = await authCache.cached(`fp:${peer.fingerprint}`, () =>
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
      return { certificate: cert.pem, ca_certificate: signer.caPem };
    },

    /**
     * How the password agent `id` presents stands (openITCOCKPIT `register_agent.json` with a
     * known uuid).
     */
    async passwordStanding(id: string, password: string): Promise<PasswordStanding> {
      const row = await store.get(id);
      if (!row) return 'unknown';
      if (row.kind !== 'oitc') return 'other_kind';
      const ok =
        row.secret_hash !== null &&
        safeEqual(row.secret_hash, hashToken(password)) &&
        row.approval !== 'rejected' &&
        row.approval !== 'revoked';
      return ok ? 'valid' : 'refused';
    },

    /**
     * Self-registration of a password agent (openITCOCKPIT push) with a new id: pending unless an
     * auto-approve rule matches, with a fresh password that is returned this once. An agent that
     * registered meanwhile keeps its first password (`registered: false`).
     * @throws VigilError too_many_requests when too many wait for approval.
     */
    async registerWithPassword(
      req: { id: string; hostname?: string; ipaddress?: string },
      origin: Origin,
    ): Promise<PasswordRegistration> {
      const { sourceAddress } = origin;
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
          id: req.id,
          name: hostname ?? req.id,
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
      return oneRegistrationAtATime(async (): Promise<PasswordRegistration> => {
        // The same agent may have registered meanwhile: it keeps its first password.
        if (await store.get(newRow.id)) return { registered: false };
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
            if (auto) newRow.host_id = await s.hosts.hostFor(hostname ?? newRow.id, t);
            await s.agents.insert(newRow);
          },
        );
        return { registered: true, password };
      });
    },

    /**
     * The approved password agent (openITCOCKPIT push) with these credentials and a host, else
     * undefined.
     */
    async byPassword(id: string, password: string): Promise<AgentRow | undefined> {
      const hit = authCache.cached(`id:${id}`, () => store.get(id));
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
  };
  return service;
};

/** The enrollment service. */
export type EnrollmentService = ReturnType<typeof createEnrollmentService>;
