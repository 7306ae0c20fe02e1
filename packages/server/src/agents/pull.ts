import { VigilError } from '../errors.js';
import type { PullCommander } from './commands.js';
import type { AgentIntake } from './intake.js';
import { certificateFields, type AgentRow } from './model.js';
import {
  accepted,
  createPullClient,
  parseAnswer as parse,
  PullError,
  type Answer,
  type PullIdentity,
} from './pull-client.js';
import { createPackageReader } from './pull-packages.js';
import type { AgentRegistry } from './registry.js';

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
 * when the agent has scanned anew (`createPackageReader`).
 */
export function startPuller(deps: {
  registry: Pick<
    AgentRegistry,
    'pullAgents' | 'collectionInterval' | 'pullCredentials' | 'recordAutoTls'
  >;
  intake: Pick<AgentIntake, 'recordPull' | 'recordPullInventory'>;
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
  /** The last failed renewal of each agent's certificate (serial: the certificate it was for). */
  const renewalFailed = new Map<string, { at: number; serial: string | null; message: string }>();
  const inFlight = new Map<string, Promise<void>>();
  let stopped = false;
  /**
   * Records what a poll found. Once the server stops, a poll cut short records nothing: the
   * failure it met is the shutdown's, not the agent's, and must not change the agent's state.
   */
  const record: AgentIntake['recordPull'] = (agent, outcome) =>
    stopped ? Promise.resolve() : deps.intake.recordPull(agent, outcome);
  const client = createPullClient({
    identity: deps.identity,
    maxAnswerBytes: deps.maxAnswerBytes,
    credentials: (agent) => deps.registry.pullCredentials(agent),
  });
  const call = client.call;
  const packages = createPackageReader({ client, intake: deps.intake, log: deps.log, now });
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
      await deps.registry.recordAutoTls(agent, cert, { tls: 'mtls' });
      deps.log.info(
        { agent_id: agent.id, address: agent.pull_address, serial: cert.serial },
        'Auto-TLS established with pull agent',
      );
      const issued = { ...agent, ...certificateFields(cert), pull_tls: 'mtls' as const };
      // Right after its reload the agent answers `{}` until its checks ran: proof enough that
      // mutual TLS works, and recorded as a contact without data.
      await record(issued, { tls: 'mtls', document: outcome.document });
      await packages(issued, true, outcome.document);
      return;
    }
    const error = didNotTake(agent, outcome.failure);
    deps.log.warn({ agent_id: agent.id, address: agent.pull_address }, error);
    if (agent.pull_autotls === 'on') {
      await deps.registry.recordAutoTls(agent, cert, { tls: 'autotls_failed', error });
      return;
    }
    await deps.registry.recordAutoTls(agent, cert, { tls: 'plain', error });
    await pullPlain({ ...agent, ...certificateFields(cert), pull_tls: 'plain' });
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
    await deps.registry.recordAutoTls(agent, cert, {
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

  /** Starts a poll of `a`; the caller has made sure none of it is in flight. */
  const start = (a: AgentRow): Promise<void> => {
    lastPoll.set(a.id, now());
    const p = poll(a).finally(() => inFlight.delete(a.id));
    inFlight.set(a.id, p);
    return p;
  };

  const tick = async () => {
    if (stopped) return;
    // Taken before the rows are read: a poll started while they are read (its time is later)
    // is not started again from a row that may predate it.
    const t = now();
    let agents: AgentRow[];
    try {
      agents = await deps.registry.pullAgents();
    } catch {
      return;
    }
    const fleet = await deps.registry.collectionInterval().catch(() => null);
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
      // Never two polls of one agent at once (two first contacts would both run Auto-TLS):
      // the row is read after the poll in flight ended, and a poll that another caller or the
      // scheduler started while it was read is waited for in turn.
      for (;;) {
        const running = inFlight.get(id);
        if (running) {
          await running;
          continue;
        }
        const agent = (await deps.registry.pullAgents()).find((a) => a.id === id);
        if (!agent) throw new VigilError('not_found', `no approved pull agent ${id}`);
        if (inFlight.has(id)) continue;
        return start(agent);
      }
    },
    commander: client.commander,
    async stop() {
      stopped = true;
      clearInterval(timer);
      // What a poll finds from now on is not recorded: its requests are cut off at once, and
      // only a write already under way is waited for.
      client.stop();
      await Promise.allSettled([...inFlight.values()]);
    },
  };
}
