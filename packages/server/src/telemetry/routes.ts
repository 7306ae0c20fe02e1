import { Type } from '@sinclair/typebox';
import { AgentId, StringEnum } from '@vigil/protocol';
import { VigilError } from '../errors.js';
import type { App } from '../http/server.js';
import type { HistoryReader } from './history.js';

const Resolution = StringEnum(['raw', '1m', '5m', '1h', 'auto']);
const Range = {
  from: Type.Optional(Type.String({ description: 'RFC 3339; default: one hour before `to`.' })),
  to: Type.Optional(Type.String({ description: 'RFC 3339; default: now.' })),
  resolution: Type.Optional(Resolution),
};
const Target = {
  agent_id: Type.Optional(AgentId),
  host_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
};
const Agg = Type.Object({ avg: Type.Number(), min: Type.Number(), max: Type.Number() });
const HistoryAnswer = Type.Object(
  {
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time' }),
    resolution: Type.String(),
    host_id: Type.String(),
    data: Type.Array(
      Type.Object(
        { timestamp: Type.String({ format: 'date-time' }) },
        {
          additionalProperties: Agg,
        },
      ),
    ),
  },
  { title: 'History' },
);

/** History and series reads (Tyto's `/api/v1/history`, OpenWatch's monitoring history). */
export function telemetryRoutes(app: App, deps: { history: HistoryReader }): void {
  const { history } = deps;
  const tags = ['telemetry'];

  app.get(
    '/api/v1/history',
    {
      config: { access: 'host:read' },
      schema: {
        tags,
        summary:
          'Historical metrics of one host (Tyto): per point `{avg,min,max}` of each metric; `resolution=auto` picks the finest with at most 1,000 points.',
        querystring: Type.Object({
          ...Range,
          ...Target,
          metrics: Type.Optional(
            Type.String({ description: 'Comma-separated: cpu, memory, swap, disk, load, …' }),
          ),
        }),
        response: { 200: HistoryAnswer },
      },
    },
    async (request) => history.tyto(request.query),
  );

  app.get(
    '/api/v1/hosts/:host_id/monitoring/history',
    {
      config: { access: 'host:read' },
      schema: {
        tags,
        summary:
          'Monitoring history of a host (OpenWatch); the same engine and answer as /history.',
        params: Type.Object({ host_id: Type.String({ minLength: 1, maxLength: 128 }) }),
        querystring: Type.Object({ ...Range, metrics: Type.Optional(Type.String()) }),
        response: { 200: HistoryAnswer },
      },
    },
    async (request) => history.tyto({ ...request.query, host_id: request.params.host_id }),
  );

  app.get(
    '/api/v1/series',
    {
      config: { access: 'host:read' },
      schema: {
        tags,
        summary: 'The series of a host: metric names with their labels.',
        querystring: Type.Object(Target),
        response: {
          200: Type.Object({
            host_id: Type.String(),
            series: Type.Array(
              Type.Object({
                key: Type.String(),
                metric: Type.String(),
                labels: Type.Record(Type.String(), Type.String()),
              }),
            ),
          }),
        },
      },
    },
    async (request) => history.listSeries(request.query),
  );

  app.get(
    '/api/v1/series/query',
    {
      config: { access: 'host:read' },
      schema: {
        tags,
        summary:
          'Points of one or more series of a host (`series` repeated, keys as `GET /series` lists them) over a range, at a resolution, with one aggregation.',
        querystring: Type.Object({
          ...Range,
          ...Target,
          series: Type.Union([
            Type.String({ minLength: 1 }),
            Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 100 }),
          ]),
          aggregation: Type.Optional(StringEnum(['avg', 'min', 'max', 'count'])),
        }),
        response: {
          200: Type.Object({
            host_id: Type.String(),
            from: Type.String({ format: 'date-time' }),
            to: Type.String({ format: 'date-time' }),
            resolution: Type.String(),
            aggregation: Type.String(),
            series: Type.Array(
              Type.Object({
                key: Type.String(),
                points: Type.Array(Type.Tuple([Type.Number(), Type.Number()])),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const keys = Array.isArray(request.query.series)
        ? request.query.series
        : [request.query.series];
      if (keys.length === 0) throw new VigilError('bad_data', 'series is required');
      return history.query({ ...request.query, series: keys });
    },
  );
}
