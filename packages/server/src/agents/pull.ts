import { isRecord } from '@vigil/protocol/guards';
import http from 'node:http';
import https from 'node:https';
import type { PeerCertificate as TlsPeerCertificate, TLSSocket } from 'node:tls';
import type { AgentCommand, CommandResult } from '@vigil/protocol';
import { VigilError } from '../errors.js';
import type { CertificateAuthority } from '../tls/pki.js';
import { hasNoData, type AgentRow, type AgentService, type PullCommander } from './service.js';

/** The certificate columns of an agent row for a certificate just issued. */
const certificateOf = (c: { serial: string; fingerprint: string; notAfterMs: number }) => ({
  cert_serial: c.serial,
  cert_fingerprint: c.fingerprint,
  cert_not_after: c.notAfterMs,
});

/** A failure to talk to a pull agent, with what kind of failure it was. */
class PullError extends Error {
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

interface Answer {
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

/**
 * How often the package inventory (`GET /packages`) of an agent whose document carries no
 * inventory summary (`packagemanager.LastUpdate`) is read: the openITCOCKPIT agent's default
 * scan interval (`[packagemanager] check-interval = 60` minutes). An agent whose document does
 * carry it is read whenever `LastUpdate` changes.
 */
export const PACKAGES_INTERVAL_MS = 3_600_000;

/**
 * How long the puller waits before it reads `GET /packages` again after a read that failed or
 * found the inventory still pending, while the document says a new one is there.
 */
export const PACKAGES_RETRY_MS = 600_000;

/** How long the puller waits after a failed certificate renewal before it tries again. */
export const RENEWAL_RETRY_MS = 3_600_000;

/**
 * How long the puller waits, one step after another, for an agent that took its certificate to
 * answer over mutual TLS: the real agent answers `POST /autotls` first and restarts its web
 * server afterwards, which takes it a second or a few.
 */
const SETTLE_MS: readonly number[] = [250, 500, 1000, 2000, 4000];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The package inventory summary of a document (the openITCOCKPIT agent's `packagemanager`), or
 * undefined when it carries none or the inventory is switched off (`{"enabled": false}`).
 */
function inventorySummaryOf(
  doc: Record<string, unknown>,
): { pending: boolean; lastUpdate: number } | undefined {
  const pm = doc.packagemanager;
  if (!isRecord(pm) || pm.Enabled !== true) return undefined;
  return {
    pending: pm.Pending === true,
    lastUpdate: typeof pm.LastUpdate === 'number' ? pm.LastUpdate : 0,
  };
}

/**
 * Whether a plain-HTTP answer comes from an agent that serves plain HTTP: its document (200) or
 * its refusal of HTTP Basic credentials (403). Go's net/http answers a plain-HTTP request on a
 * TLS port itself, with `400 Client sent an HTTP request to an HTTPS server.`, so any other
 * answer, and that one above all, says nothing about the agent having dropped TLS.
 */
const servesPlainHttp = (a: Answer): boolean => a.status === 200 || a.status === 403;

/** A running puller. */
export interface Puller {
  stop(): Promise<void>;
  commander: PullCommander;
  /** Makes agent `id` due at the next tick. */
  pollNow(id: string): void;
  /** Polls agent `id` now (after a poll in progress) and resolves when done. */
  poll(id: string): Promise<void>;
}

/**
 * Polls pull agents (openITCOCKPIT's pull mode): each approved pull agent's `GET /` once per
 * interval, with the HTTP Basic credentials of agents that want them (`auth = user:password`).
 *
 * At first contact the agent's `autotls` setting decides: `off` pulls over plain HTTP only and
 * never calls `/autotls`; `on` and `auto` run Auto-TLS as openITCOCKPIT does — `GET /autotls`
 * for a CSR, sign it with the Vigil CA, `POST /autotls {signed, ca}` (any 2xx answer, with any
 * body or none, completes it) — and then check that the agent really answers over mutual TLS,
 * presenting the very certificate it was given. From then on it is pulled over mutual TLS only;
 * one that answers plain HTTP afterwards (`servesPlainHttp`) is flagged `certificate_deleted` and
 * not trusted. An agent that holds its certificate is asked over mutual TLS first at a first
 * contact (after its address or `autotls` changed). A `{}` answer is a contact without data.
 * When the agent cannot do Auto-TLS (`/autotls` fails, or it keeps serving plain HTTP after
 * taking the certificate, as it does with `try-autossl = False`), `auto` falls back to plain
 * HTTP, and `on` says so (`autotls_failed`) and pulls nothing until the agent answers over
 * mutual TLS. The certificate is renewed over mutual TLS in the last third of its life (after a
 * failure, again after `RENEWAL_RETRY_MS`), and the package inventory (`GET /packages`) is read
 * when the agent has scanned anew (`packagesDue`).
 */
export function startPuller(deps: {
  agents: AgentService;
  identity: PullIdentity;
  concurrency: number;
  log: { warn(o: object, m: string): void; info(o: object, m: string): void };
  /** Largest answer taken from an agent, in bytes (`agents.max_document_bytes`). */
  maxAnswerBytes: number;
  /** Lifetime of the certificates issued to pull agents (`agents.certificate_lifetime_days`). */
  certificateDays: number;
  now?: () => number;
  /** How often the list of pull agents is looked at (ms). */
  tickMs?: number;
}): Puller {
  const now = deps.now ?? Date.now;
  const lastPoll = new Map<string, number>();
  /**
   * The last read of each agent's package inventory: when, whether it was stored, and the
   * `LastUpdate` of the inventory stored last.
   */
  const packagesRead = new Map<string, { at: number; ok: boolean; lastUpdate?: number }>();
  /** The last failed renewal of each agent's certificate (serial: the certificate it was for). */
  const renewalFailed = new Map<string, { at: number; serial: string | null; message: string }>();
  const inFlight = new Map<string, Promise<void>>();
  let stopped = false;
  /**
   * Records what a poll found. Once the server stops, a poll cut short records nothing: the
   * failure it met is the shutdown's, not the agent's, and must not change the agent's state.
   */
  const record: AgentService['recordPull'] = (agent, outcome) =>
    stopped ? Promise.resolve() : deps.agents.recordPull(agent, outcome);
  const mtlsAgent = new https.Agent({
    keepAlive: true,
    // The openITCOCKPIT agent closes idle connections after 30 s; an idle socket is let go
    // before that, so that a poll never goes out on a connection the agent is closing.
    timeout: 20_000,
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
      // Once the server stops, a poll still running makes no new request: its steps end at once
      // instead of each waiting for an agent that may not answer.
      if (stopped) return reject(new PullError('the server is stopping', 'network'));
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const url = `${secure ? 'https' : 'http'}://${agent.pull_address}${path}`;
      const credentials = deps.agents.pullCredentials(agent);
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
        const tlsFailure =
          secure && (TLS_CODES.has(err.code ?? '') || /SSL|TLS|certificate/i.test(err.message));
        reject(new PullError(err.message, tlsFailure ? 'tls' : 'network'));
      });
      req.end(payload);
    });

