import { Type, type Static } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { AgentId, StringEnum } from '@vigil/protocol';
import { isRecord } from '@vigil/protocol/guards';
import { VigilError } from '../errors.js';
import type { App } from '../http/server.js';
import { JsonBytes, type HistoryReader } from './query/history.js';
import { STATE_NAMES, type CheckState } from './ingest/checks.js';
import { isoOrNull } from './iso-time.js';
import type { TelemetryService } from './service.js';

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
/** Sends a history answer; one already serialised goes out as it is. */
function sendHistory<T>(reply: FastifyReply, answer: T | JsonBytes): T {
  if (!(answer instanceof JsonBytes)) return answer;
  void reply.type('application/json; charset=utf-8');
  // Fastify sends a Buffer as it is, without serialising it again.
  return answer.body as unknown as T;
}

const HistoryAnswer = Type.Object(
  {
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time' }),
    resolution: Type.String(),
    host_id: Type.String(),
    data: Type.Array(
      Type.Object(
        {
          timestamp: Type.String({ format: 'date-time' }),
          partial: Type.Optional(
            Type.Literal(true, {
              description:
                'Present on a bucket not rolled up yet (the one still open, or one waiting for late pushes): its figures cover what has arrived so far and may still change. Never on raw points.',
            }),
          ),
        },
        {
          additionalProperties: Agg,
        },
      ),
    ),
  },
  { title: 'History' },
);

/** One CSV field, quoted as RFC 4180 asks when it holds a comma, a quote or a line break. */
export const csvField = (v: string | number | null): string => {
  const t = v === null ? '' : String(v);
  return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
};

