import { X509Certificate, createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type { AgentCommand, CommandResult } from '@vigil/protocol';
import { writeFileAtomic } from '../files.js';
import { deployedSetOf, type DeployedSet } from '../checks/deployed.js';
import { checksumField, complianceDeliveryOf, type ComplianceLink } from '../compliance/pack.js';
import type { Host } from '../host.js';
import { buildCsr } from '../serve/csr.js';
import { AGENT_VERSION } from '../version.js';
import { runCommand } from './commands.js';
import { endpoint, errorText, request, TransportError, type Endpoint } from './http.js';
import { createInventorySender } from './inventory.js';
import { fetchTicket, localHostFacts, registerHost, SelfServiceError } from './self-service.js';
import type { SendOutcome, Transport } from './pusher.js';
import type { LogPoster } from '../logs/shipper.js';

/** The files `vigil-agent enroll` writes beside config.ini (all mode 0600). */
export const NATIVE_FILES = {
  state: 'vigil-server.json',
  key: 'vigil-agent.key',
  cert: 'vigil-agent.crt',
  ca: 'vigil-ca.crt',
} as const;

/** What the agent remembers of its enrollment with a Vigil server. */
export interface NativeState {
  server: string;
  agent_id: string;
  /** SHA-256 of the pinned server CA, lower-case hex without colons. */
  ca_fingerprint: string;
  status: 'approved' | 'pending';
  /** While pending: the secret with which the agent asks for its certificate. */
  poll_secret?: string;
}

/** A problem the operator must fix (bad fingerprint, refused token); printed without a stack. */
export class EnrollError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnrollError';
  }
}

const file = (dir: string, name: keyof typeof NATIVE_FILES) => path.join(dir, NATIVE_FILES[name]);
const write = (dir: string, name: keyof typeof NATIVE_FILES, text: string) =>
  writeFileAtomic(file(dir, name), text, { mode: 0o600, backup: false });

/** Reads the enrollment state in `dir`, or undefined when the agent is not enrolled there. */
export function readNativeState(dir: string): NativeState | undefined {
  const f = file(dir, 'state');
  if (!existsSync(f)) return undefined;
  const s = JSON.parse(readFileSync(f, 'utf8')) as NativeState;
  if (typeof s.server !== 'string' || typeof s.agent_id !== 'string')
    throw new EnrollError(`${f} is damaged: enroll again`);
  return s;
}

/** Normalises a SHA-256 fingerprint given as hex, with or without colons, in any case. */
export function normalizeFingerprint(text: string): string {
  const hex = text.replace(/[\s:]/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex))
    throw new EnrollError(
      `--ca-fingerprint must be a SHA-256 fingerprint (64 hex digits, colons allowed); got "${text}"`,
    );
  return hex;
}

const fingerprintOfDer = (der: Buffer) => createHash('sha256').update(der).digest('hex');

/**
 * Connects to the server, walks the certificate chain it presents and returns (as PEM) the
 * certificate whose SHA-256 fingerprint is `pin`: the CA the agent trusts from then on. Nothing
 * else about the connection is trusted before this check.
 */
export function fetchPinnedCa(serverUrl: string, pin: string, timeoutMs = 10_000): Promise<string> {
  const u = new URL(serverUrl);
  if (u.protocol !== 'https:')
    throw new EnrollError(`the server URL must be https:// (got ${serverUrl})`);
  const port = Number(u.port || 443);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      servername: /^[\d.]+$|:/.test(host) ? undefined : host,
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new EnrollError(`no TLS answer from ${u.host} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new EnrollError(`cannot reach ${u.host}: ${err.message}`));
    });
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const seen: string[] = [];
      let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      while (cert?.raw) {
        const fp = fingerprintOfDer(cert.raw);
        seen.push(fp);
        if (fp === pin) {
          socket.end();
          resolve(new X509Certificate(cert.raw).toString());
          return;
        }
        if (cert.issuerCertificate === cert) break;
        cert = cert.issuerCertificate;
      }
      socket.end();
      reject(
        new EnrollError(
          `the server's certificates do not match --ca-fingerprint: refusing to enroll ` +
            `(expected ${pin}, the server presented ${seen.join(', ') || 'none'})`,
        ),
      );
    });
  });
}

/** What `vigil-agent enroll` needs. */
export interface EnrollOptions {
  server: string;
  token?: string;
  /**
   * A host template's self-service API key: the host registers itself with it, gets its ticket
   * and enrolls with that (instead of a token or an operator's approval).
   */
  templateKey?: string;
  /** The Icinga 2 ticket of this host (`director/host/ticket`): enrolls at once, as a token does. */
  ticket?: string;
  caFingerprint: string;
  /** Where to keep the state and key files: the directory of config.ini. */
  dir: string;
  /** The agent id to ask for when enrolling without a token (default: a UUID chosen by the server). */
  id?: string;
  /** Seconds to wait for an operator's approval before leaving it to `run`. */
  waitSeconds: number;
  log: (line: string) => void;
}

const newKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

/**
 * Enrolls this agent with a Vigil server: pins the server CA by fingerprint, sends a CSR (with
 * the one-time token, or for an operator's approval), and stores the server URL, the key and the
 * certificates beside config.ini, mode 0600. Returns the state written.
 */
export async function enroll(opts: EnrollOptions): Promise<NativeState> {
  const pin = normalizeFingerprint(opts.caFingerprint);
  let server: URL;
  try {
    server = new URL(opts.server);
  } catch {
    throw new EnrollError(
      `--server must be a URL such as https://vigil.example:8443 (got ${opts.server})`,
    );
  }
  const caPem = await fetchPinnedCa(server.href, pin);
  const key = newKey();
  const hostname = os.hostname();
  const ep = endpoint(server.href, { ca: caPem, verify: true, checkHostname: false });
  let answer;
  try {
    let ticket = opts.ticket;
    if (opts.templateKey !== undefined) {
      try {
        const host = localHostFacts(hostname);
        const hostKey = await registerHost(ep, {
          dir: opts.dir,
          templateKey: opts.templateKey,
          host,
          log: opts.log,
        });
        ticket = await fetchTicket(ep, hostKey);
      } catch (err) {
        if (err instanceof SelfServiceError) throw new EnrollError(err.message);
        throw err;
      }
    }
    answer = await request(ep, 'POST', '/api/v1/agents/enroll', {
      body: JSON.stringify({
        ...(opts.token ? { token: opts.token } : {}),
        ...(ticket ? { ticket } : {}),
        ...(opts.id ? { id: opts.id } : {}),
        csr: buildCsr(key, hostname),
        hostname,
        os: process.platform,
        architecture: goArch(process.arch),
        version: AGENT_VERSION,
      }),
      timeoutMs: 15_000,
    });
  } finally {
    ep.agent.destroy();
  }
  const body = answer.json as {
    agent_id?: string;
    status?: string;
    certificate?: string;
    poll_secret?: string;
  };
  if (answer.status !== 201 && answer.status !== 202)
    throw new EnrollError(
      `the server refused the enrollment (HTTP ${answer.status}): ${errorText(answer)}`,
    );
  const state: NativeState = {
    server: server.href.replace(/\/$/, ''),
    agent_id: body.agent_id!,
    ca_fingerprint: pin,
    status: answer.status === 201 ? 'approved' : 'pending',
    ...(body.poll_secret ? { poll_secret: body.poll_secret } : {}),
  };
  write(opts.dir, 'key', key.export({ type: 'pkcs8', format: 'pem' }).toString());
  write(opts.dir, 'ca', caPem);
  if (body.certificate) write(opts.dir, 'cert', body.certificate);
  write(opts.dir, 'state', `${JSON.stringify(state, null, 2)}\n`);
  if (state.status === 'pending' && opts.waitSeconds > 0) {
    opts.log(`enrollment of agent ${state.agent_id} waits for an operator's approval…`);
    const deadline = Date.now() + opts.waitSeconds * 1000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2000));
      if (await pollOnce(opts.dir, state)) return { ...state, status: 'approved' };
    }
  }
  return readNativeState(opts.dir)!;
}

/** Node's architecture names as Go (and openITCOCKPIT) spell them. */
export function goArch(arch: string): string {
  return arch === 'x64' ? 'amd64' : arch === 'ia32' ? '386' : arch;
}

/**
 * Asks the server whether a pending enrollment was approved; stores the certificate when it was.
 * Returns true once approved. @throws EnrollError when it was rejected.
 */
async function pollOnce(dir: string, state: NativeState): Promise<boolean> {
  const ep = endpoint(state.server, {
    ca: readFileSync(file(dir, 'ca'), 'utf8'),
    verify: true,
    checkHostname: false,
  });
  try {
    const a = await request(ep, 'POST', '/api/v1/agents/enroll/poll', {
      body: JSON.stringify({ agent_id: state.agent_id, poll_secret: state.poll_secret }),
      timeoutMs: 15_000,
    });
    if (a.status === 202) return false;
    if (a.status === 200) {
      const b = a.json as { certificate: string };
      write(dir, 'cert', b.certificate);
      const next: NativeState = { ...state, status: 'approved' };
      delete next.poll_secret;
      write(dir, 'state', `${JSON.stringify(next, null, 2)}\n`);
      return true;
    }
    throw new EnrollError(
      `enrollment of agent ${state.agent_id}: ${errorText(a)} (HTTP ${a.status})`,
    );
  } finally {
    ep.agent.destroy();
  }
}