  /** Refusals of the request's credentials (the agent answers 403; 401 from a proxy). */
  const checkAuth = (agent: AgentRow, a: Answer, what: string): void => {
    if (a.status !== 401 && a.status !== 403) return;
    throw new PullError(
      agent.pull_username === null
        ? `${what}: HTTP ${a.status}: the agent wants HTTP Basic credentials (auth = user:password in its config.ini); set username and password on this agent`
        : `${what}: HTTP ${a.status}: the agent refused username '${agent.pull_username}' and its password`,
      'auth',
    );
  };

  const parse = (agent: AgentRow, a: Answer, what: string): Record<string, unknown> => {
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
  };

  /** Any 2xx, with any body or none (the real agent answers `POST /autotls` with 200 and none). */
  const accepted = (agent: AgentRow, a: Answer, what: string): void => {
    checkAuth(agent, a, what);
    if (a.status < 200 || a.status > 299)
      throw new PullError(`${what}: HTTP ${a.status} ${a.text.slice(0, 200)}`.trim(), 'http');
  };

  /** Signs a CSR the agent gave for its web server. */
  const signFor = (agent: AgentRow, csr: string) =>
    deps.identity.ca.sign(csr, {
      commonName: agent.hostname ?? agent.id,
      days: deps.certificateDays,
      server: true,
    });

