import http from 'node:http';
import https from 'node:https';
import type { PeerCertificate as TlsPeerCertificate, TLSSocket } from 'node:tls';
import type { AgentCommand, CommandResult } from '@vigil/protocol';
import { VigilError } from '../errors.js';
import type { CertificateAuthority } from '../tls/pki.js';
import type { PullCommander } from './commands.js';
import type { AgentRow } from './model.js';

/** A failure to talk to a pull agent, with what kind of failure it was. */
export class PullError extends Error {
  constructor(
    message: string,
    /**
     * `tls`: the TLS handshake failed, e.g. because the agent now speaks plain HTTP; `auth`: the
     * agent refused the request's HTTP Basic credentials; `size`: the answer is too large.
     */
    readonly kind: 'tls' | 'network' | 'http' | 'auth' | 'size',
  ) {
    super(message);
  }
}

/** An agent's answer: its HTTP status and body. */
export interface Answer {
  status: number;
  text: string;
}

/**
 * Error codes of a failed TLS handshake. A reset connection is not among them: it is what a
 * restarting agent, or a network in between, gives too, and tells nothing about TLS.
 */
const TLS_CODES = new Set([
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** What the puller needs to present itself to agents under mutual TLS. */
export interface PullIdentity {
  ca: CertificateAuthority;
  /** The server's client certificate and key, issued by the Vigil CA. */
  cert: string;
  key: string;
}

/** The HTTP client the puller talks to pull agents with: plain HTTP, or mutual TLS. */
export interface PullClient {
  /**
   * Sends one request to the agent's pull address. Under mutual TLS the agent must present the
   * certificate Vigil issued to it (`cert_fingerprint`).
   * @throws PullError; at once after `stop`.
   */
  call(
    agent: AgentRow,
    secure: boolean,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    timeoutMs?: number,
  ): Promise<Answer>;
  /** Carries commands to pull agents over mutual TLS. */
  commander: PullCommander;
  /** Makes no new request from now on and cuts off those under way. */
  stop(): void;
}

/**
 * A client with the server's client certificate. `credentials` gives the HTTP Basic credentials
 * an agent wants on every request, if any.
 */
export function createPullClient(deps: {
  identity: PullIdentity;
  /** Largest answer taken from an agent, in bytes (`agents.max_document_bytes`). */
  maxAnswerBytes: number;
  credentials: (agent: AgentRow) => { username: string; password: string } | undefined;
}): PullClient {
  let stopped = false;
  const mtlsAgent = new https.Agent({
    keepAlive: true,
    // The openITCOCKPIT agent closes idle connections after 30 s; an idle socket is let go
    // before that, so that a poll never goes out on a connection the agent is closing.
    timeout: 20_000,
    maxSockets: 4,
    // No TLS session resumption: on a resumed session Node gives no peer certificate, and the
    // agent's certificate is checked on every connection (below). A full handshake per new
    // connection costs little at one poll per interval.
    maxCachedSessions: 0,
    ca: deps.identity.ca.caPem,
    cert: deps.identity.cert,
    key: deps.identity.key,
    // Agents name themselves as they like; what is checked is that the certificate is the one
    // issued to this agent (by fingerprint, below), which is stronger than a host name.
    checkServerIdentity: () => undefined,
  });
  const plainAgent = new http.Agent({ keepAlive: false });

  const call = (
    agent: AgentRow,
    secure: boolean,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    timeoutMs = 15_000,
    mayRetry = true,
  ): Promise<Answer> =>
    new Promise((resolve, reject) => {
      // Once the server stops, a poll still running makes no new request: its steps end at once
      // instead of each waiting for an agent that may not answer.
      if (stopped) return reject(new PullError('the server is stopping', 'network'));
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const url = `${secure ? 'https' : 'http'}://${agent.pull_address}${path}`;
      const credentials = deps.credentials(agent);
      const req = (secure ? https : http).request(
        url,
        {
          method,
          agent: secure ? mtlsAgent : plainAgent,
          headers: {
            accept: 'application/json',
            ...(payload ? { 'content-type': 'application/json' } : {}),
            ...(credentials
              ? {
                  authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`,
                }
              : {}),
          },
        },
        (res) => {
          if (secure) {
            const peer = (res.socket as TLSSocket).getPeerCertificate() as TlsPeerCertificate;
            if (!peer.fingerprint256 || peer.fingerprint256 !== agent.cert_fingerprint) {
              clearTimeout(timer);
              res.destroy();
              reject(
                new PullError(
                  'the agent presents a certificate other than the one Vigil issued to it',
                  'tls',
                ),
              );
              return;
            }
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > deps.maxAnswerBytes) {
              clearTimeout(timer);
              res.destroy();
              reject(
                new PullError(
                  `${method} ${path}: the answer is larger than ${deps.maxAnswerBytes} bytes (agents.max_document_bytes); it was refused`,
                  'size',
                ),
              );
            } else chunks.push(c);
          });
          res.on('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
          });
          res.on('error', (err) => {
            clearTimeout(timer);
            reject(new PullError(err.message, 'network'));
          });
        },
      );
      const timer = setTimeout(
        () => req.destroy(new PullError(`no answer within ${timeoutMs / 1000} s`, 'network')),
        timeoutMs,
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (err instanceof PullError) return reject(err);
        // A kept-alive connection the agent closed just as the request went out (its idle
        // timeout): the request never reached it, and a GET is asked again on a fresh one.
        if (
          mayRetry &&
          method === 'GET' &&
          req.reusedSocket &&
          (err.code === 'ECONNRESET' || err.code === 'EPIPE')
        )
          return resolve(call(agent, secure, method, path, body, timeoutMs, false));
        const tlsFailure =
          secure && (TLS_CODES.has(err.code ?? '') || /SSL|TLS|certificate/i.test(err.message));
        reject(new PullError(err.message, tlsFailure ? 'tls' : 'network'));
      });
      req.end(payload);
    });

  return {
    call,
    commander: {
      async command(
        agent: AgentRow,
        command: AgentCommand,
        timeoutMs: number,
      ): Promise<CommandResult> {
        let a: Answer;
        try {
          a = await call(agent, true, 'POST', '/vigil/command', command, timeoutMs);
        } catch (err) {
          if (err instanceof PullError && /no answer within/.test(err.message))
            throw new VigilError(
              'timeout',
              `agent ${agent.id} did not answer within ${timeoutMs / 1000} s`,
              {
                code: 'agent.timeout',
              },
            );
          throw new VigilError(
            'external',
            `cannot reach agent ${agent.id}: ${(err as Error).message}`,
            {
              code: 'agent.unreachable',
            },
          );
        }
        if (a.status !== 200)
          throw new VigilError(
            'external',
            `agent ${agent.id} answered HTTP ${a.status}: ${a.text.slice(0, 200)}`,
            {
              code: 'agent.bad_answer',
            },
          );
        try {
          return JSON.parse(a.text) as CommandResult;
        } catch {
          throw new VigilError('external', `agent ${agent.id} answered something other than JSON`, {
            code: 'agent.bad_answer',
          });
        }
      },
    },
    stop() {
      stopped = true;
      mtlsAgent.destroy();
      plainAgent.destroy();
    },
  };
}

/** Refusals of the request's credentials (the agent answers 403; 401 from a proxy). */
function checkAuth(agent: AgentRow, a: Answer, what: string): void {
  if (a.status !== 401 && a.status !== 403) return;
  throw new PullError(
    agent.pull_username === null
      ? `${what}: HTTP ${a.status}: the agent wants HTTP Basic credentials (auth = user:password in its config.ini); set username and password on this agent`
      : `${what}: HTTP ${a.status}: the agent refused username '${agent.pull_username}' and its password`,
    'auth',
  );
}

/** The JSON object an agent answered with (HTTP 200). @throws PullError */
export function parseAnswer(agent: AgentRow, a: Answer, what: string): Record<string, unknown> {
  checkAuth(agent, a, what);
  if (a.status !== 200)
    throw new PullError(`${what}: HTTP ${a.status} ${a.text.slice(0, 200)}`.trim(), 'http');
  try {
    const v = JSON.parse(a.text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // Fall through.
  }
  throw new PullError(`${what}: the answer is not a JSON object`, 'http');
}

/** Any 2xx, with any body or none (the real agent answers `POST /autotls` with 200 and none). */
export function accepted(agent: AgentRow, a: Answer, what: string): void {
  checkAuth(agent, a, what);
  if (a.status < 200 || a.status > 299)
    throw new PullError(`${what}: HTTP ${a.status} ${a.text.slice(0, 200)}`.trim(), 'http');
}
