import { Type, type Static } from '@sinclair/typebox';

const Iso = Type.String({ format: 'date-time' });
const IsoOrNull = Type.Union([Iso, Type.Null()]);

/** A job's state: `queued` (waiting for its `run_at`), `running`, `succeeded`, or `dead`. */
export const JobStateSchema = Type.Union(
  [
    Type.Literal('queued'),
    Type.Literal('running'),
    Type.Literal('succeeded'),
    Type.Literal('dead'),
  ],
  { title: 'JobState' },
);

const itemFields = {
  id: Type.String(),
  kind: Type.String({ description: 'The handler that does it, e.g. `notification.deliver`.' }),
  state: JobStateSchema,
  attempts: Type.Integer({ description: 'Attempts made so far.' }),
  max_attempts: Type.Integer({ description: 'Attempts before the job is dead.' }),
  run_at: Type.String({ format: 'date-time', description: 'When it runs (next).' }),
  last_error: Type.Union([Type.String(), Type.Null()], {
    description: 'Why the last failed attempt failed.',
  }),
  created_at: Iso,
  updated_at: Iso,
  finished_at: IsoOrNull,
};

/** A job as listed. */
export const JobItemSchema = Type.Object(itemFields, { title: 'JobItem' });

/** One job with its payload. */
export const JobDetailSchema = Type.Object(
  {
    ...itemFields,
    payload: Type.Unknown({ description: 'What the handler is given (JSON).' }),
    dedup_key: Type.Union([Type.String(), Type.Null()]),
    locked_by: Type.Union([Type.String(), Type.Null()], {
      description: 'The worker running it.',
    }),
    locked_until: IsoOrNull,
  },
  { title: 'JobDetail' },
);

/** A page of jobs, newest first; follow `next_cursor` until it is null. */
export const JobPageSchema = Type.Object(
  { items: Type.Array(JobItemSchema), next_cursor: Type.Union([Type.String(), Type.Null()]) },
  { title: 'JobPage' },
);

/** The filters of `GET /api/v1/jobs`. */
export const JobQuerySchema = Type.Object(
  {
    state: Type.Optional(JobStateSchema),
    kind: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);

/** The filters of `GET /api/v1/jobs`, as parsed. */
export type JobQuery = Static<typeof JobQuerySchema>;
