import type { TLSSocket } from 'node:tls';
import { Type } from '@sinclair/typebox';
import {
  AgentId,
  AgentList,
  AgentView,
  CommandBatch,
  CommandResult,
  CreateAgentRequest,
  CreatedAgent,
  EnrollPollRequest,
  EnrollRequest,
  EnrollResponse,
  ProcessDetail,
  RenewRequest,
  RenewResponse,
  SignalRequest,
  SignalResult,
  UpdateAgentRequest,
} from '@vigil/protocol';
import type { FastifyRequest } from 'fastify';
import { VigilError } from '../errors.js';
import { contextOf, originOf } from '../http/context.js';
import type { App } from '../http/server.js';
import type { CommandService } from './commands.js';
import type { EnrollmentService } from './enrollment.js';
import type { PeerCertificate } from './model.js';
import type { AgentRegistry } from './registry.js';

const IdParams = Type.Object({ id: AgentId });
const PidParams = Type.Object({ pid: Type.Integer({ minimum: 1, maximum: 4194304 }) });

/** The client certificate of the request's TLS connection, as the agents service checks it. */
export function peerOf(request: FastifyRequest): PeerCertificate {
  const socket = request.raw.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return { authorized: false };
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.fingerprint256) return { authorized: false };
  return { authorized: socket.authorized === true, fingerprint: cert.fingerprint256 };
}

/** The longest a command long poll may wait, in seconds. */
const MAX_WAIT_SECONDS = 60;

/**
 * Agents (Tyto's `/api/v1/agents` plus enrollment and commands; the push is `push-routes.ts`)
 * and process commands (`/api/v1/processes`).
 */