/** A list stored as JSON text; anything else (damaged text, another value) is an empty list. */
function storedList(text: unknown): unknown[] {
  try {
    const v: unknown = JSON.parse(String(text));
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Time = Nullable(Type.String({ format: 'date-time' }));
const StateName = StringEnum(['OK', 'WARNING', 'CRITICAL', 'UNKNOWN']);

/** One perfdata item as stored: `'label'=value[uom];[warn];[crit];[min];[max]`. */
const PerfItem = Type.Object(
  {
    label: Type.Optional(Type.String()),
    value: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    uom: Type.Optional(Type.String()),
    warn: Type.Optional(Nullable(Type.String())),
    crit: Type.Optional(Nullable(Type.String())),
    min: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    max: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
  },
  { title: 'PerfdataItem' },
);

/** A plugin check of a host with its Nagios-style state. */
const CheckView = Type.Object(
  {
    name: Type.String(),
    state: StateName,
    state_id: Type.Integer({ description: 'The plugin exit code: 0 OK … 3 UNKNOWN.' }),
    state_type: StringEnum(['soft', 'hard']),
    attempt: Type.Integer(),
    max_check_attempts: Type.Integer(),
    hard_state: StateName,
    last_check: Time,
    last_state_change: Time,
    last_hard_state_change: Time,
    output: Type.String(),
    perfdata: Type.Array(PerfItem),
  },
  { title: 'HostCheck' },
);

/** What the export asks the hosts domain: every host, a page at a time. Declared where used. */
export interface HostPages {
  /** Up to `limit` hosts with an id after `after`, in id order (`''` starts at the first). */
  page(after: string, limit: number): Promise<readonly { id: string; name: string }[]>;
}

/** Current metrics export and the checks of a host. */
export function exportRoutes(
  app: App,
  deps: { telemetry: TelemetryService; history: HistoryReader; hosts: HostPages },
): void {
  const { telemetry } = deps;
  app.get(
    '/api/v1/export/metrics',
    {
      config: { access: 'host:read' },
      schema: {
        tags: ['telemetry'],
        summary:
          'Current metrics of every host (or one), each with its id and name: `format=json` (default) or `csv` (RFC 4180, header line), streamed. A stored time or value that is no finite figure is null (empty in CSV).',
        querystring: Type.Object({
          format: Type.Optional(StringEnum(['json', 'csv'])),
          agent_id: Type.Optional(AgentId),
          host_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
        }),
      },
    },
    async (request, reply) => {
      const format = request.query.format ?? 'json';
      const one =
        request.query.host_id !== undefined || request.query.agent_id !== undefined
          ? await deps.history.resolveHost(request.query)
          : undefined;
      const res = reply.raw;
      const stamp = new Date().toISOString();
      res.writeHead(200, {
        'content-type':
          format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
        'content-disposition': `attachment; filename="vigil-metrics-${stamp.replace(/[:.]/g, '-')}.${format}"`,
        'cache-control': 'no-store',
        'x-correlation-id': request.id,
      });
      reply.hijack();
      const write = async (text: string) => {
        if (!res.write(text)) await new Promise((r) => res.once('drain', r));
      };
      try {
        if (format === 'csv')
          await write('host_id,host_name,agent_id,timestamp,series,metric,value\r\n');
        else await write(`{"generated_at":${JSON.stringify(stamp)},"hosts":[`);
        let first = true;
        /** The agent each host of the page being written reported through. */
        let agents = new Map<string, string>();
        const emit = async (host: { id: string; name: string }) => {
          const cur = await telemetry.current(host.id);
          if (!cur) return;
          const agentId = cur.agentId ?? agents.get(host.id) ?? null;
          // Stored rows may hold any figure: a time no Date can hold is written as null (empty
          // in CSV), and so is a value that is not a finite number.
          const ts = isoOrNull(cur.ts);
          if (format === 'csv') {
            const lead = `${csvField(host.id)},${csvField(host.name)},${csvField(agentId)},${ts ?? ''}`;
            let chunk = '';
            for (const [key, value] of cur.values) {
              const metric = key.split('{')[0]!;
              chunk += `${lead},${csvField(key)},${csvField(metric)},${Number.isFinite(value) ? value : ''}\r\n`;
            }
            await write(chunk);
          } else {
            const metrics: Record<string, number | null> = {};
            for (const [key, value] of cur.values)
              metrics[key] = Number.isFinite(value) ? value : null;
            const row = {
              host_id: host.id,
              host_name: host.name,
              agent_id: agentId,
              timestamp: ts,
              metrics,
            };
            await write(`${first ? '' : ','}${JSON.stringify(row)}`);
          }
          first = false;
        };
        if (one !== undefined) {
          agents = await telemetry.reportingAgents([one.id]);
          await emit(one);
        } else
          for (let after = ''; ;) {
            const page = await deps.hosts.page(after, 200);
            // One query for the page's agents (the hosts whose pushes this process has not seen).
            agents = await telemetry.reportingAgents(page.map((h) => h.id));
            for (const host of page) await emit(host);
            if (page.length < 200) break;
            after = page[page.length - 1]!.id;
          }
        if (format === 'json') await write(']}');
        res.end();
      } catch (err) {
        request.log.error({ err }, 'metrics export failed midway');
        res.destroy(err as Error);
      }
    },
  );

  const checkView = (name: string, c: CheckState, max: number) => ({
    name,
    state: STATE_NAMES[c.state] ?? 'UNKNOWN',
    state_id: c.state,
    state_type: c.stateType,
    attempt: c.attempt,
    max_check_attempts: max,
    hard_state: STATE_NAMES[c.hardState] ?? 'UNKNOWN',
    last_check: isoOrNull(c.lastCheck),
    last_state_change: isoOrNull(c.lastStateChange),
    last_hard_state_change: isoOrNull(c.lastHardChange),
    output: c.output,
    // Only items that are objects: a damaged stored list cannot break the answer.
    perfdata: storedList(c.perfdata).filter(isRecord) as Static<typeof PerfItem>[],
  });

  app.get(
    '/api/v1/hosts/:id/checks',
    {
      config: { access: 'host:read' },
      schema: {
        tags: ['telemetry'],
        summary:
          'The plugin checks of a host with Nagios-style state: SOFT until max_check_attempts consecutive problems, then HARD.',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: {
          200: Type.Object({ host_id: Type.String(), checks: Type.Array(CheckView) }),
        },
      },
    },
    async (request) => {
      const host = await deps.history.resolveHost({ host_id: request.params.id });
      const checks = await telemetry.checks(host.id);
      return {
        host_id: host.id,
        checks: checks.map((c) => checkView(c.name, c.state, telemetry.maxCheckAttempts)),
      };
    },
  );

  app.get(
    '/api/v1/hosts/:id/checks/:name/history',
    {
      config: { access: 'host:read' },
      schema: {
        tags: ['telemetry'],
        summary: 'State changes of one check of a host, newest first.',
        params: Type.Object({
          id: Type.String({ minLength: 1, maxLength: 128 }),
          name: Type.String({ minLength: 1, maxLength: 256 }),
        }),
        querystring: Type.Object({
          from: Type.Optional(Type.String()),
          to: Type.Optional(Type.String()),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
        }),
        response: {
          200: Type.Object({
            host_id: Type.String(),
            name: Type.String(),
            history: Type.Array(
              Type.Object({
                timestamp: Time,
                state: StateName,
                state_id: Type.Integer(),
                state_type: StringEnum(['soft', 'hard']),
                attempt: Type.Integer(),
                output: Nullable(Type.String()),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const host = await deps.history.resolveHost({ host_id: request.params.id });
      const range = deps.history.range(request.query);
      const rows = await telemetry.checkHistory(
        host.id,
        request.params.name,
        range.from,
        range.to,
        request.query.limit ?? 100,
      );
      return {
        host_id: host.id,
        name: request.params.name,
        history: rows.map((r) => ({
          timestamp: isoOrNull(r.ts),
          state: STATE_NAMES[r.state] ?? 'UNKNOWN',
          state_id: r.state,
          state_type: r.stateType === 'hard' ? ('hard' as const) : ('soft' as const),
          attempt: r.attempt,
          output: r.output,
        })),
      };
    },
  );
}

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
          'Historical metrics of one host (Tyto): per point `{avg,min,max}` of each metric, rounded to two decimal places; `resolution=auto` picks the finest with at most 1,000 points. At 1m, 5m and 1h the last buckets, not rolled up yet, are there too, marked `partial: true`. Exact figures of any series: `/api/v1/series/query`.',
        querystring: Type.Object({
          ...Range,
          ...Target,
          metrics: Type.Optional(
            Type.String({
              description:
                'Comma-separated: cpu, memory, swap, disk, load, load5, load15, iowait, network_rx, network_tx, processes, connections (default: cpu,memory, as Tyto).',
            }),
          ),
        }),
        response: { 200: HistoryAnswer },
      },
    },
    async (request, reply) => sendHistory(reply, await history.tyto(request.query)),
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
    async (request, reply) =>
      sendHistory(reply, await history.tyto({ ...request.query, host_id: request.params.host_id })),
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