  /**
   * Waits for the agent to answer `GET /` over mutual TLS with certificate `fingerprint`; the
   * document, or the last failure.
   */
  async function settle(
    agent: AgentRow,
    fingerprint: string,
  ): Promise<{ document: Record<string, unknown> } | { failure: Error }> {
    const expecting = { ...agent, cert_fingerprint: fingerprint };
    let failure: Error = new Error('no answer');
    for (const ms of SETTLE_MS) {
      await sleep(ms);
      if (stopped) break;
      try {
        return { document: parse(expecting, await call(expecting, true, 'GET', '/'), 'GET /') };
      } catch (err) {
        failure = err as Error;
        if (err instanceof PullError && (err.kind === 'auth' || err.kind === 'size')) break;
      }
    }
    return { failure };
  }

  /**
   * Whether the package inventory is to be read after `doc`. The openITCOCKPIT agent scans its
   * packages 90 s after every start or reload and then every `check-interval` minutes, and its
   * document's `packagemanager` summary says when the last scan ended (`LastUpdate`); until the
   * first one ends it says `Pending`, and `GET /packages` has empty lists. So an agent whose
   * document carries the summary is read when `LastUpdate` changes, and one whose document does
   * not every `PACKAGES_INTERVAL_MS`; after a read that failed or found the inventory pending, not
   * again within `PACKAGES_RETRY_MS`. A document without data (`{}`) decides nothing.
   */
  function packagesDue(agent: AgentRow, doc: Record<string, unknown>, t: number): boolean {
    if (hasNoData(doc)) return false;
    const last = packagesRead.get(agent.id);
    if (last && !last.ok && t - last.at < PACKAGES_RETRY_MS) return false;
    const summary = inventorySummaryOf(doc);
    if (!summary) return !last || !last.ok || t - last.at >= PACKAGES_INTERVAL_MS;
    return !summary.pending && summary.lastUpdate > 0 && summary.lastUpdate !== last?.lastUpdate;
  }

  /**
   * Reads the package inventory when it is due (see `packagesDue`) and stores it, unless it is
   * still pending: a stored inventory is never replaced by an empty one. A failure is logged,
   * not the pull's.
   */
  async function packages(
    agent: AgentRow,
    secure: boolean,
    doc: Record<string, unknown>,
  ): Promise<void> {
    const t = now();
    if (!packagesDue(agent, doc, t)) return;
    const previous = packagesRead.get(agent.id)?.lastUpdate;
    packagesRead.set(agent.id, { at: t, ok: false, lastUpdate: previous });
    try {
      const inventory = parse(
        agent,
        await call(agent, secure, 'GET', '/packages'),
        'GET /packages',
      );
      if (!(await deps.agents.recordPullInventory(agent, inventory))) {
        deps.log.info(
          { agent_id: agent.id, address: agent.pull_address },
          'pull agent: package inventory still pending; the stored one is kept',
        );
        return;
      }
      packagesRead.set(agent.id, {
        at: t,
        ok: true,
        lastUpdate: typeof inventory.LastUpdate === 'number' ? inventory.LastUpdate : undefined,
      });
    } catch (err) {
      deps.log.warn(
        { agent_id: agent.id, address: agent.pull_address, err: (err as Error).message },
        'pull agent: no package inventory',
      );
    }
  }

