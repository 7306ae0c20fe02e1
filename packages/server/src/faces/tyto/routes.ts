import { Type } from '@sinclair/typebox';
import { AgentId, StringEnum, permits } from '@vigil/protocol';
import { AlertItemSchema, AlertTransitionSchema } from '../../alerts/routes.js';
import { VigilError } from '../../errors.js';
import type { App } from '../../http/server.js';
import type { StreamHub } from './stream.js';

const Time = Type.String({ format: 'date-time' });

/** The data of an `agent` event: an agent's status changed. */
const StreamAgentEvent = Type.Object(
  {
    agent_id: Type.String(),
    host_id: Type.Union([Type.String(), Type.Null()]),
    status: StringEnum(['online', 'offline', 'pending', 'rejected', 'revoked', 'deleted']),
    previous_status: Type.Union([
      StringEnum(['online', 'offline', 'pending', 'rejected', 'revoked', 'deleted']),
      Type.Null(),
    ]),
    at: Time,
  },
  { title: 'StreamAgentEvent', description: 'The data of `event: agent`.' },
);

/** The data of an `enrollment` event: an agent asked to enroll, or its enrollment was decided. */
const StreamEnrollmentEvent = Type.Object(
  {
    agent_id: Type.String(),
    name: Type.String(),
    hostname: Type.Union([Type.String(), Type.Null()]),
    kind: Type.String(),
    status: StringEnum(['pending', 'approved', 'rejected']),
    at: Time,
  },
  { title: 'StreamEnrollmentEvent', description: 'The data of `event: enrollment`.' },
);

/** The data of an `alert` event: an alert opened or changed state or severity. */
const StreamAlertEvent = Type.Object(
  { alert: AlertItemSchema, transition: AlertTransitionSchema },
  { title: 'StreamAlertEvent', description: 'The data of `event: alert`.' },
);

/** The live stream (Tyto's `GET /api/v1/stream`). */
export function streamRoutes(app: App, deps: { stream: StreamHub }): void {
  app.get(
    '/api/v1/stream',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['telemetry'],
        summary:
          "Server-Sent Events: `event: metrics` with Tyto's metrics structure for each new document; `event: agent` `{agent_id, host_id, status, previous_status, at}` when an agent's status changes (online, offline, pending, rejected, revoked, deleted); `event: enrollment` `{agent_id, name, hostname, kind, status, at}` when an agent asks to enroll (`pending`) or its enrollment is decided (`approved`, `rejected`); `event: alert` `{alert, transition}` when an alert opens or changes state or severity, only to callers holding `alerts:read` (the other events only to callers holding `host:read`; a caller with neither is refused with 403); `agent_id` filters them all; `id:` on each event, increasing across server restarts, resumable with `Last-Event-ID`; a heartbeat comment every 15 s.",
        querystring: Type.Object({
          agent_id: Type.Optional(AgentId),
          last_event_id: Type.Optional(Type.Integer({ minimum: 0 })),
        }),
        response: {
          200: {
            description:
              "Server-Sent Events; each event's `data:` is one of these JSON objects, by its `event:` name (`metrics`: Tyto's metrics structure).",
            content: {
              'text/event-stream': {
                schema: Type.Union([
                  StreamAgentEvent,
                  StreamEnrollmentEvent,
                  StreamAlertEvent,
                  Type.Object({}, { title: 'StreamMetricsEvent', additionalProperties: true }),
                ]),
              },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const header = request.headers['last-event-id'];
      const fromHeader =
        typeof header === 'string' && /^\d{1,16}$/.test(header) ? Number(header) : undefined;
      const identity = request.identity!;
      const hosts = permits(identity.grants, 'host:read');
      const alerts = permits(identity.grants, 'alerts:read');
      if (!hosts && !alerts)
        throw new VigilError('forbidden', 'the stream needs host:read or alerts:read', {
          code: 'auth.forbidden',
        });
      deps.stream.attach(reply.raw, {
        identity: identity.actor.id ?? identity.username,
        agentId: request.query.agent_id,
        lastEventId: fromHeader ?? request.query.last_event_id,
        headers: { 'x-correlation-id': request.id },
        alerts,
        hosts,
      });
      // The response is the stream's from here on; Fastify must not answer it.
      return reply.hijack();
    },
  );
}
