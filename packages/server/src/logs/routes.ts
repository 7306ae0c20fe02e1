import { gunzip } from 'node:zlib';
import { Type } from '@sinclair/typebox';
import {
  AgentId,
  LOG_LEVELS,
  LOG_SOURCES,
  LogPush,
  LogPushResult,
  StringEnum,
} from '@vigil/protocol';
import type { FastifyRequest } from 'fastify';
import type { CertificateAuthenticator } from '../agents/push-routes.js';
import { peerOf } from '../agents/routes.js';
import { VigilError } from '../errors.js';
import type { App } from '../http/server.js';
import { filterOf, histogramOf, pageOf, type LogParams, type LogService } from './service.js';
import type { LogTail } from './tail.js';

const NString = Type.Union([Type.String(), Type.Null()]);

/** A stored log line. */
export const LogEntrySchema = Type.Object(
  {
    id: Type.String({ description: 'Counts up in commit order; the live tail’s event id.' }),
    timestamp: Type.String({ format: 'date-time', description: 'When the line was written.' }),
    agent_id: NString,
    host_id: NString,
    host_name: Type.Optional(NString),
    source: StringEnum([...LOG_SOURCES]),
    source_name: Type.String(),
    level: StringEnum([...LOG_LEVELS]),
    message: Type.String(),
    fields: Type.Record(Type.String(), Type.String()),
  },
  { title: 'LogEntry' },
);

const LogList = Type.Object(
  {
    entries: Type.Array(LogEntrySchema),
    total: Type.Integer({
      description: 'Matching lines, counted exactly up to 10,000; past that 10,000.',
    }),
    total_capped: Type.Boolean({ description: 'True when more than 10,000 lines match.' }),
    next_cursor: NString,
    highlights: Type.Array(Type.String(), {
      description: 'The words of `q` to highlight (lower-case); a prefix ends with `*`.',
    }),
  },
  { title: 'LogList' },
);

const Filters = {
  agent_id: Type.Optional(Type.String({ maxLength: 128 })),
  host_id: Type.Optional(Type.String({ maxLength: 128 })),
  source: Type.Optional(Type.String({ description: 'journal, file, docker or syslog.' })),
  source_name: Type.Optional(Type.String({ maxLength: 512 })),
  level: Type.Optional(
    Type.String({
      description: 'Comma-separated levels: debug, info, notice, warning, error, critical.',
    }),
  ),
  q: Type.Optional(
    Type.String({ description: 'Full text: words (all must match), "phrases", prefix*.' }),
  ),
  from: Type.Optional(Type.String({ description: 'ISO 8601; lines written at or after it.' })),
  to: Type.Optional(Type.String({ description: 'ISO 8601; lines written at or before it.' })),
};

const LogHistogramSchema = Type.Object(
  {
    from: Type.String({ format: 'date-time', description: 'The range counted, from.' }),
    to: Type.String({ format: 'date-time', description: 'The range counted, to (inclusive).' }),
    bucket_seconds: Type.Integer({ description: 'The width of each interval, in seconds.' }),
    buckets: Type.Array(
      Type.Object({
        start: Type.String({ format: 'date-time', description: 'When the interval starts.' }),
        count: Type.Integer({ description: 'Lines counted in the interval.' }),
        error: Type.Integer({ description: 'Of them, lines of level error or critical.' }),
        warning: Type.Integer({ description: 'Of them, lines of level warning.' }),
        other: Type.Integer({ description: 'Of them, lines of the other levels.' }),
      }),
      { description: 'Oldest first; empty intervals included.' },
    ),
    total: Type.Integer({ description: 'Lines counted: all matches, or the newest 50,000.' }),
    capped: Type.Boolean({
      description: 'True when more than 50,000 lines match: only the newest 50,000 are counted.',
    }),
  },
  { title: 'LogHistogram' },
);

