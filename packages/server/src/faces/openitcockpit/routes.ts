import { isRecord } from '@vigil/protocol/guards';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EnrollmentService } from '../../agents/enrollment.js';
import { hasNoData, type AgentIntake } from '../../agents/intake.js';
import { ingestTarget, type AgentRow } from '../../agents/model.js';
import { originOf } from '../../http/context.js';
import { jsonBodyParser, toVigilError } from '../../http/errors.js';
import { parsePushBody } from '@vigil/protocol/decode';
import type { App } from '../../http/server.js';
import { safeEqual } from '../../secrets/tokens.js';
import { registerOitc } from './registration.js';

// The openITCOCKPIT agent connector (`openitcockpit-agent-api.txt`, "openITCOCKPIT API
// Endpoints"), reproduced exactly: errors are `{"error": "…"}`, a wrong method is openITCOCKPIT's
// CakePHP 405 body with its escaped slashes, and the messages (typo included) are theirs, because
// agents in the field log them and operators search for them.

const MISSING = 'Field uuid or password is missing in POST data';
const ALREADY = 'The given UUID is already registed with a password!';
const NO_AGENT = 'No Agent found for given UUID and password';
const INVALID = 'Invalid credentials or host not found';

/** What the face needs from the configuration. */
export interface OitcFaceOptions {
  /**
   * When non-empty, requests must carry `Authorization: X-OITC-API <key>`; without it they get
   * openITCOCKPIT's 405, which its agents report as a wrong API key.
   */
  apiKey: string;
  /** Largest accepted body (`agents.max_document_bytes`); larger ones get 413. */
  bodyLimitBytes: number;
}

/** The agent authenticator the push routes ask (enrollment). Declared here, where it is used. */
export interface PasswordAuthenticator {
  /**
   * The approved password agent (openITCOCKPIT push) with these credentials and a host, else
   * undefined; from a cache on the hot path.
   */
  byPassword(id: string, password: string): Promise<AgentRow | undefined>;
}

/** Telemetry's ingest entry point, as the submit route uses it. Declared here, where it is used. */
export interface SubmitIngest {
  /**
   * Validates, normalises and stores one document of an agent on a host, collected at the time
   * the document says (`collectedAt` undefined: its `agent.last_updated_timestamp`, else now).
   * Resolves once it is committed and the subscribers of its ingest event (the agent's facts)
   * have taken it in.
   * @throws VigilError bad_data naming the first bad path; nothing is stored then.
   */
  ingest(
    target: { agentId: string; hostId: string },
    collectedAt: number | undefined,
    document: unknown,
  ): Promise<{ received_checks: number }>;
}

