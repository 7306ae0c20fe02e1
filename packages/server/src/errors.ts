/**
 * The one error vocabulary of the server. Services throw `VigilError` with a kind from this closed
 * set; the HTTP edge maps the kind to a status and each face renders it in its own format. Routes
 * never choose status codes.
 */
export type ErrorKind =
  | 'bad_data'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'too_many_requests'
  | 'external'
  | 'unavailable'
  | 'timeout'
  | 'internal';

/** HTTP status for each error kind. */
export const STATUS: Record<ErrorKind, number> = {
  bad_data: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  external: 502,
  unavailable: 503,
  timeout: 504,
  internal: 500,
};

/** Default machine-readable code for each kind, used when the thrower gives none. */
export const DEFAULT_CODE: Record<ErrorKind, string> = {
  bad_data: 'validation_failed',
  unauthenticated: 'auth.unauthenticated',
  forbidden: 'auth.forbidden',
  not_found: 'not_found',
  method_not_allowed: 'method_not_allowed',
  conflict: 'conflict',
  payload_too_large: 'request.too_large',
  unsupported_media_type: 'request.unsupported_media_type',
  too_many_requests: 'rate_limited',
  external: 'external.failed',
  unavailable: 'service.unavailable',
  timeout: 'upstream.timeout',
  internal: 'internal_error',
};

/** Options of a `VigilError`. */
export interface VigilErrorOptions {
  /** A specific code such as `auth.invalid_credentials`; defaults to the kind's code. */
  code?: string;
  /** The underlying error, logged but never shown to clients. */
  cause?: unknown;
  /** Extra response headers, e.g. `Allow` for 405 or `Retry-After` for 429. */
  headers?: Record<string, string>;
}

/** An error whose message is safe to show to the client. */
export class VigilError extends Error {
  readonly code: string;
  readonly headers: Record<string, string> | undefined;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    opts: VigilErrorOptions = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'VigilError';
    this.code = opts.code ?? DEFAULT_CODE[kind];
    this.headers = opts.headers;
  }

  /** The HTTP status of this error. */
  get status(): number {
    return STATUS[this.kind];
  }
}

/** Who is at fault and whether a retry may help, per error kind (OpenWatch `fault`/`retryable`). */
export function faultOf(kind: ErrorKind): {
  fault: 'client' | 'server' | 'policy' | 'external';
  retryable: boolean;
} {
  switch (kind) {
    case 'forbidden':
      return { fault: 'policy', retryable: false };
    case 'too_many_requests':
      return { fault: 'client', retryable: true };
    case 'external':
      return { fault: 'external', retryable: true };
    case 'unavailable':
      return { fault: 'server', retryable: true };
    case 'timeout':
      return { fault: 'external', retryable: true };
    case 'internal':
      return { fault: 'server', retryable: false };
    default:
      return { fault: 'client', retryable: false };
  }
}
