import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { isKnownPermission, TLS12_AEAD_CIPHERS } from '@vigil/protocol';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyContextConfig,
  type FastifyReply,
  type FastifyRequest,
  type FastifyInstance,
  type RawServerDefault,
} from 'fastify';
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import FindMyWay from 'find-my-way';
import type { Logger } from 'pino';
import { VigilError } from '../errors.js';
import type { Identity } from '../identity/model.js';
import {
  clientErrorResponse,
  errorBody,
  faceOf,
  rawErrorResponse,
  requestLineOf,
  toVigilError,
  unknownMethodError,
} from './errors.js';
import { createRequestAuthentication, type Authenticator } from './authenticate.js';
import type { Idempotency, IdempotencyMode } from './idempotency.js';
import { openapiPath, registerOpenApi } from './openapi.js';

/**
 * Who may call a route: anyone (`anonymous`), any authenticated caller (`authenticated`), an
 * agent proving itself with its client certificate (`agent`, checked by the route's service), or
 * a caller holding the named permission from the registry.
 */
export type Access = 'anonymous' | 'authenticated' | 'agent' | (string & {});

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Every route declares its access; registration fails without it. */
    access?: Access;
    /** Reachable by a user who must change their password first (the change itself, logout). */
    passwordChange?: boolean;
    /**
     * `Idempotency-Key`: every authenticated POST accepts it ('optional', the default); 'required'
     * refuses a request without one (400); false turns it off.
     */
    idempotency?: IdempotencyMode | false;
    /**
     * The route's own authentication, in place of bearer tokens and the session cookie (a face
     * with its own scheme, such as Director's HTTP Basic): it sets `request.identity` and checks
     * `access`, throwing as the standard one does.
     */
    authenticate?: (request: FastifyRequest, access: string) => Promise<void>;
  }
  interface FastifyRequest {
    identity?: Identity;
  }
}

/** The Fastify instance with the TypeBox type provider, as routes see it. */
export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** TLS settings of the listener: its certificate, and the CA that client certificates chain to. */
export interface HttpsOptions {
  cert: string;
  key: string;
  /** When set, clients may present a certificate issued by this CA (agents' mutual TLS). */
  ca?: string;
}

/** What the HTTP layer is assembled from. */
export interface HttpOptions {
  logger: Logger;
  authenticator: Authenticator;
  /** Keeps answers for `Idempotency-Key` retries; without it the header is ignored. */
  idempotency?: Idempotency;
  bodyLimitBytes: number;
  version: string;
  https?: HttpsOptions;
  /** Registers the routes of every domain and face. */
  routes: (app: App) => void;
  /** Told of every answered request (for the request-duration histogram). */
  onRequestDone?: (method: string, route: string, status: number, seconds: number) => void;
  /**
   * What answers the requests no route matched that it `handles` (the web console), before they
   * become 404 or 405.
   */
  fallback?: {
    handles(method: string, urlPath: string): boolean;
    serve(request: FastifyRequest, reply: FastifyReply, urlPath: string): Promise<unknown>;
  };
}

/**
 * The listener's protocol versions and TLS 1.2 suites: Mozilla's "intermediate" profile, TLS 1.3
 * (all of its suites are AEAD) and the ECDHE AEAD suites of TLS 1.2 only. Node's own default
 * list also offers CBC suites with SHA-1 MACs, CCM8 and ARIA, which no current client needs.
 */
export const TLS_POLICY = {
  minVersion: 'TLSv1.2',
  ciphers: TLS12_AEAD_CIPHERS,
} as const;

/** One route as registered: its methods and its URL pattern (find-my-way syntax). */
export interface RouteEntry {
  readonly method: string;
  readonly url: string;
}

const routeTables = new WeakMap<object, RouteEntry[]>();

/**
 * Every route of an application built by `buildHttp`, each method on its own, in registration
 * order: what a client can reach, including the routes the OpenAPI document hides.
 */
export const routeTable = (app: App): readonly RouteEntry[] => routeTables.get(app) ?? [];