  /** Pulls over plain HTTP; `note` is kept as the agent's last error (why it is plain). */
  async function pullPlain(agent: AgentRow): Promise<void> {
    let doc: Record<string, unknown>;
    try {
      doc = parse(agent, await call(agent, false, 'GET', '/'), 'GET /');
    } catch (err) {
      // An agent that took a certificate and now serves mutual TLS (restarted with
      // try-autossl = True) is pulled that way from now on.
      if (
        agent.pull_autotls !== 'off' &&
        agent.cert_fingerprint !== null &&
        err instanceof PullError &&
        err.kind !== 'auth' &&
        err.kind !== 'size'
      ) {
        let upgraded: Record<string, unknown> | undefined;
        try {
          upgraded = parse(agent, await call(agent, true, 'GET', '/'), 'GET /');
        } catch {
          // Not over mutual TLS either: the first failure is the one to tell.
        }
        if (upgraded) {
          await record(agent, { tls: 'mtls', document: upgraded });
          await packages(agent, true, upgraded);
          return;
        }
      }
      throw err;
    }
    const note =
      agent.pull_autotls === 'auto' && agent.cert_fingerprint !== null
        ? 'Auto-TLS did not take: the agent took its certificate but answers only plain HTTP (try-autossl = False in its config.ini?); pulling over plain HTTP'
        : undefined;
    await record(agent, { tls: 'plain', document: doc, error: note });
    await packages(agent, false, doc);
  }

  /** A failure in words for an operator: the first line, and a TLS failure as such. */
  const reasonOf = (err: Error): string =>
    err instanceof PullError && err.kind === 'tls' && !/certificate other than/.test(err.message)
      ? 'no TLS handshake'
      : (err.message.split('\n')[0] ?? '').trim();

  /** Why Auto-TLS did not take, for the agent's last error. */
  const didNotTake = (agent: AgentRow, failure: Error) =>
    `Auto-TLS did not take: the agent took its certificate (POST /autotls succeeded) but does not answer over mutual TLS (${reasonOf(failure)}); an agent with try-autossl = False in its config.ini keeps serving plain HTTP. ${
      agent.pull_autotls === 'on'
        ? "Nothing is pulled over plain HTTP while autotls is 'on'."
        : 'Pulling over plain HTTP.'
    }`;

  /**
   * First contact: Auto-TLS unless it is off, then a first pull. An agent that holds the
   * certificate Vigil issued to it (its address or Auto-TLS setting changed since) is asked over
   * mutual TLS first: it answers nothing but a TLS handshake, and is pulled so from then on.
   */
  async function firstContact(agent: AgentRow): Promise<void> {
    if (agent.pull_autotls === 'off') return pullPlain(agent);
    if (agent.cert_fingerprint !== null) {
      let doc: Record<string, unknown> | undefined;
      try {
        doc = parse(agent, await call(agent, true, 'GET', '/'), 'GET /');
      } catch (err) {
        // No handshake with that certificate, or no answer: Auto-TLS as at any first contact.
        // An agent that answers over mutual TLS, but refuses, is told as such.
        if (!(err instanceof PullError) || (err.kind !== 'tls' && err.kind !== 'network'))
          throw err;
      }
      if (doc) {
        const secured = { ...agent, pull_tls: 'mtls' as const };
        await record(secured, { tls: 'mtls', document: doc });
        await packages(secured, true, doc);
        await renewIfDue(secured);
        return;
      }
    }
    const fallBack = async (reason: Error): Promise<void> => {
      if (agent.pull_autotls === 'on' || (reason instanceof PullError && reason.kind === 'auth'))
        throw new PullError(
          reason instanceof PullError && reason.kind === 'auth'
            ? reason.message
            : `Auto-TLS is on, but the agent cannot do it: ${reason.message}`,
          'http',
        );
      deps.log.warn(
        { agent_id: agent.id, address: agent.pull_address, reason: reason.message },
        'pull agent cannot do Auto-TLS: pulling over plain HTTP',
      );
      await pullPlain({ ...agent, cert_fingerprint: null });
    };
    let csr: unknown;
    try {
      csr = parse(agent, await call(agent, false, 'GET', '/autotls'), 'GET /autotls').csr;
      if (typeof csr !== 'string')
        throw new PullError('GET /autotls: no csr in the answer', 'http');
    } catch (err) {
      if (err instanceof PullError && err.kind === 'network') throw err;
      return fallBack(err as Error);
    }
    const cert = await signFor(agent, csr);
    try {
      accepted(
        agent,
        await call(agent, false, 'POST', '/autotls', {
          signed: cert.pem,
          ca: deps.identity.ca.caPem,
        }),
        'POST /autotls',
      );
    } catch (err) {
      if (err instanceof PullError && err.kind === 'network') throw err;
      return fallBack(err as Error);
    }
    const outcome = await settle(agent, cert.fingerprint);
    if ('document' in outcome) {
      await deps.agents.recordAutoTls(agent, cert, { tls: 'mtls' });
      deps.log.info(
        { agent_id: agent.id, address: agent.pull_address, serial: cert.serial },
        'Auto-TLS established with pull agent',
      );
      const issued = { ...agent, ...certificateOf(cert), pull_tls: 'mtls' as const };
      // Right after its reload the agent answers `{}` until its checks ran: proof enough that
      // mutual TLS works, and recorded as a contact without data.
      await record(issued, { tls: 'mtls', document: outcome.document });
      await packages(issued, true, outcome.document);
      return;
    }
    const error = didNotTake(agent, outcome.failure);
    deps.log.warn({ agent_id: agent.id, address: agent.pull_address }, error);
    if (agent.pull_autotls === 'on') {
      await deps.agents.recordAutoTls(agent, cert, { tls: 'autotls_failed', error });
      return;
    }
    await deps.agents.recordAutoTls(agent, cert, { tls: 'plain', error });
    await pullPlain({ ...agent, ...certificateOf(cert), pull_tls: 'plain' });
  }

