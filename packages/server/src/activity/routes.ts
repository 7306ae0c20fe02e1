import { Type } from '@sinclair/typebox';
import type { App } from '../http/server.js';
import { ACTIVITY_KINDS, type ActivityFeed } from './service.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

const ActivityItem = Type.Object(
  {
    id: Type.String(),
    at: Type.String({ format: 'date-time' }),
    kind: Type.Union(ACTIVITY_KINDS.map((k) => Type.Literal(k))),
    action: Type.String({
      description: 'The audit action (`agent.enroll`, `config.deploy` …) or `alert.<state>`.',
    }),
    summary: Type.String({ description: 'One line for people.' }),
    actor: Type.Union([
      Type.Object({
        type: Type.String(),
        id: Type.Union([Type.String(), Type.Null()]),
        label: Type.Union([Type.String(), Type.Null()]),
      }),
      Type.Null(),
    ]),
    resource_type: Nullable(Type.String()),
    resource_id: Nullable(Type.String()),
    host_id: Nullable(Type.String()),
    severity: Type.Union([
      Type.Literal('info'),
      Type.Literal('warning'),
      Type.Literal('critical'),
      Type.Null(),
    ]),
  },
  { title: 'ActivityItem' },
);

/** The unified recent-activity feed (OpenWatch's `GET /api/v1/activity`). */
export function activityRoutes(app: App, deps: { activity: ActivityFeed }): void {
  app.get(
    '/api/v1/activity',
    {
      config: { access: 'activity:read' },
      schema: {
        tags: ['activity'],
        summary:
          'Recent activity, newest first: alert transitions, enrollments, deployments, notable changes and security events; follow next_cursor for older ones.',
        querystring: Type.Object(
          {
            kind: Type.Optional(
              Type.String({
                maxLength: 128,
                description: `Comma-separated kinds: ${ACTIVITY_KINDS.join(', ')}.`,
              }),
            ),
            host_id: Type.Optional(Type.String({ maxLength: 128 })),
            since: Type.Optional(Type.String({ format: 'date-time' })),
            until: Type.Optional(Type.String({ format: 'date-time' })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
            cursor: Type.Optional(Type.String({ maxLength: 512 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            {
              items: Type.Array(ActivityItem),
              next_cursor: Type.Union([Type.String(), Type.Null()]),
            },
            { title: 'ActivityPage' },
          ),
        },
      },
    },
    async (request) => deps.activity.list(request.query),
  );
}
