import { Health, TytoHealth, VersionInfo } from '@vigil/protocol';
import type { App } from '../http/server.js';
import { versionInfo } from '../version.js';
import type { HealthService } from './service.js';

/** Health and version: anonymous, for monitoring systems and load balancers. */
export function systemRoutes(app: App, deps: { health: HealthService }): void {
  app.get(
    '/api/v1/health',
    {
      config: { access: 'anonymous' },
      schema: {
        tags: ['system'],
        summary: 'Server health; 503 when the server cannot serve.',
        response: { 200: Health, 503: Health },
      },
    },
    async (_req, reply) => {
      const { body, serving } = await deps.health.health();
      return reply.code(serving ? 200 : 503).send(body);
    },
  );
  app.get(
    '/health',
    {
      config: { access: 'anonymous' },
      schema: {
        tags: ['system'],
        summary: 'Server health (Tyto shape).',
        response: { 200: TytoHealth, 503: TytoHealth },
      },
    },
    async (_req, reply) => {
      const { body, serving } = await deps.health.tytoHealth();
      return reply.code(serving ? 200 : 503).send(body);
    },
  );
  app.get(
    '/api/v1/version',
    {
      config: { access: 'anonymous' },
      schema: { tags: ['system'], summary: 'Build metadata.', response: { 200: VersionInfo } },
    },
    async () => versionInfo(),
  );
}