export function agentRoutes(
  app: App,
  deps: {
    registry: AgentRegistry;
    enrollment: EnrollmentService;
    commands: CommandService;
  },
): void {
  const { registry, enrollment, commands } = deps;
  const tags = ['agents'];

  app.get(
    '/api/v1/agents',
    {
      config: { access: 'agents:read' },
      schema: { tags, summary: 'List agents.', response: { 200: AgentList } },
    },
    async () => ({ agents: await registry.list() }),
  );

  app.post(
    '/api/v1/agents',
    {
      config: { access: 'agents:write' },
      schema: {
        tags,
        summary:
          'Add an agent. Push agents get a one-time enrollment token; with `address` the server pulls.',
        body: CreateAgentRequest,
        response: { 201: CreatedAgent },
      },
    },
    async (request, reply) => {
      const created = await registry.create(request.body, contextOf(request));
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/api/v1/agents/pending',
    {
      config: { access: 'agents:read' },
      schema: { tags, summary: 'Agents waiting for approval.', response: { 200: AgentList } },
    },
    async () => ({ agents: await registry.pending() }),
  );

  app.post(
    '/api/v1/agents/pending/:id/approve',
    {
      config: { access: 'agents:write' },
      schema: {
        tags,
        summary: 'Approve a pending agent.',
        params: IdParams,
        response: { 200: AgentView },
      },
    },
    async (request) => registry.approve(request.params.id, contextOf(request)),
  );

  app.post(
    '/api/v1/agents/pending/:id/reject',
    {
      config: { access: 'agents:write' },
      schema: {
        tags,
        summary: 'Reject a pending agent.',
        params: IdParams,
        response: { 200: AgentView },
      },
    },
    async (request) => registry.reject(request.params.id, contextOf(request)),
  );

  app.get(
    '/api/v1/agents/:id',
    {
      config: { access: 'agents:read' },
      schema: { tags, summary: 'One agent.', params: IdParams, response: { 200: AgentView } },
    },
    async (request) => registry.get(request.params.id),
  );

  app.patch(
    '/api/v1/agents/:id',
    {
      config: { access: 'agents:write' },
      schema: {
        tags,
        summary:
          "Change an agent's name or interval, or a pull agent's address, Auto-TLS choice and HTTP Basic credentials (the password is write-only).",
        params: IdParams,
        body: UpdateAgentRequest,
        response: { 200: AgentView },
      },
    },
    async (request) => registry.update(request.params.id, request.body, contextOf(request)),
  );

  app.delete(
    '/api/v1/agents/:id',
    {
      config: { access: 'agents:write' },
      schema: { tags, summary: 'Remove an agent and what it reported.', params: IdParams },
    },
    async (request, reply) => {
      await registry.remove(request.params.id, contextOf(request));
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/v1/agents/:id/revoke',
    {
      config: { access: 'agents:write' },
      schema: {
        tags,
        summary: "Revoke an agent's certificate; its next request is refused.",
        params: IdParams,
        response: { 200: AgentView },
      },
    },
    async (request) => registry.revoke(request.params.id, contextOf(request)),
  );

  app.post(
    '/api/v1/agents/:id/enrollment-token',
    {
      config: { access: 'agents:write' },
      schema: {
        tags,
        summary: 'Issue a new one-time enrollment token for a native agent.',
        params: IdParams,
        response: {
          201: Type.Object({
            agent_id: Type.String(),
            enrollment_token: Type.String(),
            enrollment_expires_at: Type.String({ format: 'date-time' }),
          }),
        },
      },
    },
    async (request, reply) => {
      const t = await enrollment.newEnrollmentToken(request.params.id, contextOf(request));
      return reply.code(201).send({
        agent_id: request.params.id,
        enrollment_token: t.token,
        enrollment_expires_at: new Date(t.expiresAt).toISOString(),
      });
    },
  );

  // Used by `vigil-agent enroll`: anonymous, the token, the ticket or the operator's approval is
  // the proof.
  app.post(
    '/api/v1/agents/enroll',
    {
      config: { access: 'anonymous' },
      schema: {
        tags,
        summary:
          "Enroll an agent with a CSR: signed at once with a token or its host's Icinga 2 ticket (201), else pending approval (202).",
        body: EnrollRequest,
        response: { 201: EnrollResponse, 202: EnrollResponse },
      },
    },
    async (request, reply) => {
      const r = await enrollment.enroll(request.body, originOf(request));
      return reply.code(r.status === 'approved' ? 201 : 202).send(r);
    },
  );

  app.post(
    '/api/v1/agents/enroll/poll',
    {
      config: { access: 'anonymous' },
      schema: {
        tags,
        summary: 'A pending agent asks for its certificate: 200 once approved, 202 while pending.',
        body: EnrollPollRequest,
        response: { 200: EnrollResponse, 202: EnrollResponse },
      },
    },
    async (request, reply) => {
      const r = await enrollment.pollEnrollment(request.body);
      return reply.code(r.status === 'approved' ? 200 : 202).send(r);
    },
  );

  app.post(
    '/api/v1/agents/:id/certificate',
    {
      config: { access: 'agent' },
      schema: {
        tags,
        summary: 'Renew the agent certificate (mutual TLS with the current one).',
        params: IdParams,
        body: RenewRequest,
        response: { 200: RenewResponse },
      },
    },
    async (request) => {
      const agent = await enrollment.byCertificate(peerOf(request), request.params.id);
      return enrollment.renew(agent, request.body.csr, originOf(request));
    },
  );

  app.get(
    '/api/v1/agents/:id/commands',
    {
      config: { access: 'agent' },
      schema: {
        tags,
        summary:
          'Long poll for commands (mutual TLS): answers when there are some, or after `wait`.',
        params: IdParams,
        querystring: Type.Object({
          wait: Type.Integer({ minimum: 0, maximum: MAX_WAIT_SECONDS, default: 25 }),
        }),
        response: { 200: CommandBatch },
      },
    },
    async (request) => {
      const agent = await enrollment.byCertificate(peerOf(request), request.params.id);
      const abort = new AbortController();
      const onClose = () => abort.abort();
      request.raw.socket.once('close', onClose);
      try {
        return {
          commands: await commands.waitCommands(agent, request.query.wait * 1000, abort.signal),
        };
      } finally {
        request.raw.socket.off('close', onClose);
      }
    },
  );

  app.post(
    '/api/v1/agents/:id/commands/:command/result',
    {
      config: { access: 'agent' },
      schema: {
        tags,
        summary: 'Report the result of a command (mutual TLS).',
        params: Type.Object({ id: AgentId, command: Type.String({ minLength: 1, maxLength: 64 }) }),
        body: CommandResult,
      },
    },
    async (request, reply) => {
      const agent = await enrollment.byCertificate(peerOf(request), request.params.id);
      commands.completeCommand(agent, request.params.command, request.body);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/v1/settings/refresh',
    {
      config: { access: 'settings:write' },
      schema: {
        tags: ['settings'],
        summary:
          'Set the collection interval of every Vigil agent (1–3600 s), applied at its next contact (Tyto).',
        body: Type.Object(
          { interval: Type.Integer({ description: 'Seconds, 1 to 3600.' }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ interval: Type.Integer() }) },
      },
    },
    async (request) => ({
      interval: await registry.setCollectionInterval(request.body.interval, contextOf(request)),
    }),
  );

  app.get(
    '/api/v1/settings/refresh',
    {
      config: { access: 'settings:read' },
      schema: {
        tags: ['settings'],
        summary: 'The fleet-wide collection interval; null while agents keep their own.',
        response: { 200: Type.Object({ interval: Type.Union([Type.Integer(), Type.Null()]) }) },
      },
    },
    async () => ({ interval: await registry.collectionInterval() }),
  );

  /**
   * The agent a process request names. Without one, the only approved agent: Tyto's
   * single-machine mode, whose clients never name it. With several (or none), a 400 that lists
   * the choices.
   */
  const agentIdOf = async (fromQuery: string | undefined, fromBody?: string): Promise<string> => {
    const id = fromBody ?? fromQuery;
    if (id !== undefined) return id;
    const approved = (await registry.list()).filter((a) => a.approval === 'approved');
    if (approved.length === 1) return approved[0]!.id;
    const SHOWN = 20;
    const choices =
      approved.length === 0
        ? 'no agent is approved yet'
        : `one of ${approved
            .slice(0, SHOWN)
            .map((a) => a.id)
            .join(', ')}${approved.length > SHOWN ? ` and ${approved.length - SHOWN} more` : ''}`;
    throw new VigilError(
      'bad_data',
      `agent_id is required (query parameter or body field): ${choices}`,
      { code: 'validation_failed' },
    );
  };

  app.get(
    '/api/v1/processes/:pid',
    {
      config: { access: 'processes:read' },
      schema: {
        tags: ['processes'],
        summary:
          "A process's detail, read live by its agent; without `agent_id`, the only approved agent's (400 listing them when there are several).",
        params: PidParams,
        querystring: Type.Object({ agent_id: Type.Optional(AgentId) }),
        response: { 200: ProcessDetail },
      },
    },
    async (request) =>
      commands.processDetail(await agentIdOf(request.query.agent_id), request.params.pid),
  );

  app.post(
    '/api/v1/processes/:pid/signal',
    {
      config: { access: 'processes:signal' },
      schema: {
        tags: ['processes'],
        summary:
          'Send a signal (1, 2, 9, 15, 18 or 19) to a process through its agent; without `agent_id`, through the only approved agent (400 listing them when there are several).',
        params: PidParams,
        querystring: Type.Object({ agent_id: Type.Optional(AgentId) }),
        body: SignalRequest,
        response: { 200: SignalResult },
      },
    },
    async (request) =>
      commands.signalProcess(
        await agentIdOf(request.query.agent_id, request.body.agent_id),
        request.params.pid,
        request.body.signal,
        contextOf(request),
      ),
  );
}
