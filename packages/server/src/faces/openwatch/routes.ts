import { Type } from '@sinclair/typebox';
import { VigilError } from '../../errors.js';
import type { App } from '../../http/server.js';
import { storedDocument } from '../../telemetry/query/sections.js';
import { discoveredSystemFacts, SystemInfo, systemFacts, type DiscoveredSystem } from './facts.js';

/** What OpenWatch's routes read. */
export interface OpenWatchReads {
  /** The host a path names. @throws VigilError not_found for an unknown host. */
  resolveHost(target: { host_id: string }): Promise<{ id: string }>;
  /** The newest full document stored for a host (JSON text); undefined before its first. */
  latestDocument(
    hostId: string,
  ): Promise<
    { agent_id: string; collected_at: number; received_at: number; document: string } | undefined
  >;
  /** What agentless discovery last found on a host; undefined when it never succeeded. */
  discovered(hostId: string): Promise<DiscoveredSystem | undefined>;
}

/** OpenWatch's system facts of a host. */
export function openwatchRoutes(app: App, deps: OpenWatchReads): void {
  app.get(
    '/api/v1/hosts/:id/system-info',
    {
      config: { access: 'host:read' },
      schema: {
        tags: ['telemetry'],
        summary:
          'Latest collected system facts of a host (OpenWatch): from its newest agent document, or, for a host with none, from agentless discovery (`source`).',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: { 200: SystemInfo },
      },
    },
    async (request) => {
      const host = await deps.resolveHost({ host_id: request.params.id });
      const d = await deps.latestDocument(host.id);
      if (!d) {
        const found = await deps.discovered(host.id);
        if (found) return discoveredSystemFacts(host.id, found);
        throw new VigilError('not_found', `host ${host.id} has not reported yet`, {
          code: 'host.no_data',
        });
      }
      return systemFacts(storedDocument(d.document), {
        hostId: host.id,
        agentId: d.agent_id,
        collectedAt: d.collected_at,
        receivedAt: d.received_at,
      });
    },
  );
}
