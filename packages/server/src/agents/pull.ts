import http from 'node:http';
import https from 'node:https';
import type { PeerCertificate as TlsPeerCertificate, TLSSocket } from 'node:tls';
import type { AgentCommand, CommandResult } from '@vigil/protocol';
import { VigilError } from '../errors.js';
import type { CertificateAuthority } from '../tls/pki.js';
import type { AgentRow, AgentService, PullCommander } from './service.js';

/** A failure to talk to a pull agent, with what kind of failure it was. */
class PullError extends Error {
  constructor(
    message: string,
    /** `tls`: the TLS handshake failed, e.g. because the agent now speaks plain HTTP. */
    readonly kind: 'tls' | 'network' | 'http',
  ) {
    super(message);
  }
}

interface Answer {
  status: number;
  text: string;
}

const TLS_CODES = new Set([
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ECONNRESET',
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

/** Largest document accepted from an agent. */
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

/**
 * Polls pull agents (openITCOCKPIT's pull mode): each approved pull agent's `GET /` once per
 * interval. On first contact it runs Auto-TLS as openITCOCKPIT does — `GET /autotls` for a CSR,
 * signs it with the Vigil CA, `POST /autotls {signed, ca}` — and from then on talks to that agent
 * only over mutual TLS, checking that the agent presents the very certificate it was given. An
 * agent that answers plain HTTP afterwards is flagged `certificate_deleted` and not trusted.
 */
export function startPuller(deps: {
  agents: AgentService;
  identity: PullIdentity;
  concurrency: number;
  log: { warn(o: object, m: string): void; info(o: object, m: string): void };
  now?: () => number;
  /** How often the list of pull agents is looked at (ms). */
  tickMs?: number;
}): { stop(): Promise<void>; commander: PullCommander; pollNow(id: string): void } {
  const now = deps.now ?? Date.now;
  const lastPoll = new Map<string, number>();
  const inFlight = new Map<string, Promise<void>>();
  let stopped = false;
  const mtlsAgent = new https.Agent({
    keepAlive: true,
    maxSockets: 4,
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
  ): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const url = `${secure ? 'https' : 'http'}://${agent.pull_address}${path}`;
      const req = (secure ? https : http).request(
        url,
        {
          method,
          agent: secure ? mtlsAgent : plainAgent,
          headers: {
            accept: 'application/json',
            ...(payload ? { 'content-type': 'application/json' } : {}),
          },
        },
        (res) => {
          if (secure) {
            const peer = (res.socket as TLSSocket).getPeerCertificate() as TlsPeerCertificate;
            if (!peer.fingerprint256 || peer.fingerprint256 !== agent.cert_fingerprint) {
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
            if (size > MAX_ANSWER_BYTES) {
              res.destroy();
              reject(new PullError('the answer is larger than 32 MiB', 'http'));
            } else chunks.push(c);
          });
          res.on('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
          });
          res.on('error', (err) => reject(new PullError(err.message, 'network')));
        },
      );
      const timer = setTimeout(
        () => req.destroy(new PullError(`no answer within ${timeoutMs / 1000} s`, 'network')),
        timeoutMs,
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (err instanceof PullError) return reject(err);
        const tlsFailure =
          secure && (TLS_CODES.has(err.code ?? '') || /SSL|TLS|certificate/i.test(err.message));
        reject(new PullError(err.message, tlsFailure ? 'tls' : 'network'));
      });
      req.end(payload);
    });

  const parse = (a: Answer, what: string): Record<string, unknown> => {
    if (a.status !== 200)
      throw new PullError(`${what}: HTTP ${a.status} ${a.text.slice(0, 200)}`, 'http');
    try {
      const v = JSON.parse(a.text) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // Fall through.
    }
    throw new PullError(`${what}: the answer is not a JSON object`, 'http');
  };

  /** First contact: Auto-TLS if the agent offers it, else plain pulling. */
  async function firstContact(agent: AgentRow): Promise<void> {
    const offer = await call(agent, false, 'GET', '/autotls');
    if (offer.status === 404) {
      const doc = parse(await call(agent, false, 'GET', '/'), 'GET /');
      if (agent.pull_tls !== 'plain')
        deps.log.warn(
          { agent_id: agent.id, address: agent.pull_address },
          'pull agent offers no Auto-TLS (try-autossl = False): pulling over plain HTTP',
        );
      await deps.agents.recordPull(agent, { tls: 'plain', document: doc });
      return;
    }
    const csr = parse(offer, 'GET /autotls').csr;
    if (typeof csr !== 'string') throw new PullError('GET /autotls: no csr in the answer', 'http');
    const cert = await deps.identity.ca.sign(csr, {
      commonName: agent.hostname ?? agent.id,
      days: 825,
      server: true,
    });
    parse(
      await call(agent, false, 'POST', '/autotls', {
        signed: cert.pem,
        ca: deps.identity.ca.caPem,
      }),
      'POST /autotls',
    );
    await deps.agents.recordAutoTls(agent, cert);
    deps.log.info(
      { agent_id: agent.id, address: agent.pull_address, serial: cert.serial },
      'Auto-TLS established with pull agent',
    );
    // Pull again shortly, once the agent listens with its new certificate.
    lastPoll.set(agent.id, now() - agent.interval_seconds * 1000 + 1000);
  }

  /** Pulls over mutual TLS; a plain-HTTP answer means the agent lost its certificate. */
  async function pullMtls(agent: AgentRow): Promise<void> {
    try {
      const doc = parse(await call(agent, true, 'GET', '/'), 'GET /');
      await deps.agents.recordPull(agent, { tls: 'mtls', document: doc });
    } catch (err) {
      if (!(err instanceof PullError) || err.kind !== 'tls') throw err;
      let plain: boolean;
      try {
        plain = (await call(agent, false, 'GET', '/', undefined, 5000)).status > 0;
      } catch {
        plain = false;
      }
      if (!plain) throw err;
      if (agent.pull_tls !== 'certificate_deleted')
        deps.log.warn(
          { agent_id: agent.id, address: agent.pull_address },
          'pull agent answers plain HTTP after Auto-TLS: certificate deleted on agent; not trusted',
        );
      await deps.agents.recordPull(agent, {
        tls: 'certificate_deleted',
        error:
          'certificate deleted on agent: it answers plain HTTP after Auto-TLS; its data is not trusted (remove and add the agent again to redo Auto-TLS)',
      });
    }
  }

  async function poll(agent: AgentRow): Promise<void> {
    try {
      if (agent.pull_tls === 'mtls' || agent.pull_tls === 'certificate_deleted')
        await pullMtls(agent);
      else await firstContact(agent);
    } catch (err) {
      await deps.agents.recordPull(agent, { error: (err as Error).message }).catch(() => undefined);
    }
  }

  const tick = async () => {
    if (stopped) return;
    let agents: AgentRow[];
    try {
      agents = await deps.agents.pullAgents();
    } catch {
      return;
    }
    const t = now();
    const fleet = await deps.agents.collectionInterval().catch(() => null);
    for (const a of agents) {
      if (inFlight.size >= deps.concurrency) break;
      if (inFlight.has(a.id)) continue;
      if (t - (lastPoll.get(a.id) ?? 0) < (fleet ?? a.interval_seconds) * 1000) continue;
      lastPoll.set(a.id, t);
      const p = poll(a).finally(() => inFlight.delete(a.id));
      inFlight.set(a.id, p);
    }
  };
  const timer = setInterval(() => void tick(), deps.tickMs ?? 1000);
  timer.unref();

  return {
    pollNow(id) {
      lastPoll.delete(id);
    },
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
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.allSettled([...inFlight.values()]);
      mtlsAgent.destroy();
      plainAgent.destroy();
    },
  };
}
