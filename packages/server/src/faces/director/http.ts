import type { FastifyReply, FastifyRequest } from 'fastify';
import { permits } from '@vigil/protocol';
import type { RequestContext } from '../../audit/service.js';
import { VigilError } from '../../errors.js';
import { phpPrettyJson, toVigilError } from '../../http/errors.js';
import type { Access, App } from '../../http/server.js';
import type { Identity } from '../../identity/model.js';

// The plumbing of the Icinga Director face (`icinga-director-rest-api.txt`): its three URL
// prefixes, the `Accept: application/json` rule, HTTP Basic or bearer authentication with
// `director:api`, PHP's pretty-printed JSON and `{"error": "…"}` for every failure.

/** The prefixes the face answers under, all alike: Director's own and Icinga Web 2's. */
export const DIRECTOR_PREFIXES = ['/director', '/icingaweb2/director', '/icingaweb/director'];

/** The permission every authenticated route of the face needs besides its own. */
export const DIRECTOR_PERMISSION = 'director:api';

/** What the face needs to know who calls. Declared here, where it is used. */
export interface DirectorAuthenticator {
  /** The identity of a bearer access token; undefined when it is not currently valid. */
  authenticate(token: string): Promise<Identity | undefined>;
  /**
   * The identity of a user name and password (HTTP Basic), behind the login throttle.
   * @throws VigilError unauthenticated for wrong credentials; too_many_requests while throttled.
   */
  authenticatePassword(
    username: string,
    password: string,
    ctx: Omit<RequestContext, 'actor'>,
  ): Promise<Identity>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * A Director route whose answers (errors included) are PHP's JSON without escaped slashes
     * and Unicode (`JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE`): self-service and
     * deployment answers. Object REST answers escape them.
     */
    directorUnescaped?: boolean;
  }
}

/** The `WWW-Authenticate` challenge of the face. */
const CHALLENGE = 'Basic realm="Icinga Director"';

// Bodies go as bytes: Fastify would add `; charset=utf-8` to a string's Content-Type, which
// Director's answers do not have.

/**
 * Answers `value` as Director's object REST handler does: `json_encode(…, JSON_PRETTY_PRINT)`
 * and a newline, `/` written `\/` and non-ASCII as `\uXXXX`, `Content-Type: application/json`.
 */
export function sendJson(reply: FastifyReply, status: number, value: unknown): FastifyReply {
  return reply
    .code(status)
    .type('application/json')
    .send(Buffer.from(phpPrettyJson(value, true)));
}

/**
 * Answers `value` as Director's self-service and deployment actions do: pretty-printed like
 * `sendJson`, but with slashes and Unicode left as they are.
 */
export function sendPlainJson(reply: FastifyReply, status: number, value: unknown): FastifyReply {
  return reply
    .code(status)
    .type('application/json')
    .send(Buffer.from(phpPrettyJson(value, false)));
}

/**
 * The status of an error on this face: its kind's, except that recreating an existing object is
 * 500, as Director's document shows it, and a request without `Accept: application/json` 406.
 */
export const directorStatus = (e: VigilError): number =>
  e.code === 'config.exists' ? 500 : e.code === 'director.not_acceptable' ? 406 : e.status;

/** Answers an error as `{"error": "…"}` in the route's JSON flavour, with its headers. */
export function sendError(request: FastifyRequest, reply: FastifyReply, e: VigilError) {
  if (e.kind === 'internal')
    request.log.error({ err: e.cause ?? e, correlation_id: request.id }, 'unhandled error');
  for (const [k, v] of Object.entries(e.headers ?? {})) void reply.header(k, v);
  const body = { error: e.kind === 'internal' ? 'Internal error' : e.message };
  return request.routeOptions.config?.directorUnescaped
    ? sendPlainJson(reply, directorStatus(e), body)
    : sendJson(reply, directorStatus(e), body);
}

/**
 * The JSON object of a request's body, read whatever its Content-Type (Director reads the raw
 * body: `curl -d` sends a form type).
 * @throws VigilError bad_data `Invalid JSON: Syntax error` when the body is missing, empty or not
 *   JSON; `Invalid JSON: an object is expected` for JSON that is not an object, and a refusal of
 *   any `__proto__` key.
 */
export function requireJsonBody(request: FastifyRequest): Record<string, unknown> {
  const raw = typeof request.body === 'string' ? request.body : '';
  let value: unknown;
  let proto = false;
  try {
    // A `__proto__` key would become an object's prototype once copied by assignment.
    value = JSON.parse(raw, (k, v: unknown) => {
      if (k === '__proto__') proto = true;
      return v;
    });
  } catch {
    throw new VigilError('bad_data', 'Invalid JSON: Syntax error', {
      code: 'director.invalid_json',
    });
  }
  if (proto)
    throw new VigilError('bad_data', 'Invalid JSON: __proto__ is not allowed as a key', {
      code: 'director.invalid_json',
    });
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new VigilError('bad_data', 'Invalid JSON: an object is expected', {
      code: 'director.invalid_json',
    });
  return value as Record<string, unknown>;
}

/**
 * Whether the request is an API request: its `Accept` names `application/json` (parameters and
 * other listed types aside). Director treats anything else as a browser's request.
 */
export function acceptsJson(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  if (typeof accept !== 'string') return false;
  return accept
    .split(',')
    .some((part) => part.split(';')[0]!.trim().toLowerCase() === 'application/json');
}

/** @throws VigilError 406 unless the request is an API request. */
function checkAccept(request: FastifyRequest): void {
  if (!acceptsJson(request))
    throw new VigilError(
      'bad_data',
      'Director API requests must send the header Accept: application/json',
      { code: 'director.not_acceptable' },
    );
}

