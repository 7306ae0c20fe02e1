import { AuditPage, AuditQuery } from '@vigil/protocol';
import type { App } from '../http/server.js';
import type { AuditService } from './service.js';

/** The audit log, newest first, cursor-paginated. */
export function auditRoutes(app: App, deps: { audit: AuditService }): void {
  app.get(
    '/api/v1/audit/events',
    {
      config: { access: 'audit:read' },
      schema: {
        tags: ['audit'],
        summary: 'List audit events, newest first; follow next_cursor for older ones.',
        querystring: AuditQuery,
        response: { 200: AuditPage },
      },
    },
    async (request) => deps.audit.list(request.query),
  );
}