  /** `on`, after Auto-TLS did not take: mutual TLS only, as soon as the agent answers so. */
  async function pullAfterFailedAutoTls(agent: AgentRow): Promise<void> {
    try {
      const doc = parse(agent, await call(agent, true, 'GET', '/'), 'GET /');
      await record(agent, { tls: 'mtls', document: doc });
      await packages(agent, true, doc);
    } catch (err) {
      await record(agent, {
        tls: 'autotls_failed',
        error: didNotTake(agent, err as Error),
      });
    }
  }

  /**
   * Renews the certificate over the mutual TLS it has, as openITCOCKPIT does: `GET /autotls`
   * for a CSR and `POST /autotls` with the new certificate, both over mutual TLS; the agent
   * takes it and restarts its web server with it.
   */
  async function renew(agent: AgentRow): Promise<void> {
    const csr = parse(agent, await call(agent, true, 'GET', '/autotls'), 'GET /autotls').csr;
    if (typeof csr !== 'string') throw new PullError('GET /autotls: no csr in the answer', 'http');
    const cert = await signFor(agent, csr);
    accepted(
      agent,
      await call(agent, true, 'POST', '/autotls', { signed: cert.pem, ca: deps.identity.ca.caPem }),
      'POST /autotls',
    );
    // The agent has stored the new certificate: it presents it from its restart on.
    const outcome = await settle(agent, cert.fingerprint);
    await deps.agents.recordAutoTls(agent, cert, {
      tls: 'mtls',
      renewal: true,
      error:
        'failure' in outcome
          ? `the agent took its renewed certificate but does not present it yet (${reasonOf(outcome.failure)})`
          : undefined,
    });
    deps.log.info(
      { agent_id: agent.id, address: agent.pull_address, serial: cert.serial },
      'pull agent certificate renewed',
    );
  }

  /**
   * Why renewal waits, while a failed renewal of the agent's current certificate is less than
   * `RENEWAL_RETRY_MS` old; undefined when it may be tried.
   */
  function renewalBackoff(agent: AgentRow, t: number): string | undefined {
    const failed = renewalFailed.get(agent.id);
    if (!failed || failed.serial !== agent.cert_serial || t - failed.at >= RENEWAL_RETRY_MS)
      return undefined;
    return `${failed.message}; tried again at ${new Date(failed.at + RENEWAL_RETRY_MS).toISOString()}`;
  }

