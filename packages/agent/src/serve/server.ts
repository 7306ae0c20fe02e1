import {
  X509Certificate,
  createPrivateKey,
  generateKeyPairSync,
  timingSafeEqual,
  createHash,
} from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import { AgentConfigError, parseAgentConfig, type AgentConfig } from '../config.js';
import { CustomChecksError, parseCustomChecks } from '../checks/config.js';
import { PrometheusExportersError, parsePrometheusExporters } from '../prometheus/config.js';
import { writeFileAtomic } from '../files.js';
import { buildCsr } from './csr.js';
import type { AgentCommand, CommandResult } from '@vigil/protocol';
import { TLS12_AEAD_CIPHERS } from '@vigil/protocol/tls';
import type { TLSSocket } from 'node:tls';

/** What the local web server serves from, supplied by the agent. */
export interface ServeSource {
  /** The current configuration (it changes on reload). */
  config(): AgentConfig;
  /** The latest check-data document, or undefined before the first cycle. */
  document(): Record<string, unknown> | undefined;
  /** The package inventory answer, as JSON text. */
  packages(): string;
  /** The Prometheus exporters the agent scrapes: their names and latest metrics pages. */
  prometheus(): { names(): string[]; metrics(name: string): string | undefined };
  /** Applies configuration files that POST /config wrote (reload without restart). */
  reload(): Promise<void>;
  /** Carries out a command of the Vigil server that pulls from this agent. */
  command(command: AgentCommand): CommandResult;
}

/** The largest request body accepted (POST /config, POST /autotls). */
const MAX_BODY_BYTES = 1024 * 1024;

/** A running local web server. */
export interface AgentServer {
  readonly port: number;
  /** Whether it serves HTTPS (cert/key files, or Auto-TLS once established). */
  readonly tls: boolean;
  /** Closes the listener and listens again with the current configuration and files. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** An answer with a status and a JSON body. */
class Reply extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

/** Compares two strings in constant time (for the Basic auth secret). */
function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Reads a request body up to `MAX_BODY_BYTES`; a longer one is refused with 413. */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        // Answer now, discard the rest as it arrives, and close the connection afterwards.
        req.removeAllListeners('data');
        req.resume();
        reject(
          new Reply(
            413,
            { error: `request body larger than ${MAX_BODY_BYTES} bytes` },
            { connection: 'close' },
          ),
        );
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Parses a JSON object body or answers 400. */
async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readBody(req);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Reply(400, { error: 'request body is not valid JSON' });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new Reply(400, { error: 'request body must be a JSON object' });
  return body as Record<string, unknown>;
}

/** Decodes strict base64 (standard alphabet, optional padding) or answers 400 naming the field. */
function strictBase64(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new Reply(400, { error: `${field} must be a string` });
  const s = value.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || (s.length % 4 !== 0 && /=/.test(s)))
    throw new Reply(400, { error: `${field} is not valid base64` });
  const buf = Buffer.from(s, 'base64');
  const text = buf.toString('utf8');
  if (Buffer.from(text, 'utf8').compare(buf) !== 0)
    throw new Reply(400, { error: `${field} does not decode to UTF-8 text` });
  return text;
}

/** TLS protocol bounds and ciphers for `tls-security-level`, as the openITCOCKPIT agent sets them. */
function tlsPolicy(level: AgentConfig['tlsSecurityLevel']): SecureContextOptions {
  if (level === 'modern') return { minVersion: 'TLSv1.3' };
  if (level === 'lax') return { minVersion: 'TLSv1.2' };
  return {
    minVersion: 'TLSv1.2',
    ciphers: TLS12_AEAD_CIPHERS,
  };
}

/** Whether Auto-TLS has been established: a signed certificate and the server's CA are stored. */
export function autoTlsEstablished(config: AgentConfig): boolean {
  return (
    config.tryAutossl &&
    existsSync(config.autosslCrtFile) &&
    existsSync(config.autosslKeyFile) &&
    existsSync(config.autosslCaFile)
  );
}

/**
 * Starts the openITCOCKPIT-compatible local web server (`GET /`, `/config`, `/autotls`,
 * `/packages`, `/prometheus`). It serves HTTPS with the configured cert/key files, or, once
 * Auto-TLS has been established, with the signed certificate, and then requires client
 * certificates signed by the stored CA. After POST /autotls it restarts itself, in that mode when
 * try-autossl is on.
 */
export async function startAgentServer(
  source: ServeSource,
  opts: { log?: (line: string) => void } = {},
): Promise<AgentServer> {
  const log = opts.log ?? (() => {});
  let current = await listen(source, log, restart);
  let closed = false;

  async function restart(): Promise<void> {
    if (closed) return;
    const old = current;
    await old.close();
    current = await listen(source, log, restart);
    log(
      `local web server restarted on port ${current.port} (${current.tls ? 'mutual TLS' : 'HTTP'})`,
    );
  }

  return {
    get port() {
      return current.port;
    },
    get tls() {
      return current.tls;
    },
    restart,
    async close() {
      closed = true;
      await current.close();
    },
  };
}