/** PHP's json_encode escapes every slash; openITCOCKPIT's bodies therefore do too. */
const phpJson = (value: unknown): string => JSON.stringify(value).replace(/\//g, '\\/');

/**
 * A document field of a push body as an object: agents 3.x send it as JSON (a raw message),
 * agents before 3.0 as a string holding JSON. Undefined when it is neither.
 */
function documentField(v: unknown): Record<string, unknown> | undefined {
  if (isRecord(v)) return v;
  if (typeof v !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(v);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The openITCOCKPIT push protocol under `/agentconnector`. */
export function openitcockpitFace(
  app: App,
  deps: {
    /** Registration (`register_agent.json`). */
    enrollment: Pick<EnrollmentService, 'passwordStanding' | 'registerWithPassword'>;
    authenticator: PasswordAuthenticator;
    ingest: SubmitIngest;
    /** Contacts without data and package inventories. */
    intake: Pick<AgentIntake, 'recordContact' | 'submitInventory'>;
    options: OitcFaceOptions;
  },
): void {
  const { enrollment, authenticator, ingest, intake, options } = deps;

  void app.register(async (face) => {
    face.removeContentTypeParser('application/json');
    face.addContentTypeParser(
      'application/json',
      { parseAs: 'string', bodyLimit: options.bodyLimitBytes },
      jsonBodyParser(parsePushBody),
    );
    face.setErrorHandler(async (err, request, reply) => {
      const e = toVigilError(err);
      if (e.kind === 'internal')
        request.log.error({ err, correlation_id: request.id }, 'unhandled error');
      const message = e.kind === 'internal' ? 'Internal error' : e.message;
      return reply
        .code(e.status)
        .type('application/json')
        .send(phpJson({ error: message }));
    });

    const fail = (reply: FastifyReply, status: number, error: string) =>
      reply.code(status).type('application/json').send(phpJson({ error }));

    /** openITCOCKPIT's CakePHP 405 body for `url`. */
    const methodNotAllowed = (reply: FastifyReply, url: string) =>
      reply
        .code(405)
        .type('application/json')
        .send(phpJson({ message: 'Method Not Allowed', url, code: 405 }));

    /**
     * Checks the API key header when one is configured; answers and returns false if wrong.
     * openITCOCKPIT answers a missing or wrong key with its 405 (its agents log "authentication
     * error (probably incorrect api key)" for exactly that status), so Vigil does too.
     */
    const apiKeyOk = (request: FastifyRequest, reply: FastifyReply, url: string): boolean => {
      if (options.apiKey === '') return true;
      const m = /^X-OITC-API\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
      if (m && safeEqual(m[1]!, options.apiKey)) return true;
      void methodNotAllowed(reply, url);
      return false;
    };

    const credentials = (body: unknown): { agentuuid: string; password: string } | undefined => {
      if (!isRecord(body)) return undefined;
      const { agentuuid, password } = body;
      if (typeof agentuuid !== 'string' || typeof password !== 'string') return undefined;
      return { agentuuid, password };
    };

    const endpoint = (
      name: string,
      handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
    ) => {
      const url = `/agentconnector/${name}`;
      face.post(
        url,
        {
          config: { access: 'anonymous' },
          bodyLimit: options.bodyLimitBytes,
          schema: { hide: true },
        },
        async (request, reply) => {
          if (!apiKeyOk(request, reply, url)) return reply;
          return handler(request, reply);
        },
      );
      face.route({
        method: ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
        url,
        config: { access: 'anonymous' },
        schema: { hide: true },
        handler: async (_request, reply) => methodNotAllowed(reply.header('allow', 'POST'), url),
      });
    };

    endpoint('register_agent.json', async (request, reply) => {
      const body = request.body;
      const creds = credentials(body);
      if (!creds) return fail(reply, 400, MISSING);
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(creds.agentuuid))
        return fail(reply, 400, 'Field agentuuid must be a UUID');
      const b = body as Record<string, unknown>;
      const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
      const r = await registerOitc(
        enrollment,
        { ...creds, hostname: str(b.hostname), ipaddress: str(b.ipaddress) },
        originOf(request),
      );
      switch (r.outcome) {
        case 'created':
          return reply
            .code(201)
            .type('application/json')
            .send(phpJson({ agentuuid: r.agentuuid, password: r.password }));
        case 'ok':
          return reply
            .code(200)
            .type('application/json')
            .send(phpJson({ agentuuid: r.agentuuid, password: r.password, success: true }));
        case 'already_registered':
          return fail(reply, 403, ALREADY);
        default:
          return fail(reply, 404, NO_AGENT);
      }
    });

    // Agents 3.x post their package inventory here too, with `?type=packagemanager` and the
    // inventory under `checkdata` (`pushclient/push.go`, submitSoftwareInventoryData). The
    // openITCOCKPIT server reads no `type` and answers every post as check data; Vigil stores
    // the inventory as the inventory instead, so that it does not replace the host's current
    // values, and answers as openITCOCKPIT does. Any other `type` is check data, as there.
    endpoint('submit_checkdata.json', async (request, reply) => {
      const creds = credentials(request.body);
      if (!creds) return fail(reply, 400, INVALID);
      const agent = await authenticator.byPassword(creds.agentuuid, creds.password);
      if (!agent) return fail(reply, 400, INVALID);
      const checkdata = documentField((request.body as Record<string, unknown>).checkdata);
      if (!checkdata) return fail(reply, 400, 'Field checkdata is missing in POST data');
      const { type } = request.query as Record<string, unknown>;
      if (type === 'packagemanager') {
        await intake.submitInventory(agent, checkdata);
        return reply
          .code(200)
          .type('application/json')
          .send(phpJson({ success: true, received_checks: 0 }));
      }
      let received = 0;
      // A document without data is a contact, not a push: the host keeps its values.
      if (hasNoData(checkdata)) await intake.recordContact(agent);
      else
        received = (await ingest.ingest(ingestTarget(agent), undefined, checkdata)).received_checks;
      return reply
        .code(200)
        .type('application/json')
        .send(phpJson({ received_checks: received }));
    });

    // The package inventory (the agent's `GET /packages` answer) on a route of its own, for
    // clients that do not use `submit_checkdata.json?type=packagemanager`: the inventory under
    // `checkdata`, as agents 3.x send it there, or under `packageinfo` or `packages`.
    endpoint('submit_package_info.json', async (request, reply) => {
      const creds = credentials(request.body);
      if (!creds) return fail(reply, 400, INVALID);
      const agent = await authenticator.byPassword(creds.agentuuid, creds.password);
      if (!agent) return fail(reply, 400, INVALID);
      const b = request.body as Record<string, unknown>;
      const inventory = documentField(b.checkdata ?? b.packageinfo ?? b.packages);
      if (!inventory) return fail(reply, 400, 'Field checkdata is missing in POST data');
      await intake.submitInventory(agent, inventory);
      return reply
        .code(200)
        .type('application/json')
        .send(phpJson({ success: true }));
    });
  });
}