const CORRELATION = /^[\x20-\x7e]{1,128}$/;
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** Takes a well-formed correlation id from the client, or makes one. */
export function correlationIdFor(header: string | string[] | undefined): string {
  const v = Array.isArray(header) ? header[0] : header;
  return v !== undefined && CORRELATION.test(v) && v.trim() === v ? v : randomUUID();
}

/**
 * Builds the HTTP application: error envelopes, correlation ids, request logs, authentication
 * and permission checks, 404/405, body limits and the OpenAPI document. Domain routes come in
 * through `options.routes`.
 */
/**
 * A validator of text parts (query, params, headers) that also refuses numbers that are not
 * finite: coercion turns `-1e999` or 400 nines into an infinity, which the schema's integer,
 * minimum and maximum checks let through, and which no query can use.
 */
function finiteOnly(validate: ValidateFunction): ValidateFunction {
  const checked = ((data: unknown) => {
    if (!validate(data)) {
      checked.errors = validate.errors;
      return false;
    }
    if (data && typeof data === 'object')
      for (const [key, value] of Object.entries(data))
        if (typeof value === 'number' && !Number.isFinite(value)) {
          checked.errors = [
            {
              keyword: 'type',
              instancePath: `/${key}`,
              schemaPath: '#/type',
              params: {},
              message: 'must be a finite number',
            },
          ];
          return false;
        }
    checked.errors = null;
    return true;
  }) as ValidateFunction;
  return checked;
}