/** The user name and password of an `Authorization: Basic` header; undefined if malformed. */
function basicCredentials(header: string): { username: string; password: string } | undefined {
  const m = /^Basic[ ]+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

const unauthenticated = (message: string, code: string): VigilError =>
  new VigilError('unauthenticated', message, { code, headers: { 'www-authenticate': CHALLENGE } });

/**
 * The face's authentication: the `Accept` rule first, then HTTP Basic (a local user's name and
 * password, throttled and audited like a login) or a bearer token, then `director:api` and the
 * route's own permission. Sets `request.identity`.
 * @throws VigilError 406, 401 with the Basic challenge, 429, or 403.
 */
export function directorAuthentication(authenticator: DirectorAuthenticator) {
  return async (request: FastifyRequest, access: string): Promise<void> => {
    checkAccept(request);
    const header = request.headers.authorization ?? '';
    let identity: Identity | undefined;
    if (/^Basic\b/i.test(header)) {
      const creds = basicCredentials(header);
      if (!creds)
        throw unauthenticated('the Basic credentials are malformed', 'auth.invalid_credentials');
      try {
        identity = await authenticator.authenticatePassword(creds.username, creds.password, {
          correlationId: request.id,
          sourceAddress: request.ip ?? null,
        });
      } catch (err) {
        const e = toVigilError(err);
        if (e.kind === 'unauthenticated') throw unauthenticated(e.message, e.code);
        throw e;
      }
    } else {
      const m = /^Bearer[ ]+([\x21-\x7e]{1,512})\s*$/i.exec(header);
      if (m) identity = await authenticator.authenticate(m[1]!);
      if (!identity)
        throw unauthenticated(
          m
            ? 'the access token is invalid, expired or revoked'
            : 'authentication required (HTTP Basic or a bearer token)',
          m ? 'auth.invalid_token' : 'auth.unauthenticated',
        );
    }
    request.identity = identity;
    if (identity.mustChangePassword)
      throw new VigilError('forbidden', 'the password was reset: change it first', {
        code: 'auth.password_change_required',
      });
    if (!permits(identity.grants, DIRECTOR_PERMISSION))
      throw new VigilError('forbidden', 'You are not allowed to access this API', {
        code: 'auth.forbidden',
      });
    if (access !== 'authenticated' && access !== DIRECTOR_PERMISSION)
      if (!permits(identity.grants, access))
        throw new VigilError('forbidden', `This operation requires the permission ${access}`, {
          code: 'auth.forbidden',
        });
  };
}

/** The methods Director's object endpoints know; any other is `Unsupported method X`. */
const DIRECTOR_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE']);

/** One route of the face, registered under every prefix. */
export interface DirectorRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | ('GET' | 'POST' | 'PUT' | 'DELETE')[];
  /** The path after the prefix: `/host`, `/hosts/templates`. */
  path: string;
  /**
   * `director:api` (or a further permission, checked beside it) for the authenticated routes;
   * `anonymous` for those that authenticate otherwise (self-service API keys), which still
   * need `Accept: application/json`.
   */
  access: Access;
  /** Answers with PHP's unescaped JSON (self-service, deployment); errors too. */
  unescaped?: boolean;
  /** Answers through `sendJson`/`sendPlainJson`, or throws a VigilError. */
  handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

/** Registers routes of the face; a module of routes takes one. */
export interface DirectorRouter {
  route(route: DirectorRoute): void;
}

/** A group of the face's routes (object endpoints, deployment, self-service). */
export type DirectorModule = (router: DirectorRouter) => void;

/**
 * Mounts the Director face: under each of `DIRECTOR_PREFIXES`, a scope that reads every body as
 * raw text (parsed by `requireJsonBody`), answers errors as `{"error": "…"}` (`sendError`), and
 * answers a method it has no route for with 400 `Unsupported method X` and an unknown path with
 * 404 (neither depends on the caller). Each module's routes are registered in every scope.
 */
export function directorFace(
  app: App,
  deps: { authenticator: DirectorAuthenticator; modules: DirectorModule[] },
): void {
  const authenticate = directorAuthentication(deps.authenticator);
  for (const prefix of DIRECTOR_PREFIXES) {
    void app.register(
      async (face) => {
        face.removeAllContentTypeParsers();
        face.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) =>
          done(null, body),
        );
        face.setErrorHandler(async (err, request, reply) =>
          sendError(request, reply, toVigilError(err)),
        );
        face.addHook('onRequest', async (request) => {
          // Anonymous routes are not authenticated, but the Accept rule holds for them too.
          if (request.routeOptions.config?.access === 'anonymous') checkAccept(request);
        });
        // Neither answer depends on the caller, so neither asks for credentials: a method Node
        // refuses (KILL) is answered before anything is read, and this one answers alike.
        face.setNotFoundHandler(async (request, reply) =>
          sendError(
            request,
            reply,
            DIRECTOR_METHODS.has(request.method)
              ? new VigilError('not_found', 'No such API endpoint found', {
                  code: 'route.not_found',
                })
              : new VigilError('bad_data', `Unsupported method ${request.method}`, {
                  code: 'director.unsupported_method',
                }),
          ),
        );
        const router: DirectorRouter = {
          route(r) {
            face.route({
              method: r.method,
              url: r.path,
              config: {
                access: r.access,
                idempotency: false,
                ...(r.access === 'anonymous' ? {} : { authenticate }),
                ...(r.unescaped ? { directorUnescaped: true } : {}),
              },
              schema: { hide: true },
              handler: r.handler,
            });
          },
        };
        for (const m of deps.modules) m(router);
      },
      { prefix },
    );
  }
}