const LogDroppedSchema = Type.Object(
  {
    agent_id: Type.String(),
    source: Type.String(),
    source_name: Type.String(),
    reason: Type.String(),
    count: Type.Integer(),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { title: 'LogDropped' },
);

/** Lines of a decompressed push, in bytes, when the caller names no limit. */
const PUSH_LIMIT = 64 * 1024 * 1024;

/**
 * A push body as JSON: plain, or gzipped (`Content-Encoding: gzip`), decompressed up to
 * `maxBytes` (413 past it); a bad gzip stream is 400, another encoding 415.
 */
function pushBodyParser(maxBytes: number) {
  return (
    request: FastifyRequest,
    body: Buffer,
    done: (err: Error | null, value?: unknown) => void,
  ): void => {
    const parse = (text: Buffer) => {
      try {
        done(null, JSON.parse(text.toString('utf8')));
      } catch {
        done(
          new VigilError('bad_data', 'the body is not valid JSON', {
            code: 'request.invalid_json',
          }),
        );
      }
    };
    const encoding = String(request.headers['content-encoding'] ?? 'identity')
      .trim()
      .toLowerCase();
    if (encoding === 'identity' || encoding === '') {
      if (body.length > maxBytes)
        return done(new VigilError('payload_too_large', `the body is over ${maxBytes} bytes`));
      return parse(body);
    }
    if (encoding !== 'gzip' && encoding !== 'x-gzip')
      return done(
        new VigilError(
          'unsupported_media_type',
          `Content-Encoding ${encoding.slice(0, 32)} is not supported (gzip is)`,
        ),
      );
    gunzip(body, { maxOutputLength: maxBytes }, (err, text) => {
      if (!err) return parse(text);
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
        return done(
          new VigilError('payload_too_large', `the decompressed body is over ${maxBytes} bytes`),
        );
      done(new VigilError('bad_data', 'the body is not valid gzip', { code: 'request.bad_gzip' }));
    });
  };
}

/**
 * The log routes: agents' pushes (`POST /api/v1/agents/{id}/logs`, mutual TLS), the search
 * (`GET /api/v1/logs`), the live tail (`GET /api/v1/logs/stream`) and agents' dropped counts.
 */
export function logRoutes(
  app: App,
  deps: {
    logs: LogService;
    tail: LogTail;
    authenticator: CertificateAuthenticator;
    /** Largest push body as sent (compressed), bytes; larger is 413. */
    maxPushBytes: number;
    /** Largest push body decompressed, bytes; larger is 413. */
    maxDecompressedBytes?: number;
  },
): void {
  const { logs, tail } = deps;
  const tags = ['logs'];
  const read = { config: { access: 'logs:read' as const } };

  // A push is read whole, maybe gzipped, in a scope of its own.
  void app.register(async (plugin) => {
    const scope = plugin as unknown as App;
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser(
      'application/json',
      { parseAs: 'buffer', bodyLimit: deps.maxPushBytes },
      pushBodyParser(deps.maxDecompressedBytes ?? PUSH_LIMIT),
    );
    scope.post(
      '/api/v1/agents/:id/logs',
      {
        config: { access: 'agent' },
        bodyLimit: deps.maxPushBytes,
        schema: {
          tags,
          summary:
            'Push a batch of log lines (mutual TLS with the agent certificate; the body may be gzipped, `Content-Encoding: gzip`). Answered once the lines are committed; a batch id the agent sent before stores nothing (`duplicate: true`).',
          params: Type.Object({ id: AgentId }),
          body: LogPush,
          response: { 200: LogPushResult },
        },
      },
      async (request) => {
        const agent = await deps.authenticator.byCertificate(peerOf(request), request.params.id);
        const hostId = agent.host_id ?? null;
        const { batch_id, entries, dropped } = request.body;
        return logs.append(
          entries.map((e) => ({
            timestamp: e.timestamp,
            host_id: hostId,
            agent_id: agent.id,
            source: e.source,
            source_name: e.source_name,
            level: e.level,
            message: e.message,
            fields: e.fields ?? {},
          })),
          { agentId: agent.id, batchId: batch_id, dropped },
        );
      },
    );
  });

  app.get(
    '/api/v1/logs',
    {
      ...read,
      schema: {
        tags,
        summary:
          'Log lines, newest first (by id, the order they were stored): `agent_id`, `host_id`, `source`, `source_name`, `level` (comma-separated), `q` (words, "phrases", prefix*), `from`/`to` (ISO 8601), `limit` 1 to 1,000 (default 100), `offset` up to 100,000; for deeper pages follow `next_cursor` (`cursor`). `total` counts matches exactly up to 10,000 (`total_capped` past it).',
        querystring: Type.Object({
          ...Filters,
          limit: Type.Optional(Type.String()),
          offset: Type.Optional(Type.String()),
          cursor: Type.Optional(Type.String({ maxLength: 512 })),
        }),
        response: { 200: LogList },
      },
    },
    async (request) => {
      const params = request.query as LogParams;
      return logs.query(filterOf(params), { ...pageOf(params), cursor: params.cursor });
    },
  );

  app.get(
    '/api/v1/logs/histogram',
    {
      ...read,
      schema: {
        tags,
        summary:
          'Matches over time: the lines matching the filters of `GET /api/v1/logs` counted per interval and level (error and critical, warning, the rest). `from` defaults to a day before `to`, `to` to now; `buckets` 1 to 500 (default 60) is the most intervals: the width is the smallest of 1 s, 5 s, 10 s, 30 s, 1 m, 5 m, 15 m, 30 m, 1 h, 3 h, 6 h, 12 h, 1 d giving at most that many intervals aligned on its multiples (UTC), past a day whole seconds from `from`. Counts the newest 50,000 matches at most (`capped`).',
        querystring: Type.Object({
          ...Filters,
          buckets: Type.Optional(Type.String({ description: 'Most intervals, 1 to 500.' })),
        }),
        response: { 200: LogHistogramSchema },
      },
    },
    async (request) => {
      const { filter, buckets } = histogramOf(request.query as LogParams, Date.now());
      return logs.histogram(filter, buckets);
    },
  );

  app.get(
    '/api/v1/logs/stream',
    {
      ...read,
      schema: {
        tags,
        summary:
          'Server-Sent Events: `event: log` with a stored line (`LogEntry`) for each new line matching the filters of `GET /api/v1/logs` (`q` matched as the index matches), `id:` its id. Resumable: with `Last-Event-ID` (or `last_event_id`) the stored lines after it are sent first (at most 1,000), then the live ones. A heartbeat comment every 15 s; a reader that falls too far behind is disconnected and resumes.',
        querystring: Type.Object({
          ...Filters,
          last_event_id: Type.Optional(Type.String()),
        }),
        response: {
          200: {
            description: "Server-Sent Events; each event's `data:` is one `LogEntry`.",
            content: { 'text/event-stream': { schema: LogEntrySchema } },
          },
        },
      },
    },
    async (request, reply) => {
      const params = request.query as LogParams & { last_event_id?: string };
      const filter = filterOf(params);
      const header = request.headers['last-event-id'];
      const raw = typeof header === 'string' && header !== '' ? header : params.last_event_id;
      if (raw !== undefined && raw !== '' && !/^\d{1,15}$/.test(raw))
        throw new VigilError('bad_data', 'Last-Event-ID must be a log line id', {
          code: 'validation_failed',
        });
      const identity = request.identity!;
      await tail.attach(reply.raw, {
        identity: identity.actor.id ?? identity.username,
        filter,
        lastEventId: raw === undefined || raw === '' ? undefined : Number(raw),
        headers: { 'x-correlation-id': request.id },
      });
      // The response is the stream's from here on; Fastify must not answer it.
      return reply.hijack();
    },
  );

  app.get(
    '/api/v1/logs/dropped',
    {
      ...read,
      schema: {
        tags,
        summary:
          'Lines agents dropped before sending them, counted per agent, source and reason (`buffer_full`: their disk buffer was full; `rate_limited`: a source ran over its rate).',
        response: { 200: Type.Object({ items: Type.Array(LogDroppedSchema) }) },
      },
    },
    async () => ({ items: await logs.dropped() }),
  );

  // Streams end first, so that shutdown does not wait for them.
  app.addHook('preClose', (done) => {
    tail.close();
    done();
  });
}
