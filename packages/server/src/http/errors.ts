import { STATUS_CODES } from 'node:http';
import type { FastifyError } from 'fastify';
import type { ErrorEnvelope } from '@vigil/protocol';
import { VigilError, faultOf, type ErrorKind } from '../errors.js';

const KIND_BY_STATUS: Record<number, ErrorKind> = {
  400: 'bad_data',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  502: 'external',
  503: 'unavailable',
};

const FASTIFY_CODES: Record<string, [ErrorKind, string, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: ['bad_data', 'request.invalid_json', 'the body is not valid JSON'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [
    'bad_data',
    'request.invalid_json',
    'the body is empty but Content-Type is application/json',
  ],
  FST_ERR_CTP_BODY_TOO_LARGE: [
    'payload_too_large',
    'request.too_large',
    'the request body is too large',
  ],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [
    'unsupported_media_type',
    'request.unsupported_media_type',
    'unsupported Content-Type; send application/json',
  ],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [
    'bad_data',
    'request.invalid_content_length',
    'Content-Length does not match the body',
  ],
  FST_ERR_BAD_URL: ['bad_data', 'request.invalid_url', 'the URL is not validly percent-encoded'],
  FST_ERR_MAX_PARAM_LENGTH: [
    'bad_data',
    'request.invalid_url',
    'a path segment of the URL is longer than 100 characters',
  ],
};

/**
 * PostgreSQL's "data exception" errors that only a value from the request can cause: text with a
 * NUL character (which PostgreSQL cannot store in text or jsonb, where SQLite can), and numbers,
 * times or identifiers outside what a column holds. SQLSTATE codes of class 22.
 */
const DATA_EXCEPTIONS: Record<string, string> = {
  '22021': 'a text value of the request contains a NUL character or invalid UTF-8',
  '22P05': 'a text value of the request contains a NUL character (\\u0000)',
  '22003': 'a number of the request is out of range',
  '22008': 'a time of the request is out of range',
  '22007': 'a time of the request is not valid',
  '22P02': 'a value of the request is not valid for its field',
};

/** The SQLSTATE of a PostgreSQL driver error, or undefined for anything else. */
function sqlState(err: unknown): string | undefined {
  const e = err as { code?: unknown; severity?: unknown };
  return err instanceof Error && typeof e.code === 'string' && typeof e.severity === 'string'
    ? e.code
    : undefined;
}

/**
 * Turns anything thrown while serving a request into a `VigilError`. Errors Vigil did not raise
 * itself and cannot classify become `internal`, with a message that reveals nothing.
 */
export function toVigilError(err: unknown): VigilError {
  if (err instanceof VigilError) return err;
  const fe = err as Partial<FastifyError> & { validation?: unknown };
  if (fe.validation) {
    return new VigilError('bad_data', fe.message ?? 'the request is invalid', {
      code: 'validation_failed',
    });
  }
  const state = sqlState(err);
  const data = state ? DATA_EXCEPTIONS[state] : undefined;
  if (data) return new VigilError('bad_data', data, { code: 'request.invalid_value', cause: err });
  const known = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (known) return new VigilError(known[0], known[2], { code: known[1] });
  if (
    err instanceof SyntaxError &&
    (fe.statusCode === 400 || (err as { status?: number }).status === 400)
  )
    return new VigilError('bad_data', 'the body is not valid JSON', {
      code: 'request.invalid_json',
    });
  const status = fe.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500 && fe.code?.startsWith('FST_')) {
    const kind = KIND_BY_STATUS[status] ?? 'bad_data';
    return new VigilError(kind, fe.message ?? 'bad request');
  }
  return new VigilError('internal', 'an internal error occurred', { cause: err });
}

/**
 * The faces whose errors look different, by the first segment of the path: the openITCOCKPIT agent
 * connector and Icinga Director answer `{"error": "…"}`, the OAuth endpoints RFC 6749 §5.2
 * `{"error", "error_description"}`, and everything else (the native API and Tyto's routes under
 * `/api/v1`, the health and metrics endpoints) the native envelope.
 */