export async function buildHttp(options: HttpOptions): Promise<App> {
  // Every route's methods, for `Allow` on 405 answers (including those Node gives before routing).
  const router = FindMyWay();
  const allowedOn = (path: string): string[] =>
    HTTP_METHODS.filter((m) => router.find(m as never, path) !== null);
  /** Set when shutdown begins: new requests get 503 in their face's format. */
  let closing = false;
  /**
   * The start of what each connection received first: the request line of a request Node refuses
   * once its start has gone by (headers over 16 KB arrive in several reads), to pick the face.
   */
  const firstBytes = new WeakMap<object, Buffer>();
  /** Writes a complete response and closes the socket, destroying it if the peer lingers. */
  const endWith = (socket: Duplex, response: string) => {
    socket.end(response);
    setTimeout(() => socket.destroy(), 2000).unref();
  };

  /** Sets the status and headers of an error answer and returns its body in the face's format. */
  const answerError = (request: FastifyRequest, reply: FastifyReply, e: VigilError) => {
    void reply
      .code(e.status)
      .header('x-correlation-id', request.id)
      .header('cache-control', 'no-store');
    for (const [k, v] of Object.entries(e.headers ?? {})) void reply.header(k, v);
    void reply.type('application/json; charset=utf-8');
    return errorBody(faceOf(request.url), e, request.id);
  };

  const app = Fastify({
    loggerInstance: options.logger,
    logController: new LogController({
      disableRequestLogging: true,
      requestIdLogLabel: 'correlation_id',
    }),
    requestIdHeader: false,
    genReqId: (req) => correlationIdFor(req.headers['x-correlation-id']),
    bodyLimit: options.bodyLimitBytes,
    // Shutdown's 503 comes from the onRequest hook below, in the face's format; Fastify's own is
    // its default body.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // A URL that is not validly percent-encoded, or a path parameter over 100 characters: 400,
    // in the face's format instead of Fastify's default body.
    frameworkErrors: (err, request, reply) => {
      void reply.send(answerError(request, reply, toVigilError(err)) as never);
    },
    // Requests Node refuses before routing (an unknown method, headers over 16 KB, a malformed
    // request line or header): a complete answer in the format of the face the request line
    // names, written to the socket, which is then closed.
    clientErrorHandler: (err: Error & { code?: string }, socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      if (socket.writable)
        endWith(socket, clientErrorResponse(err, randomUUID(), allowedOn, firstBytes.get(socket)));
      else socket.destroy();
    },
    // A request without Host is answered 400 by the onRequest hook, in the face's format; Node's
    // own answer has no body.
    http: { requireHostHeader: false },
    // A client certificate is asked for but not required: people and scripts use tokens, agents
    // their certificate, and the routes that need one check it themselves.
    ...(options.https
      ? {
          https: {
            ...TLS_POLICY,
            requireHostHeader: false,
            cert: options.https.cert,
            key: options.https.key,
            ...(options.https.ca
              ? { ca: options.https.ca, requestCert: true, rejectUnauthorized: false }
              : {}),
          },
        }
      : {}),
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  // Query strings, path parameters and headers are text, so their values are coerced to the
  // schema's types; JSON bodies are typed already and must match exactly (`"5"` is not 5).
  // ajv-formats is CommonJS; its function is the module's `default` property under NodeNext.
  const addFormats = ajvFormats.default;
  const validators = {
    text: addFormats(
      new Ajv({
        coerceTypes: 'array',
        useDefaults: true,
        removeAdditional: false,
        allErrors: false,
      }),
    ),
    body: addFormats(
      new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false }),
    ),
  };
  app.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === 'body'
      ? validators.body.compile(schema)
      : finiteOnly(validators.text.compile(schema)),
  );

  // Only JSON bodies on this face; anything else is 415.
  app.removeContentTypeParser('text/plain');

  /** How a route's POST takes `Idempotency-Key`; undefined when it does not. */
  const idempotencyOf = (config: FastifyContextConfig | undefined): IdempotencyMode | undefined => {
    if (config?.idempotency === false) return undefined;
    if (config?.access === undefined || config.access === 'anonymous' || config.access === 'agent')
      return undefined;
    return config.idempotency ?? 'optional';
  };
  // Route hooks, on the routes that take the header only: as hooks of every route they would
  // cost each request (an agent's push, a health check) two promises for nothing.
  const idem = options.idempotency;
  const idempotencyBefore = async (request: FastifyRequest, reply: FastifyReply) => {
    const mode = request.method === 'POST' ? idempotencyOf(request.routeOptions.config) : undefined;
    if (mode && (await idem!.before(request, reply, mode))) return reply;
  };
  const idempotencyAfter = async (
    request: FastifyRequest,
    reply: FastifyReply,
    payload: unknown,
  ) => {
    if (request.idempotencyClaim) await idem!.after(request, reply, payload);
    return payload;
  };
  /** A route option that takes one value or several, as a list. */
  const listOf = <T>(v: T | T[] | undefined): T[] =>
    v === undefined ? [] : Array.isArray(v) ? v : [v];

  const accessByOperation = new Map<string, Access>();
  const authenticate = createRequestAuthentication(options.authenticator);
  const routes: RouteEntry[] = [];
  routeTables.set(app, routes);
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/v1/docs'))
      route.config = { ...route.config, access: 'anonymous' };
    const access = route.config?.access;
    if (access === undefined)
      throw new Error(`route ${route.method} ${route.url} declares no access`);
    if (
      access !== 'anonymous' &&
      access !== 'authenticated' &&
      access !== 'agent' &&
      !isKnownPermission(access)
    )
      throw new Error(`route ${route.url} requires unknown permission ${access}`);
    const methods = listOf(route.method);
    if (idem && methods.includes('POST') && idempotencyOf(route.config) !== undefined) {
      route.preHandler = [
        idempotencyBefore,
        ...listOf(route.preHandler),
      ] as typeof route.preHandler;
      route.onSend = [idempotencyAfter, ...listOf(route.onSend)] as typeof route.onSend;
    }
    for (const m of methods) {
      routes.push({ method: m, url: route.url });
      if (!router.hasRoute(m as never, route.url))
        router.on(m as never, route.url, () => undefined);
      accessByOperation.set(`${m.toLowerCase()} ${openapiPath(route.url)}`, access);
    }
  });

  // Requests log through the root logger with their correlation id as a field: a child logger
  // per request would cost an allocation on every call, health checks included.
  app.setChildLoggerFactory((logger) => logger);

  // Callback-style hooks: anonymous requests (health checks, the busiest path) pass through
  // without allocating a promise.
  app.addHook('onRequest', (request, reply, done) => {
    if (closing)
      return done(
        new VigilError('unavailable', 'the server is shutting down', {
          code: 'service.shutting_down',
          headers: { connection: 'close' },
        }),
      );
    if (request.headers.host === undefined && request.raw.httpVersion === '1.1')
      return done(
        new VigilError('bad_data', 'an HTTP/1.1 request needs a Host header (RFC 9112 §3.2)', {
          code: 'request.malformed',
        }),
      );
    // API answers are per caller and often carry tokens: never cache them.
    void reply.header('x-correlation-id', request.id).header('cache-control', 'no-store');
    const access = request.routeOptions.config?.access;
    if (access === undefined || access === 'anonymous') return done();
    if (access === 'agent') {
      // Which agent the certificate belongs to is the route's business; without one there is
      // nothing to look at.
      const socket = request.raw.socket as Partial<TLSSocket>;
      const cert = socket.getPeerCertificate?.();
      if (cert?.fingerprint256) return done();
      return done(
        new VigilError('unauthenticated', 'this endpoint needs an agent client certificate', {
          code: 'agent.certificate_required',
        }),
      );
    }
    (request.routeOptions.config?.authenticate ?? authenticate)(request, access).then(
      () => done(),
      done,
    );
  });

  // While shutting down, keep-alive connections are closed as soon as their in-flight request
  // is answered, so that clients let go and the process can exit.
  let drainTimer: NodeJS.Timeout | undefined;
  app.addHook('preClose', (done) => {
    closing = true;
    drainTimer = setInterval(() => app.server.closeIdleConnections(), 50);
    drainTimer.unref();
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    clearInterval(drainTimer);
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    options.onRequestDone?.(
      request.method,
      request.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    // The record is built only when it is written (below level info, it is not).
    if (!options.logger.isLevelEnabled('info')) return done();
    const q = request.url.indexOf('?');
    request.log.info(
      {
        correlation_id: request.id,
        method: request.method,
        route: request.routeOptions.url ?? null,
        path: q < 0 ? request.url : request.url.slice(0, q),
        status: reply.statusCode,
        duration_ms: Math.round(reply.elapsedTime * 100) / 100,
        identity: request.identity?.username ?? null,
        remote: request.ip,
      },
      'request',
    );
    done();
  });

  // Every face's errors, in its own format (`faceOf`): the native envelope, openITCOCKPIT's and
  // Director's `{"error"}`, OAuth's RFC 6749 body.
  app.setErrorHandler(async (err, request, reply) => {
    const e = toVigilError(err);
    if (e.kind === 'internal')
      request.log.error({ err, correlation_id: request.id }, 'unhandled error');
    return answerError(request, reply, e);
  });

  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0]!;
    const allowed = allowedOn(path);
    void reply.header('x-correlation-id', request.id);
    if (allowed.length === 0 && options.fallback?.handles(request.method, path))
      return options.fallback.serve(request, reply, path);
    if (allowed.length > 0)
      throw new VigilError('method_not_allowed', `${request.method} is not allowed on ${path}`, {
        headers: { allow: allowed.join(', ') },
      });
    throw new VigilError('not_found', `no route ${request.method} ${path}`, {
      code: 'route.not_found',
    });
  });

  await registerOpenApi(app, { version: options.version, accessByOperation });

  // Node hands CONNECT to 'connect' listeners and, without one, drops the connection unanswered.
  app.server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    const path = (req.url ?? '').split('?')[0]!;
    const e = unknownMethodError('CONNECT', path, path.startsWith('/') ? allowedOn(path) : []);
    endWith(socket, rawErrorResponse(e.status, e, path, randomUUID()));
  });
  // The first bytes of each connection, for `clientErrorHandler`: once per connection, not per
  // request.
  const remember = (socket: Duplex) =>
    socket.once('data', (chunk: Buffer) => {
      // Enough of the request line to tell the face; a copy, so the chunk itself is let go.
      const head = chunk.subarray(0, Math.min(chunk.length, 256));
      if (requestLineOf(head)) firstBytes.set(socket, Buffer.from(head));
    });
  app.server.on(options.https ? 'secureConnection' : 'connection', remember);

  options.routes(app);
  return app;
}
