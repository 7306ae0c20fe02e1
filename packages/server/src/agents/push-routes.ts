import { Type } from '@sinclair/typebox';
import {
  AgentId,
  type ComplianceDelivery,
  NativePush,
  NativePushResult,
  PackageInventory,
  type DeployedCheck,
} from '@vigil/protocol';
import { parsePushBody } from '@vigil/protocol/decode';
import { jsonBodyParser, plainJsonParser } from '../http/errors.js';
import type { App } from '../http/server.js';
import type { AgentIntake } from './intake.js';
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

/**
 * The checks the active deployment gives a host, as the push answer carries them to its agents.
 * Declared here, where it is used; the deployments domain implements it.
 */
export interface DeployedChecks {
  /**
   * The checks of host `hostId` in the active deployment, with a checksum that changes whenever
   * they do; null when there is no active deployment. Commands are argument vectors with every
   * macro resolved. Called on every push: it must answer from memory or one indexed read.
   */
  forHost(hostId: string): Promise<{ checksum: string; checks: DeployedCheck[] } | null>;
}

/**
 * The compliance packs assigned to a host, as the push answer carries them to its agents.
 * Declared here, where it is used; the compliance domain implements it.
 */
export interface ComplianceDeliveries {
  /**
   * The checksum of the packs assigned to host `hostId` ('' for none), the interval to evaluate
   * them at, and the packs themselves when `held` (the push's `compliance_checksum`) differs from
   * that checksum. Called on every push: it must answer from memory.
   */
  forHost(hostId: string, held: string | undefined): Promise<ComplianceDelivery>;
}

/** Largest check-data document accepted when the caller names no limit. */
const CHECKDATA_LIMIT = 16 * 1024 * 1024;

/**
 * The native push (`POST /api/v1/agents/{id}/checkdata`, mutual TLS): the agent is
 * authenticated by its certificate, its document goes to telemetry's ingest, and the answer
 * carries the commands queued for it, the interval it is to collect at, the checks the active
 * deployment gives its host and the compliance packs assigned to it. Each finished package
 * scan comes on a route of its own (`POST /api/v1/agents/{id}/packages`, same authentication),
 * stored through the intake; it answers 204.
 */
export function agentPushRoutes(
  app: App,
  deps: {
    authenticator: CertificateAuthenticator;
    ingest: PushIngest;
    /** Stores the package inventories agents push (a pending one keeps the stored one). */
    intake: Pick<AgentIntake, 'submitInventory'>;
    /** Hands out the commands queued for a native agent: the answer carries them. */
    takeCommands(agentId: string): NativePushResult['commands'];
    /**
     * The collection interval the answer tells the agent, asked once the push's facts are
     * recorded: the fleet-wide one, else the one its document reports, else the agent's own.
     */
    interval(agent: AgentRow, document: unknown): Promise<number>;
    /** The checks the active deployment gives each host: the answer carries the agent's host's. */
    deployedChecks: DeployedChecks;
    /** The compliance packs assigned to each host: the answer carries the agent's host's. */
    compliance: ComplianceDeliveries;
    /**
     * Largest check-data or package inventory push body, in bytes (`agents.max_document_bytes`);
     * larger is 413.
     */
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
        const { collected_at, checkdata, compliance_checksum } = request.body;
        const target = ingestTarget(agent);
        const outcome = await ingest.ingest(target, collected_at, checkdata);
        const deployed = await deps.deployedChecks.forHost(target.hostId);
        const compliance = await deps.compliance.forHost(target.hostId, compliance_checksum);
        return {
          received_checks: outcome.received_checks,
          duplicate: outcome.duplicate,
          interval_seconds: await deps.interval(agent, checkdata),
          commands: deps.takeCommands(agent.id),
          // No deployment: nothing to run, and the agent stops what it ran before.
          checks: deployed?.checks ?? [],
          checks_checksum: deployed?.checksum ?? '',
          compliance,
        };
      },
    );
  });

  // A package inventory is read whole (plain JSON.parse), in a scope of its own.
  void app.register(async (plugin) => {
    const scope = plugin as unknown as App;
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser(
      'application/json',
      { parseAs: 'string', bodyLimit: checkdataLimit },
      plainJsonParser,
    );
    scope.post(
      '/api/v1/agents/:id/packages',
      {
        config: { access: 'agent' },
        bodyLimit: checkdataLimit,
        schema: {
          tags: ['agents'],
          summary:
            "Push a finished package scan, the agent's `GET /packages` answer (mutual TLS with the agent certificate).",
          params: Type.Object({ id: AgentId }),
          body: PackageInventory,
          response: { 204: { type: 'null' } },
        },
      },
      async (request, reply) => {
        const agent = await authenticator.byCertificate(peerOf(request), request.params.id);
        await deps.intake.submitInventory(agent, request.body);
        return reply.code(204).send();
      },
    );
  });
}