  /**
   * Renews the certificate once it is in the last third of its life. A renewal that failed is
   * tried again only after `RENEWAL_RETRY_MS` (each try signs a certificate), and is the agent's
   * last error meanwhile.
   */
  async function renewIfDue(agent: AgentRow): Promise<void> {
    const t = now();
    const left = (agent.cert_not_after ?? 0) - t;
    if (left >= (deps.certificateDays * 86_400_000) / 3) return;
    if (renewalBackoff(agent, t) !== undefined) return;
    try {
      await renew(agent);
      renewalFailed.delete(agent.id);
    } catch (err) {
      const message = `certificate renewal failed: ${((err as Error).message.split('\n')[0] ?? '').trim()}`;
      renewalFailed.set(agent.id, { at: t, serial: agent.cert_serial, message });
      await record(agent, { error: renewalBackoff(agent, t) ?? message });
    }
  }

  /**
   * Pulls over mutual TLS. When the handshake fails or the connection does, a plain-HTTP request
   * tells why: an agent that answers it as the agent does over plain HTTP (`servesPlainHttp`)
   * lost its certificate; any other answer (the Go server's 400 on its TLS port above all), or
   * none, leaves the first failure as the error.
   */
  async function pullMtls(agent: AgentRow): Promise<void> {
    let doc: Record<string, unknown>;
    try {
      doc = parse(agent, await call(agent, true, 'GET', '/'), 'GET /');
    } catch (err) {
      // A failed handshake, or a connection closed on it (what a Node.js server that serves
      // plain HTTP does with a TLS greeting).
      if (!(err instanceof PullError) || (err.kind !== 'tls' && err.kind !== 'network')) throw err;
      let plain: boolean;
      try {
        plain = servesPlainHttp(await call(agent, false, 'GET', '/', undefined, 5000));
      } catch {
        plain = false;
      }
      if (!plain) throw err;
      if (agent.pull_tls !== 'certificate_deleted')
        deps.log.warn(
          { agent_id: agent.id, address: agent.pull_address },
          'pull agent answers plain HTTP after Auto-TLS: certificate deleted on agent; not trusted',
        );
      await record(agent, {
        tls: 'certificate_deleted',
        error:
          'certificate deleted on agent: it answers plain HTTP after Auto-TLS; its data is not trusted (remove and add the agent again to redo Auto-TLS)',
      });
      return;
    }
    await record(agent, {
      tls: 'mtls',
      document: doc,
      error: renewalBackoff(agent, now()),
    });
    await packages(agent, true, doc);
    await renewIfDue(agent);
  }

  async function poll(agent: AgentRow): Promise<void> {
    try {
      switch (agent.pull_tls) {
        case 'mtls':
        case 'certificate_deleted':
          return await pullMtls(agent);
        case 'autotls_failed':
          return await pullAfterFailedAutoTls(agent);
        case 'plain':
          return await pullPlain(agent);
        default:
          return await firstContact(agent);
      }
    } catch (err) {
      const message = ((err as Error).message.split('\n')[0] ?? '').trim();
      await record(agent, { error: message }).catch(() => undefined);
    }
  }

  const start = (a: AgentRow): Promise<void> => {
    lastPoll.set(a.id, now());
    const p = poll(a).finally(() => inFlight.delete(a.id));
    inFlight.set(a.id, p);
    return p;
  };

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
      void start(a);
    }
  };
  const timer = setInterval(() => void tick(), deps.tickMs ?? 1000);
  timer.unref();

  return {
    pollNow(id) {
      lastPoll.delete(id);
    },
    async poll(id) {
      await inFlight.get(id);
      const agent = (await deps.agents.pullAgents()).find((a) => a.id === id);
      if (!agent) throw new VigilError('not_found', `no approved pull agent ${id}`);
      await start(agent);
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
      // What a poll finds from now on is not recorded: its requests are cut off at once, and
      // only a write already under way is waited for.
      mtlsAgent.destroy();
      plainAgent.destroy();
      await Promise.allSettled([...inFlight.values()]);
    },
  };
}
