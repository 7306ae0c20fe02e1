import { Type } from '@sinclair/typebox';
import { AgentId, NativePush, NativePushResult } from '@vigil/protocol';
import { parsePushBody } from '@vigil/protocol/decode';
import { jsonBodyParser } from '../http/errors.js';
import type { App } from '../http/server.js';
import { ingestTarget, type AgentRow, type PeerCertificate } from './model.js';
import { peerOf } from './routes.js';

/** The agent authenticator the push route asks (enrollment). Declared here, where it is used. */
export interface CertificateAuthenticator {
  /**
   * The approved native agent that owns a client certificate, from a cache on the hot path.
   * @throws VigilError unauthenticated (no, invalid or unknown certificate), forbidden
   *   (revoked, or `expectedId` names another agent).
   */
  byCertificate(peer: PeerCertificate, expectedId?: string): Promise<AgentRow>;
}

/** Telemetry's ingest entry point, as the push route uses it. Declared here, where it is used. */
export interface PushIngest {
  /**
   * Validates, normalises and stores one document of an agent on a host, collected at
   * `collectedAt` (epoch ms). Resolves once it is committed and the subscribers of its ingest
   * event (the agent's facts) have taken it in.
   * @throws VigilError bad_data naming the first bad path; nothing is stored then.
   */
  ingest(
    target: { agentId: string; hostId: string },
    collectedAt: number,
    document: unknown,
  ): Promise<{ received_checks: number; duplicate: boolean }>;
}

/** Largest check-data document accepted when the caller names no limit. */
const CHECKDATA_LIMIT = 16 * 1024 * 1024;

/**
 * The native push (`POST /api/v1/agents/{id}/checkdata`, mutual TLS): the agent is
 * authenticated by its certificate, its document goes to telemetry's ingest, and the answer
 * carries the commands queued for it and the interval it is to collect at.
 */
export function agentPushRoutes(
  app: App,
  deps: {
    authenticator: CertificateAuthenticator;
    ingest: PushIngest;
    /** Hands out the commands queued for a native agent: the answer carries them. */
    takeCommands(agentId: string): NativePushResult['commands'];
    /**
     * The collection interval the answer tells the agent, asked once the push's facts are
     * recorded: the fleet-wide one, else the one its document reports, else the agent's own.
     */
    interval(agent: AgentRow, document: unknown): Promise<number>;
    /** Largest check-data push body, in bytes (`agents.max_document_bytes`); larger is 413. */
    maxDocumentBytes?: number;
  },
): void {
  const { authenticator, ingest } = deps;
  const checkdataLimit = deps.maxDocumentBytes ?? CHECKDATA_LIMIT;

  // Check data is parsed with plain JSON.parse (see plainJsonParser), its process list checked
  // but kept as text (see parsePushBody), in a scope of its own.
  void app.register(async (plugin) => {
    const scope = plugin as unknown as App;
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser(
      'application/json',
      { parseAs: 'string', bodyLimit: checkdataLimit },
      jsonBodyParser(parsePushBody),
    );
    scope.post(
      '/api/v1/agents/:id/checkdata',
      {
        config: { access: 'agent' },
        bodyLimit: checkdataLimit,
        schema: {
          tags: ['agents'],
          summary: 'Push a check-data document (mutual TLS with the agent certificate).',
          params: Type.Object({ id: AgentId }),
          body: NativePush,
          response: { 200: NativePushResult },
        },
      },
      async (request) => {
        const agent = await authenticator.byCertificate(peerOf(request), request.params.id);
        const { collected_at, checkdata } = request.body;
        const outcome = await ingest.ingest(ingestTarget(agent), collected_at, checkdata);
        return {
          received_checks: outcome.received_checks,
          duplicate: outcome.duplicate,
          interval_seconds: await deps.interval(agent, checkdata),
          commands: deps.takeCommands(agent.id),
        };
      },
    );
  });
}
