import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';

/** The native error envelope of `/api/v1`. */
interface Envelope {
  error?: {
    code?: string;
    fault?: string;
    retryable?: boolean;
    human_message?: string;
    correlation_id?: string;
  };
}

/**
 * An answer of the API that was not a success, with what the operator needs to see and quote:
 * the server's human message, its error code, and the correlation id it logged the request under.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly humanMessage: string,
    readonly correlationId: string | null,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(humanMessage);
    this.name = 'ApiError';
  }
}

/** Reads the CSRF token the server set at login (the double-submit cookie `vigil_csrf`). */
function csrfToken(): string | null {
  const m = /(?:^|;\s*)vigil_csrf=([^;]+)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]!) : null;
}

/** Called when the API says the session is gone (401) or a password change is required. */
type SessionListener = (reason: 'expired' | 'password_change_required') => void;
const sessionListeners = new Set<SessionListener>();

/** Registers a listener for lost sessions; returns its removal. */
export function onSessionLost(l: SessionListener): () => void {
  sessionListeners.add(l);
  return () => sessionListeners.delete(l);
}

const csrf: Middleware = {
  onRequest({ request }) {
    if (!['GET', 'HEAD', 'OPTIONS'].includes(request.method)) {
      const token = csrfToken();
      if (token) request.headers.set('X-CSRF-Token', token);
    }
    return request;
  },
};

/** Turns an error answer into an `ApiError` (thrown), telling the session about lost logins. */
async function toApiError(
  response: Response,
  sessionAware: boolean,
  parsed?: unknown,
): Promise<ApiError> {
  let body: Envelope = {};
  if (parsed !== null && typeof parsed === 'object') body = parsed as Envelope;
  else if (!response.bodyUsed)
    try {
      body = (await response.clone().json()) as Envelope;
    } catch {
      // Not JSON (a proxy's page, say): the status line is all there is.
    }
  const e = body.error ?? {};
  const err = new ApiError(
    response.status,
    e.code ?? `http.${response.status}`,
    e.human_message ?? `The server answered ${response.status} ${response.statusText}.`,
    e.correlation_id ?? response.headers.get('x-correlation-id'),
    Number(response.headers.get('retry-after')) || null,
  );
  if (sessionAware && response.status === 401 && !response.url.includes('/auth/login'))
    for (const l of sessionListeners) l('expired');
  if (sessionAware && err.code === 'auth.password_change_required')
    for (const l of sessionListeners) l('password_change_required');
  return err;
}

/**
 * The one typed client of the console: its paths and bodies are checked against the server's
 * OpenAPI document at build time. Same-origin, authenticated by the session cookie; changes carry
 * the CSRF token.
 */
export const api = createClient<paths>({ baseUrl: '/', credentials: 'same-origin' });
api.use(csrf);

/**
 * Unwraps an openapi-fetch result: the data of a success (undefined for 204), or throws the
 * `ApiError` of a failure. Use it in query and mutation functions.
 */
export async function unwrap<T>(
  p: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const r = await p;
  // openapi-fetch has already read the body of a failure into `error`.
  if (!r.response.ok) throw await toApiError(r.response, true, r.error);
  return r.data as T;
}

/** The text of any thrown value, for places that show a one-line failure. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.humanMessage;
  if (err instanceof Error) return err.message;
  return String(err);
}
