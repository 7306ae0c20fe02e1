import http from 'node:http';
import https from 'node:https';

/** An answer from the server. `json` is undefined when the body is not JSON. */
export interface HttpAnswer {
  status: number;
  json: unknown;
  text: string;
}

/** A failure to get any answer (connection refused, TLS failure, timeout). */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/** How to reach one server: its base URL and the connection pool (with TLS settings) to use. */
export interface Endpoint {
  readonly base: URL;
  readonly agent: http.Agent;
}

/** The TLS settings of an endpoint. */
export interface TlsSettings {
  /** PEM of the CA to trust; with it, the server certificate is verified against it alone. */
  ca?: string;
  /** Client certificate and key (mutual TLS). */
  cert?: string;
  key?: string;
  /** False to accept any server certificate (openITCOCKPIT's `verify-server-certificate`). */
  verify: boolean;
  /**
   * Whether the server certificate must name the host in the URL. The Vigil CA is pinned by
   * fingerprint, so its certificates are trusted for whatever address the operator used.
   */
  checkHostname: boolean;
}

/** A pooled endpoint for `baseUrl` (keep-alive, one socket at a time is plenty for an agent). */
export function endpoint(baseUrl: string, tls: TlsSettings): Endpoint {
  const base = new URL(baseUrl);
  if (base.protocol !== 'https:' && base.protocol !== 'http:')
    throw new Error(`unsupported URL scheme ${base.protocol} in ${baseUrl}`);
  const agent =
    base.protocol === 'https:'
      ? new https.Agent({
          keepAlive: true,
          maxSockets: 2,
          ca: tls.ca,
          cert: tls.cert,
          key: tls.key,
          rejectUnauthorized: tls.verify,
          ...(tls.checkHostname ? {} : { checkServerIdentity: () => undefined }),
        })
      : new http.Agent({ keepAlive: true, maxSockets: 2 });
  return { base, agent };
}

/**
 * Sends one request with a JSON (or pre-serialised JSON text) body and reads the whole answer.
 * @throws TransportError when no HTTP answer arrives within `timeoutMs`.
 */
export function request(
  ep: Endpoint,
  method: 'GET' | 'POST',
  pathname: string,
  opts: { body?: string | Buffer; headers?: Record<string, string>; timeoutMs: number },
): Promise<HttpAnswer> {
  const url = new URL(
    pathname.replace(/^\//, ''),
    ep.base.href.endsWith('/') ? ep.base : `${ep.base.href}/`,
  );
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
    const req = lib.request(
      url,
      {
        method,
        agent: ep.agent,
        headers: {
          accept: 'application/json',
          ...(body ? { 'content-type': 'application/json', 'content-length': body.length } : {}),
          ...opts.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new TransportError(err.message)));
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json, text });
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new TransportError(`no answer within ${opts.timeoutMs} ms`, 'ETIMEDOUT'));
    }, opts.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err instanceof TransportError ? err : new TransportError(err.message, err.code));
    });
    req.end(body);
  });
}

/** The `error` text of a JSON answer in any of Vigil's formats, for log lines. */
export function errorText(a: HttpAnswer): string {
  const j = a.json as { error?: unknown; message?: unknown } | undefined;
  const e = j?.error;
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object') {
    const m = (e as { human_message?: unknown; code?: unknown }).human_message;
    if (typeof m === 'string') return m;
  }
  if (typeof j?.message === 'string') return j.message;
  return a.text.slice(0, 200) || `HTTP ${a.status}`;
}
