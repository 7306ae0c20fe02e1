import { Type } from '@sinclair/typebox';
import { AgentId } from '@vigil/protocol';
import type { App } from '../../http/server.js';
import type { StreamHub } from './stream.js';

/** The live stream (Tyto's `GET /api/v1/stream`). */
export function streamRoutes(app: App, deps: { stream: StreamHub }): void {
  app.get(
    '/api/v1/stream',
    {
      config: { access: 'host:read' },
      schema: {
        tags: ['telemetry'],
        summary:
          "Server-Sent Events: `event: metrics` with Tyto's metrics structure for each new document; `event: agent` `{agent_id, host_id, status, previous_status, at}` when an agent's status changes (online, offline, pending, rejected, revoked, deleted); `event: enrollment` `{agent_id, name, hostname, kind, status, at}` when an agent asks to enroll (`pending`) or its enrollment is decided (`approved`, `rejected`); `agent_id` filters all three; `id:` on each event, increasing across server restarts, resumable with `Last-Event-ID`; a heartbeat comment every 15 s.",
        querystring: Type.Object({
          agent_id: Type.Optional(AgentId),
          last_event_id: Type.Optional(Type.Integer({ minimum: 0 })),
        }),
      },
    },
    async (request, reply) => {
      const header = request.headers['last-event-id'];
      const fromHeader =
        typeof header === 'string' && /^\d{1,16}$/.test(header) ? Number(header) : undefined;
      const identity = request.identity!;
      deps.stream.attach(reply.raw, {
        identity: identity.actor.id ?? identity.username,
        agentId: request.query.agent_id,
        lastEventId: fromHeader ?? request.query.last_event_id,
        headers: { 'x-correlation-id': request.id },
      });
      // The response is the stream's from here on; Fastify must not answer it.
      return reply.hijack();
    },
  );
}
