import { Type } from '@sinclair/typebox';
import { contextOf } from '../http/context.js';
import type { App } from '../http/server.js';
import type { SilenceService } from './silences.js';

const Time = Type.String({ format: 'date-time' });
const Matchers = Type.Object(
  {
    host_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    rule_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);

/** A silence of alerts by matcher. */
export const SilenceSchema = Type.Object(
  {
    id: Type.String(),
    matchers: Matchers,
    reason: Type.String(),
    starts_at: Time,
    ends_at: Time,
    created_by: Type.Union([Type.String(), Type.Null()]),
    created_at: Time,
    active: Type.Boolean({ description: 'Whether it silences matching alerts now.' }),
  },
  { title: 'AlertSilence' },
);

/** Silences: list, create, read, delete. */
export function silenceRoutes(app: App, deps: { silences: SilenceService }): void {
  const tags = ['alerts'];
  const { silences } = deps;
  const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });

  app.get(
    '/api/v1/alerts/silences',
    {
      config: { access: 'alerts:read' },
      schema: {
        tags,
        summary: 'Silences, newest first; `active=true` keeps those active now.',
        querystring: Type.Object({ active: Type.Optional(Type.Boolean()) }),
        response: {
          200: Type.Object({ items: Type.Array(SilenceSchema) }, { title: 'AlertSilenceList' }),
        },
      },
    },
    async (request) => ({ items: await silences.list({ active: request.query.active }) }),
  );

  app.post(
    '/api/v1/alerts/silences',
    {
      config: { access: 'alerts:write' },
      schema: {
        tags,
        summary:
          'Create a silence: at least one matcher (host_id, rule_id, labels that must all match), ends_at in the future (at most a year ahead), starts_at now by default. The open alerts it matches are silenced now, and those that open while it is active open silenced.',
        body: Type.Object(
          {
            matchers: Matchers,
            reason: Type.Optional(Type.String({ maxLength: 1000 })),
            starts_at: Type.Optional(Type.String({ description: 'ISO 8601 date-time.' })),
            ends_at: Type.String({ description: 'ISO 8601 date-time.' }),
          },
          { additionalProperties: false },
        ),
        response: { 201: SilenceSchema },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await silences.create(contextOf(request), request.body)),
  );

  app.get(
    '/api/v1/alerts/silences/:id',
    {
      config: { access: 'alerts:read' },
      schema: {
        tags,
        summary: 'One silence; 404 `silence.not_found`.',
        params: Params,
        response: { 200: SilenceSchema },
      },
    },
    async (request) => silences.get(request.params.id),
  );

  app.delete(
    '/api/v1/alerts/silences/:id',
    {
      config: { access: 'alerts:write' },
      schema: {
        tags,
        summary: 'Delete a silence; the alerts it silenced go back to what they were.',
        params: Params,
        response: { 204: { type: 'null' } },
      },
    },
    async (request, reply) => {
      await silences.remove(contextOf(request), request.params.id);
      return reply.code(204).send();
    },
  );
}
