import type { App } from '../../http/server.js';
import type { MetricsRegistry } from './registry.js';

/** `GET /metrics`: Prometheus text exposition of Vigil's own health. */
export function metricsRoutes(app: App, deps: { registry: MetricsRegistry }): void {
  app.get(
    '/metrics',
    {
      config: { access: 'metrics:read' },
      schema: {
        tags: ['system'],
        summary:
          "Prometheus metrics of the server (ingest, queue, requests, database, streams); with telemetry.expose_host_metrics, every host's latest values too.",
      },
    },
    async (_request, reply) =>
      reply.type('text/plain; version=0.0.4; charset=utf-8').send(await deps.registry.render()),
  );
}
