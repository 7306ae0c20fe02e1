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
};

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