export type Face = 'native' | 'agentconnector' | 'director' | 'oauth';

/** The face a request path (with or without its query) belongs to. */
export function faceOf(url: string): Face {
  if (url.startsWith('/agentconnector/') || url === '/agentconnector') return 'agentconnector';
  if (url.startsWith('/oauth/')) return 'oauth';
  if (url.startsWith('/director/') || url === '/director') return 'director';
  if (/^\/icingaweb2?\/director(?:[/?]|$)/.test(url)) return 'director';
  return 'native';
}

/**
 * PHP's `json_encode($value, JSON_PRETTY_PRINT) . "\n"`: four-space indentation and, unless
 * `escape` is false (`JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE`), every `/` written `\/`
 * and every character beyond ASCII as `\uXXXX`. Icinga Director's answers are made this way.
 */
export function phpPrettyJson(value: unknown, escape = true): string {
  const text = JSON.stringify(value, null, 4) ?? 'null';
  if (!escape) return `${text}\n`;
  return `${text.replace(/\//g, '\\/').replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}

/** PHP's json_encode escapes every slash; openITCOCKPIT's bodies therefore do too. */
const phpJson = (value: unknown): string => JSON.stringify(value).replace(/\//g, '\\/');

/** RFC 6749 §5.2 error codes for the kinds the OAuth endpoints can meet outside their handlers. */
function oauthCode(kind: ErrorKind): string {
  switch (kind) {
    case 'unauthenticated':
      return 'invalid_client';
    case 'unavailable':
    case 'too_many_requests':
      return 'temporarily_unavailable';
    case 'internal':
    case 'external':
    case 'timeout':
      return 'server_error';
    default:
      return 'invalid_request';
  }
}

/**
 * The error body of `err` in the format of `face`, as JSON text: already serialised, so that a
 * route's response schema for the same status (health's 503) never applies to it.
 */
export function errorBody(face: Face, err: VigilError, correlationId: string): string {
  switch (face) {
    case 'native':
      return JSON.stringify(envelope(err, correlationId));
    case 'agentconnector':
      return phpJson({ error: err.kind === 'internal' ? 'Internal error' : err.message });
    case 'director':
      return phpPrettyJson({ error: err.kind === 'internal' ? 'Internal error' : err.message });
    case 'oauth':
      return JSON.stringify({
        error: oauthCode(err.kind),
        // The OAuth endpoints take forms (RFC 6749 §3.2), not the JSON the native message names.
        error_description:
          err.code === 'request.unsupported_media_type'
            ? 'unsupported Content-Type; send application/x-www-form-urlencoded'
            : err.message,
      });
  }
}

/** What `clientErrorResponse` needs to know of an error Node's HTTP parser reported. */
export interface ClientError {
  code?: string;
  reason?: string;
  /** The bytes received so far, when Node's parser has them. */
  rawPacket?: Buffer;
}

/** The method and target of an HTTP request line, when `raw` starts with one. */
export function requestLineOf(
  raw: Buffer | undefined,
): { method: string; target: string } | undefined {
  if (!raw) return undefined;
  const end = raw.indexOf(10);
  const line = raw.subarray(0, end < 0 ? Math.min(raw.length, 65_536) : end).toString('latin1');
  const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}) (\/[^ \r]*|\*)(?: |\r?$)/.exec(line);
  return m ? { method: m[1]!, target: m[2]! } : undefined;
}

/**
 * A complete HTTP/1.1 error response, written to a socket where no Fastify reply exists: the
 * body in the format of the face of `path`, and the connection closed after it.
 */
export function rawErrorResponse(
  status: number,
  err: VigilError,
  path: string,
  correlationId: string,
): string {
  const body = errorBody(faceOf(path), err, correlationId);
  let head =
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
    'content-type: application/json; charset=utf-8\r\n' +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    `x-correlation-id: ${correlationId}\r\n` +
    'cache-control: no-store\r\nconnection: close\r\n';
  for (const [k, v] of Object.entries(err.headers ?? {})) head += `${k}: ${v}\r\n`;
  return `${head}\r\n${body}`;
}

/**
 * The answer to a method no route can have (an unknown one, or CONNECT): 405 with `Allow` when
 * the path has routes, else 404, as for any other method.
 */
export function unknownMethodError(method: string, path: string, allowed: string[]): VigilError {
  return allowed.length > 0
    ? new VigilError('method_not_allowed', `${method} is not allowed on ${path}`, {
        headers: { allow: allowed.join(', ') },
      })
    : new VigilError('not_found', `no route ${method} ${path}`, { code: 'route.not_found' });
}

/**
 * The complete HTTP response for a request Node refused before it reached the router (an
 * unknown method, headers over the size limit, a malformed request line or header): the status,
 * and the body in the format of the face the request line names (the native envelope when it
 * names none). The request line is read from the bytes Node's parser reports, else from
 * `firstBytes`, the start of what the connection received. `allowed` lists the methods of a
 * path, for a 405.
 */
export function clientErrorResponse(
  err: ClientError,
  correlationId: string,
  allowed: (path: string) => string[],
  firstBytes?: Buffer,
): string {
  const line = requestLineOf(err.rawPacket) ?? requestLineOf(firstBytes);
  const path = line ? line.target.split('?')[0]! : '';
  let e: VigilError;
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    e = new VigilError('bad_data', 'the request line and headers are larger than 16 KB', {
      code: 'request.headers_too_large',
    });
    return rawErrorResponse(431, e, path, correlationId);
  }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_HEADERS_TIMEOUT') {
    e = new VigilError('bad_data', 'the request did not arrive in time', {
      code: 'request.timeout',
    });
    return rawErrorResponse(408, e, path, correlationId);
  }
  if (err.code === 'HPE_INVALID_METHOD' && line && faceOf(path) === 'director') {
    // Icinga Director answers any method it does not support this way (the document's KILL).
    e = new VigilError('bad_data', `Unsupported method ${line.method}`, {
      code: 'director.unsupported_method',
    });
    return rawErrorResponse(400, e, path, correlationId);
  }
  if (err.code === 'HPE_INVALID_METHOD' && line) {
    e = unknownMethodError(line.method, path, allowed(path));
    return rawErrorResponse(e.status, e, path, correlationId);
  }
  const reason = err.reason ? `: ${err.reason.toLowerCase()}` : '';
  e = new VigilError('bad_data', `the request is not valid HTTP/1.1${reason}`, {
    code: 'request.malformed',
  });
  return rawErrorResponse(400, e, path, correlationId);
}

/** The native face's error body (OpenWatch envelope). */
export function envelope(err: VigilError, correlationId: string): ErrorEnvelope {
  const { fault, retryable } = faultOf(err.kind);
  return {
    error: {
      code: err.code,
      fault,
      retryable,
      human_message: err.message,
      correlation_id: correlationId,
    },
  };
}

/**
 * Parses JSON bodies with plain `JSON.parse` instead of Fastify's guarded parser. For the routes
 * that take agents' check data: documents of tens of kilobytes at high rates, where scanning each
 * for `__proto__` and `constructor` costs more than parsing it, and whose objects are only read,
 * never merged into others.
 */
export const plainJsonParser = jsonBodyParser(JSON.parse);

/** A JSON body parser with `parse` in place of JSON.parse, answering bad JSON as 400. */
export function jsonBodyParser(parse: (text: string) => unknown) {
  return (
    _request: unknown,
    body: string,
    done: (err: Error | null, value?: unknown) => void,
  ): void => {
    let value: unknown;
    try {
      value = parse(body);
    } catch {
      done(
        new VigilError(
          'bad_data',
          body === ''
            ? 'the body is empty but Content-Type is application/json'
            : 'the body is not valid JSON',
          { code: 'request.invalid_json' },
        ),
      );
      return;
    }
    done(null, value);
  };
}
