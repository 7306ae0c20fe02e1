import { Type } from '@sinclair/typebox';
import { contextOf } from '../http/context.js';
import type { App } from '../http/server.js';
import { JobDetailSchema, JobPageSchema, JobQuerySchema } from './schemas.js';
import type { JobService } from './service.js';

const tags = ['jobs'];
/** A job id; the `:retry` suffix is not part of it. */
const ID = '(^[^:/]+)';
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/** The job queue (`/api/v1/jobs`): list and read jobs, and retry a failed one by hand. */
export function jobRoutes(app: App, deps: { jobs: JobService }): void {
  const { jobs } = deps;
  app.get(
    '/api/v1/jobs',
    {
      config: { access: 'jobs:read' },
      schema: {
        tags,
        summary: 'List jobs, newest first, by state and kind; follow next_cursor for older ones.',
        querystring: JobQuerySchema,
        response: { 200: JobPageSchema },
      },
    },
    async (request) => jobs.list(request.query),
  );
  app.get(
    `/api/v1/jobs/:id${ID}`,
    {
      config: { access: 'jobs:read' },
      schema: {
        tags,
        summary: 'One job, with its payload.',
        params: IdParams,
        response: { 200: JobDetailSchema },
      },
    },
    async (request) => jobs.get(request.params.id),
  );
  app.post(
    `/api/v1/jobs/:id${ID}::retry`,
    {
      config: { access: 'jobs:write' },
      schema: {
        tags,
        summary:
          'Run a dead job (or one waiting after a failed attempt) again now, with its attempts reset; 409 job.not_retryable for a running or succeeded one.',
        params: IdParams,
        response: { 200: JobDetailSchema },
      },
    },
    async (request) => jobs.retry(request.params.id, contextOf(request)),
  );
}