/** A native client: pushes over mutual TLS, renews its certificate, and runs commands. */
export interface NativeClient {
  readonly transport: Transport;
  /**
   * Sends a finished package scan (the `GET /packages` answer, as JSON text) to
   * `POST /api/v1/agents/{id}/packages`, as `InventorySender.submit` does (one in flight, a
   * refused one waits for the next scan, a failed one is retried with backoff after a later
   * check-data push); while the enrollment is pending it waits for the approval.
   */
  submitPackages(inventoryJson: string): Promise<void>;
  /** Posts gzipped log pushes to `POST /api/v1/agents/{id}/logs` once the enrollment is approved. */
  readonly logs: LogPoster;
  stop(): void;
}

/** How long a command long poll asks the server to wait, in seconds. */
const LONG_POLL_SECONDS = 25;

/** The longest a request of the native client may take (the command long poll's timeout). */
const LONGEST_REQUEST_MS = (LONG_POLL_SECONDS + 15) * 1000;

/**
 * Starts the client for an enrolled agent. While its enrollment is pending it polls for the
 * certificate (documents wait in the spool meanwhile); once approved it pushes, holds a long poll
 * for commands, and renews its certificate when a third of its lifetime is left.
 */
export function startNativeClient(opts: {
  dir: string;
  host: () => Host;
  log: (line: string) => void;
  /** Called with the interval the server asks for. */
  onInterval?: (seconds: number) => void;
  /** Called with the checks the server deployed to this host, at every answer that names them. */
  onChecks?: (set: DeployedSet) => void;
  /** The compliance packs the agent holds (their checksum rides in every push) and receives. */
  compliance?: ComplianceLink;
  /** The clock, in milliseconds (the package inventory's retry waits); tests replace it. */
  now?: () => number;
}): NativeClient {
  const { dir, log } = opts;
  let state = readNativeState(dir)!;
  let ep: Endpoint | undefined;
  let stopped = false;
  let renewing: Promise<void> | undefined;
  let lastPoll = 0;
  let notAfterMs = 0;
  let renewAtMs = 0;
  const ca = () => readFileSync(file(dir, 'ca'), 'utf8');
  /** Connection pools of replaced certificates, finishing what they carry. */
  const retired = new Set<Endpoint>();

  /**
   * Requests the server is already working on (the command long poll, a push) finish on the
   * connections of the replaced certificate: the server authenticated them before the renewal.
   * Idle connections close now, the rest once the longest request could have ended.
   */
  const retire = (old: Endpoint) => {
    for (const sockets of Object.values(old.agent.freeSockets))
      for (const socket of sockets ?? []) socket.destroy();
    retired.add(old);
    setTimeout(() => {
      old.agent.destroy();
      retired.delete(old);
    }, LONGEST_REQUEST_MS).unref();
  };

  const open = () => {
    if (ep) retire(ep);
    const certPem = readFileSync(file(dir, 'cert'), 'utf8');
    const cert = new X509Certificate(certPem);
    const from = Date.parse(cert.validFrom);
    notAfterMs = Date.parse(cert.validTo);
    renewAtMs = notAfterMs - (notAfterMs - from) / 3;
    ep = endpoint(state.server, {
      ca: ca(),
      cert: certPem,
      key: readFileSync(file(dir, 'key'), 'utf8'),
      verify: true,
      checkHostname: false,
    });
  };

  const renew = async () => {
    const key = newKey();
    const a = await request(
      ep!,
      'POST',
      `/api/v1/agents/${encodeURIComponent(state.agent_id)}/certificate`,
      {
        body: JSON.stringify({ csr: buildCsr(key, os.hostname()) }),
        timeoutMs: 15_000,
      },
    );
    if (a.status !== 200) throw new Error(`HTTP ${a.status}: ${errorText(a)}`);
    const b = a.json as { certificate: string };
    // The key first: a crash between the two writes leaves a key without its certificate, which
    // the next renewal cannot use, but the old certificate with the new key would be worse.
    write(dir, 'key', key.export({ type: 'pkcs8', format: 'pem' }).toString());
    write(dir, 'cert', b.certificate);
    open();
    log(`certificate renewed; valid until ${new Date(notAfterMs).toISOString()}`);
  };

  /**
   * Sends a request with the current certificate. A request that went out with a certificate a
   * renewal replaced meanwhile (it waited for a connection, or crossed the renewal on the wire)
   * is refused 401; it goes once more with the new one.
   */
  const call = async (
    method: 'GET' | 'POST',
    pathname: string,
    init: Parameters<typeof request>[3],
  ) => {
    const used = ep!;
    const a = await request(used, method, pathname, init);
    if (a.status !== 401) return a;
    if (renewing) await renewing;
    return ep && ep !== used ? request(ep, method, pathname, init) : a;
  };

  const maybeRenew = () => {
    if (renewing || Date.now() < renewAtMs) return;
    renewing = renew()
      .catch((err: unknown) =>
        log(`certificate renewal failed, will retry: ${(err as Error).message}`),
      )
      .finally(() => {
        renewing = undefined;
      });
  };

  const report = async (command: AgentCommand) => {
    let result: CommandResult;
    try {
      result = runCommand(opts.host(), command);
    } catch (err) {
      result = { ok: false, failure: 'bad_command', message: (err as Error).message };
    }
    try {
      await call(
        'POST',
        `/api/v1/agents/${encodeURIComponent(state.agent_id)}/commands/${encodeURIComponent(command.id)}/result`,
        { body: JSON.stringify(result), timeoutMs: 15_000 },
      );
    } catch (err) {
      log(`could not report the result of command ${command.id}: ${(err as Error).message}`);
    }
  };

  const commandLoop = async () => {
    let failures = 0;
    while (!stopped) {
      if (state.status !== 'approved' || !ep) {
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      try {
        const a = await call(
          'GET',
          `/api/v1/agents/${encodeURIComponent(state.agent_id)}/commands?wait=${LONG_POLL_SECONDS}`,
          { timeoutMs: LONGEST_REQUEST_MS },
        );
        if (a.status !== 200) throw new Error(`HTTP ${a.status}: ${errorText(a)}`);
        failures = 0;
        for (const c of (a.json as { commands: AgentCommand[] }).commands) void report(c);
      } catch (err) {
        if (stopped) return;
        failures += 1;
        const delay =
          Math.min(60_000, 1000 * 2 ** Math.min(failures, 6)) * (0.5 + Math.random() / 2);
        if (failures === 1) log(`command channel: ${(err as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  };

  if (state.status === 'approved') open();

  const packages = createInventorySender({
    post: (inventory) =>
      call('POST', `/api/v1/agents/${encodeURIComponent(state.agent_id)}/packages`, {
        body: inventory,
        timeoutMs: 30_000,
      }),
    ready: () => state.status === 'approved' && ep !== undefined && !stopped,
    acceptedStatus: 204,
    log,
    now: opts.now ?? Date.now,
  });

  const transport: Transport = {
    name: `${state.server} (agent ${state.agent_id})`,
    async send(collectedAt, text): Promise<SendOutcome> {
      if (state.status === 'pending') {
        if (Date.now() - lastPoll >= 5000) {
          lastPoll = Date.now();
          try {
            if (await pollOnce(dir, state)) {
              state = readNativeState(dir)!;
              open();
              log(`enrollment approved: pushing as agent ${state.agent_id}`);
            }
          } catch (err) {
            return { ok: false, retry: true, reason: (err as Error).message };
          }
        }
        if (state.status === 'pending')
          return { ok: false, retry: true, reason: 'enrollment waits for approval' };
      }
      maybeRenew();
      let a;
      try {
        a = await call('POST', `/api/v1/agents/${encodeURIComponent(state.agent_id)}/checkdata`, {
          body: `{"collected_at":${collectedAt},"checkdata":${text}${checksumField(opts.compliance)}}`,
          timeoutMs: 30_000,
        });
      } catch (err) {
        return {
          ok: false,
          retry: true,
          reason: err instanceof TransportError ? err.message : String(err),
        };
      }
      if (a.status === 200) {
        const b = a.json as { commands?: AgentCommand[]; interval_seconds?: number };
        for (const c of b.commands ?? []) void report(c);
        if (b.interval_seconds) opts.onInterval?.(b.interval_seconds);
        const deployed = deployedSetOf(a.json);
        if (deployed) opts.onChecks?.(deployed);
        const compliance = complianceDeliveryOf(a.json);
        if (compliance) opts.compliance?.onDelivery(compliance);
        packages.afterPush();
        return { ok: true };
      }
      const reason = `HTTP ${a.status}: ${errorText(a)}`;
      // A document the server cannot take now or ever (bad or too large) is dropped; anything
      // else (refused certificate, overload, server error) is kept and retried.
      return { ok: false, retry: !(a.status === 400 || a.status === 413), reason };
    },
  };
  void commandLoop();
  return {
    transport,
    submitPackages: (inventoryJson) => packages.submit(inventoryJson),
    logs: {
      ready: () => state.status === 'approved' && ep !== undefined && !stopped,
      post: (gzippedJson) =>
        call('POST', `/api/v1/agents/${encodeURIComponent(state.agent_id)}/logs`, {
          body: gzippedJson,
          headers: { 'content-encoding': 'gzip' },
          timeoutMs: 30_000,
        }),
    },
    stop() {
      stopped = true;
      ep?.agent.destroy();
      for (const old of retired) old.agent.destroy();
      retired.clear();
    },
  };
}