/** Starts one listening server for the current configuration and files. */
async function listen(
  source: ServeSource,
  log: (line: string) => void,
  restart: () => Promise<void>,
): Promise<AgentServer> {
  const config = source.config();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    void handle(source.config(), source, req, res, restart).catch((err: unknown) => {
      log(`request ${req.method} ${req.url} failed: ${(err as Error).message}`);
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  };
  let server: http.Server | https.Server;
  let tls = false;
  if (autoTlsEstablished(config)) {
    server = https.createServer(
      {
        cert: readFileSync(config.autosslCrtFile),
        key: readFileSync(config.autosslKeyFile),
        ca: readFileSync(config.autosslCaFile),
        requestCert: true,
        rejectUnauthorized: true,
        ...tlsPolicy(config.tlsSecurityLevel),
      },
      handler,
    );
    tls = true;
  } else if (config.certfile && config.keyfile) {
    server = https.createServer(
      {
        cert: readFileSync(config.certfile),
        key: readFileSync(config.keyfile),
        ...tlsPolicy(config.tlsSecurityLevel),
      },
      handler,
    );
    tls = true;
  } else server = http.createServer(handler);
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    tls,
    restart: async () => {},
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A body that is JSON text already. */
class JsonText {
  constructor(readonly text: string) {}
}

/** A plain-text body (an exporter's metrics page). */
class PlainText {
  constructor(readonly text: string) {}
}

/** Writes a JSON answer. */
function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text =
    body instanceof JsonText || body instanceof PlainText ? body.text : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': body instanceof PlainText ? 'text/plain' : 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Routes one request. */
async function handle(
  config: AgentConfig,
  source: ServeSource,
  req: IncomingMessage,
  res: ServerResponse,
  restart: () => Promise<void>,
): Promise<void> {
  try {
    checkAuth(config, req);
    const url = new URL(req.url ?? '/', 'http://agent');
    const route = ROUTES[url.pathname];
    if (!route) throw new Reply(404, { error: 'not found' });
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const fn = route[method as 'GET' | 'POST'];
    if (!fn)
      throw new Reply(
        405,
        { error: 'method not allowed' },
        { allow: Object.keys(route).join(', ') },
      );
    const body = await fn({ config, source, req, url, restart });
    send(res, 200, body);
  } catch (err) {
    if (err instanceof Reply) return send(res, err.status, err.body, err.headers);
    throw err;
  }
}

/**
 * HTTP Basic authentication when `auth` is set. Missing or wrong credentials are both 403, as the
 * openITCOCKPIT agent answers (openITCOCKPIT servers send the credentials up front).
 */
function checkAuth(config: AgentConfig, req: IncomingMessage): void {
  if (!config.auth) return;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(req.headers.authorization ?? '');
  const given = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
  if (!m || !sameSecret(given, config.auth)) throw new Reply(403, { error: 'forbidden' });
}

interface RouteContext {
  config: AgentConfig;
  source: ServeSource;
  req: IncomingMessage;
  url: URL;
  restart: () => Promise<void>;
}

type Route = Partial<Record<'GET' | 'POST', (ctx: RouteContext) => Promise<unknown>>>;

const ROUTES: Record<string, Route> = {
  '/': { GET: async ({ source }) => source.document() ?? {} },
  '/packages': { GET: async ({ source }) => new JsonText(source.packages()) },
  // The exporter proxy, as the openITCOCKPIT agent serves it: the exporters' names as JSON, or
  // with `?exporter=name` that exporter's latest metrics as text ("Unknown exporter" when it has
  // none).
  '/prometheus': {
    GET: async ({ source, url }) => {
      const name = url.searchParams.get('exporter') ?? '';
      if (name === '') return source.prometheus().names();
      return new PlainText(source.prometheus().metrics(name) ?? 'Unknown exporter');
    },
  },
  '/config': {
    GET: async ({ config }) => {
      requireConfigUpdateMode(config);
      const read = (file: string | undefined) => {
        try {
          return file ? readFileSync(file).toString('base64') : '';
        } catch {
          return '';
        }
      };
      return {
        configuration: read(config.file),
        customcheck_configuration: read(config.customchecks),
        prometheus_exporter: read(config.prometheus.exporters),
      };
    },
    POST: async ({ config, source, req }) => {
      requireConfigUpdateMode(config);
      if (!config.file)
        throw new Reply(409, { error: 'the agent runs without a configuration file' });
      const body = await jsonBody(req);
      const configuration = strictBase64(body.configuration, 'configuration');
      const custom =
        body.customcheck_configuration === undefined || body.customcheck_configuration === ''
          ? undefined
          : strictBase64(body.customcheck_configuration, 'customcheck_configuration');
      // Validate every file completely before writing any.
      let next: AgentConfig;
      try {
        next = parseAgentConfig(configuration, config.file);
      } catch (err) {
        if (err instanceof AgentConfigError)
          throw new Reply(400, { error: `configuration: ${err.message}` });
        throw err;
      }
      const exporters =
        body.prometheus_exporter === undefined || body.prometheus_exporter === ''
          ? undefined
          : strictBase64(body.prometheus_exporter, 'prometheus_exporter');
      if (exporters !== undefined) {
        try {
          parsePrometheusExporters(exporters);
        } catch (err) {
          if (err instanceof PrometheusExportersError)
            throw new Reply(400, { error: `prometheus_exporter: ${err.message}` });
          throw err;
        }
      }
      if (custom !== undefined) {
        try {
          parseCustomChecks(custom);
        } catch (err) {
          if (err instanceof CustomChecksError)
            throw new Reply(400, { error: `customcheck_configuration: ${err.message}` });
          throw err;
        }
      }
      writeFileAtomic(config.file, configuration, { backup: true });
      if (custom !== undefined) writeFileAtomic(next.customchecks, custom, { backup: true });
      if (exporters !== undefined)
        writeFileAtomic(next.prometheus.exporters, exporters, { backup: true });
      await source.reload();
      return { success: true };
    },
  },
  // Vigil's command channel for pull mode: only over mutual TLS established by Auto-TLS, so only
  // the server that signed this agent's certificate can reach it.
  '/vigil/command': {
    POST: async ({ config, source, req }) => {
      const socket = req.socket as Partial<TLSSocket>;
      if (!autoTlsEstablished(config) || socket.authorized !== true)
        throw new Reply(403, {
          error: 'commands are accepted only over mutual TLS established by Auto-TLS',
        });
      const body = await jsonBody(req);
      if (
        typeof body.id !== 'string' ||
        (body.kind !== 'process.get' && body.kind !== 'process.signal') ||
        typeof body.pid !== 'number'
      )
        throw new Reply(400, { error: 'expected a command {id, kind, pid[, signal]}' });
      return source.command(body as unknown as AgentCommand);
    },
  },
  // Served whatever try-autossl says, as openITCOCKPIT agents 3.x do (`webserver/handler.go`):
  // the CSR and the certificate exchange always work, and the certificate stored while
  // try-autossl is off takes effect (mutual TLS) only once it is switched on.
  '/autotls': {
    GET: async ({ config, url }) => {
      const domain = url.searchParams.get('domain') ?? '';
      if (domain !== '' && !/^[A-Za-z0-9.:_-]{1,253}$/.test(domain))
        throw new Reply(400, { error: 'domain must be a host name or an IP address' });
      const key = autosslKey(config);
      const cn = domain || (await import('node:os')).hostname();
      const csr = buildCsr(key, cn);
      writeFileAtomic(config.autosslCsrFile, csr);
      return { csr };
    },
    POST: async ({ config, req, restart }) => {
      const body = await jsonBody(req);
      if (typeof body.signed !== 'string' || typeof body.ca !== 'string')
        throw new Reply(400, { error: 'signed and ca must be PEM strings' });
      let cert: X509Certificate;
      let ca: X509Certificate;
      try {
        cert = new X509Certificate(body.signed);
        ca = new X509Certificate(body.ca);
      } catch {
        throw new Reply(400, { error: 'signed and ca must be PEM certificates' });
      }
      if (!existsSync(config.autosslKeyFile))
        throw new Reply(400, { error: 'no private key yet: GET /autotls first' });
      const key = createPrivateKey(readFileSync(config.autosslKeyFile));
      if (!cert.checkPrivateKey(key))
        throw new Reply(400, { error: 'the signed certificate does not match the agent key' });
      if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey))
        throw new Reply(400, { error: 'the signed certificate was not issued by the given CA' });
      writeFileAtomic(config.autosslCrtFile, body.signed, { mode: 0o600 });
      writeFileAtomic(config.autosslCaFile, body.ca, { mode: 0o600 });
      // Answer first, then switch to mutual TLS.
      setImmediate(() => void restart());
      return { success: true };
    },
  },
};

function requireConfigUpdateMode(config: AgentConfig): void {
  if (!config.configUpdateMode)
    throw new Reply(403, { error: 'config-update-mode is disabled in config.ini' });
}

/** The Auto-TLS private key, generated (ECDSA P-256, mode 0600) on first use. */
function autosslKey(config: AgentConfig) {
  if (existsSync(config.autosslKeyFile))
    return createPrivateKey(readFileSync(config.autosslKeyFile));
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileAtomic(
    config.autosslKeyFile,
    privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    { mode: 0o600 },
  );
  return privateKey;
}
