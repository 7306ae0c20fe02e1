import { Type, type Static } from '@sinclair/typebox';

import {
  AGENT_LOG_SOURCES,
  LOG_LEVELS,
  LOG_MESSAGE_MAX,
  LOG_PUSH_MAX_ENTRIES,
} from './log-levels.js';

export * from './log-levels.js';

/** One log line as an agent pushes it. */
export const LogRecord = Type.Object(
  {
    /** When the line was written, epoch milliseconds. */
    timestamp: Type.Integer({ minimum: 0 }),
    source: Type.Union(AGENT_LOG_SOURCES.map((s) => Type.Literal(s))),
    /** The unit (`nginx.service`), file path or container name the line comes from. */
    source_name: Type.String({ minLength: 1, maxLength: 512 }),
    level: Type.Union(LOG_LEVELS.map((l) => Type.Literal(l))),
    message: Type.String({ maxLength: LOG_MESSAGE_MAX }),
    /** Structured fields of the line (the journal's `_PID`, a container id…), as text. */
    fields: Type.Optional(
      Type.Record(Type.String({ maxLength: 128 }), Type.String({ maxLength: 4_096 }), {
        maxProperties: 64,
      }),
    ),
  },
  { additionalProperties: false },
);
/** One log line as an agent pushes it. */
export type LogRecord = Static<typeof LogRecord>;

/** Lines an agent dropped before sending them: its disk buffer was full, or a source ran over its rate. */
export const LogDropped = Type.Object(
  {
    source: Type.Union(AGENT_LOG_SOURCES.map((s) => Type.Literal(s))),
    source_name: Type.String({ minLength: 1, maxLength: 512 }),
    reason: Type.Union([Type.Literal('buffer_full'), Type.Literal('rate_limited')]),
    count: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);
/** Lines an agent dropped before sending them. */
export type LogDropped = Static<typeof LogDropped>;

/**
 * A batch of log lines (`POST /api/v1/agents/{id}/logs`, mutual TLS, the body may be gzipped
 * with `Content-Encoding: gzip`). `batch_id` makes a resent batch a no-op: the agent resends a
 * batch it got no answer for under the same id.
 */
export const LogPush = Type.Object(
  {
    batch_id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' }),
    entries: Type.Array(LogRecord, { maxItems: LOG_PUSH_MAX_ENTRIES }),
    dropped: Type.Optional(Type.Array(LogDropped, { maxItems: 1_000 })),
  },
  { additionalProperties: false },
);
/** A batch of log lines an agent pushes. */
export type LogPush = Static<typeof LogPush>;

/** The answer to a log push, sent once its lines are committed. */
export const LogPushResult = Type.Object({
  /** Lines stored from this batch (0 for a batch already stored). */
  accepted: Type.Integer({ minimum: 0 }),
  /** True when this batch id was stored before: nothing was stored again. */
  duplicate: Type.Boolean(),
});
/** The answer to a log push. */
export type LogPushResult = Static<typeof LogPushResult>;
