import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type { AgentConfig } from '../config.js';
import { writeFileAtomic } from '../files.js';
import { endpoint, errorText, request, type Endpoint } from './http.js';
import type { SendOutcome, Transport } from './pusher.js';

/** The push credentials openITCOCKPIT hands out, as the openITCOCKPIT agent stores them. */
interface AuthFile {
  uuid: string;
  password: string;
}

/** The answer openITCOCKPIT gives an agent that is registered but not (yet) linked to a host. */
const NOT_LINKED = 'Invalid credentials or host not found';

/**
 * Where openITCOCKPIT agents 3.x post each finished package scan (`pushclient/push.go`,
 * submitSoftwareInventoryData): the check-data route, marked with `type=packagemanager`.
 */
const PACKAGES_PATH = '/agentconnector/submit_checkdata.json?type=packagemanager';
/** First and longest wait before an inventory that failed for a passing reason is sent again. */
const PACKAGES_RETRY_BASE_MS = 60_000;
const PACKAGES_RETRY_MAX_MS = 3_600_000;

/** The first non-internal IPv4 address of this machine, sent along at registration. */
function localAddress(): string {
  for (const list of Object.values(os.networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '';
}

/** The openITCOCKPIT push client: a transport for check data, plus the package inventory. */
export interface OitcClient extends Transport {
  /**
   * Sends a finished package scan (the `GET /packages` answer, as JSON text) to
   * `submit_checkdata.json?type=packagemanager`. Never throws: a failure is logged. An inventory
   * the server refused (any 4xx) is not sent again; the next scan is. One that failed for a
   * passing reason (no answer, 5xx, 408, 429) is sent again after a later check-data push the
   * server takes, waiting 1 minute after the first failure, doubling up to an hour.
   */
  submitPackages(inventoryJson: string): Promise<void>;
}

/** What tests replace. */
export interface OitcClientOptions {
  /** The clock, in milliseconds. */
  now?: () => number;
}

/**
 * The openITCOCKPIT push protocol (`[oitc]`): registers with `register_agent.json` on first use
 * (keeping uuid and password in the auth file, mode 0600), then sends each document to
 * `submit_checkdata.json`. Until the server links the agent to a host, documents are refused and
 * stay buffered. Each finished package scan goes to `submit_checkdata.json?type=packagemanager`
 * in the body of a check-data push (`agentuuid`, `password`, the inventory under `checkdata`),
 * as openITCOCKPIT agents 3.x send it; as they do, only once the agent has its password.
 */
export function startOitcClient(
  config: AgentConfig,
  log: (line: string) => void,
  opts: OitcClientOptions = {},
): OitcClient {
  const now = opts.now ?? Date.now;
  const authFile = config.vigil.oitcAuthFile;
  let auth: AuthFile = { uuid: '', password: '' };
  if (existsSync(authFile)) {
    try {
      auth = { ...auth, ...(JSON.parse(readFileSync(authFile, 'utf8')) as Partial<AuthFile>) };
    } catch (err) {
      log(`push: ${authFile} is not valid JSON (${(err as Error).message}); registering anew`);
    }
  }
  const save = () =>
    writeFileAtomic(authFile, JSON.stringify(auth), { mode: 0o600, backup: false });
  if (!auth.uuid) {
    auth.uuid = randomUUID();
    save();
  }
  if (config.push.proxy)
    log(`push: [oitc] proxy = ${config.push.proxy} is not supported; connecting directly`);
  const ep: Endpoint = endpoint(config.push.url, {
    verify: config.push.verifyServerCertificate,
    checkHostname: true,
  });
  const headers: Record<string, string> = config.push.apikey
    ? { authorization: `X-OITC-API ${config.push.apikey}` }
    : {};
  const timeoutMs = Math.max(config.push.timeoutSeconds, 1) * 1000;
  let lastNotice = '';
  const notice = (line: string) => {
    if (line !== lastNotice) log(`push: ${line}`);
    lastNotice = line;
  };

  // openITCOCKPIT answers a missing or wrong X-OITC-API key on these routes with 401 and an
  // empty body (current releases) or with 405 Method Not Allowed (older ones, and its API
  // reference); neither says anything of the key itself, so name the likely cause instead.
  const keyRefused = (status: number): { ok: false; retry: true; reason: string } | undefined =>
    status === 401 || status === 405
      ? {
          ok: false,
          retry: true,
          reason: `the server refused the API key (HTTP ${status}): check apikey in the [oitc] section${config.push.apikey ? '' : ', which is empty'}`,
        }
      : undefined;

  const register = async (): Promise<SendOutcome | undefined> => {
    const a = await request(ep, 'POST', '/agentconnector/register_agent.json', {
      body: JSON.stringify({
        agentuuid: auth.uuid,
        password: '',
        hostname: os.hostname(),
        ipaddress: localAddress(),
      }),
      headers,
      timeoutMs,
    });
    const b = a.json as { agentuuid?: string; password?: string } | undefined;
    if (a.status === 201 && b?.agentuuid === auth.uuid && b.password) {
      auth.password = b.password;
      save();
      notice(`registered as ${auth.uuid}; waiting for the server to approve it`);
      return undefined;
    }
    const refused = keyRefused(a.status);
    if (refused) return refused;
    if (a.status === 403)
      return {
        ok: false,
        retry: true,
        reason: `${errorText(a)} — delete agent ${auth.uuid} on the server, or restore ${authFile}`,
      };
    return {
      ok: false,
      retry: true,
      reason: `registration failed (HTTP ${a.status}): ${errorText(a)}`,
    };
  };

  const body = (checkdata: string) =>
    `{"agentuuid":${JSON.stringify(auth.uuid)},"password":${JSON.stringify(auth.password)},"checkdata":${checkdata}}`;
  // The latest scan not sent yet, and when a failed one may be sent again.
  let unsentPackages: string | undefined;
  let packagesInFlight: Promise<void> | undefined;
  let packageFailures = 0;
  let packagesRetryAt = 0;
  const sendPackages = async (): Promise<void> => {
    const inventory = unsentPackages;
    if (inventory === undefined || !auth.password) return;
    const forget = () => {
      if (unsentPackages === inventory) unsentPackages = undefined;
    };
    let failure: string;
    try {
      const a = await request(ep, 'POST', PACKAGES_PATH, {
        body: body(inventory),
        headers,
        timeoutMs,
      });
      if (a.status === 200) {
        forget();
        packageFailures = 0;
        log('push: package inventory sent');
        return;
      }
      const refused = keyRefused(a.status);
      failure = refused ? refused.reason : `HTTP ${a.status}: ${errorText(a)}`;
      // A refusal stands until something changes: the same inventory is not sent again, the
      // next scan is.
      if (a.status >= 400 && a.status < 500 && a.status !== 408 && a.status !== 429) {
        forget();
        log(`push: package inventory refused (${failure}); waiting for the next scan`);
        return;
      }
    } catch (err) {
      failure = (err as Error).message;
    }
    packageFailures += 1;
    const waitMs = Math.min(
      PACKAGES_RETRY_MAX_MS,
      PACKAGES_RETRY_BASE_MS * 2 ** (packageFailures - 1),
    );
    packagesRetryAt = now() + waitMs;
    log(
      `push: package inventory not sent (${failure}); trying again in ${Math.round(waitMs / 1000)} s at the earliest`,
    );
  };
  const flushPackages = (): Promise<void> => {
    packagesInFlight ??= sendPackages().finally(() => (packagesInFlight = undefined));
    return packagesInFlight;
  };

  return {
    name: `${config.push.url} (openITCOCKPIT agent ${auth.uuid})`,
    async submitPackages(inventoryJson) {
      // A new scan goes at once, as openITCOCKPIT agents send each scan when it finishes.
      unsentPackages = inventoryJson;
      packagesRetryAt = 0;
      await packagesInFlight;
      await flushPackages();
    },
    async send(_collectedAt, text): Promise<SendOutcome> {
      if (!auth.password) {
        const failed = await register();
        if (failed) return failed;
      }
      const a = await request(ep, 'POST', '/agentconnector/submit_checkdata.json', {
        body: body(text),
        headers,
        timeoutMs,
      });
      if (a.status === 200) {
        lastNotice = '';
        if (unsentPackages !== undefined && now() >= packagesRetryAt) void flushPackages();
        return { ok: true };
      }
      const refused = keyRefused(a.status);
      if (refused) return refused;
      const reason = errorText(a);
      if (a.status === 400 && reason === NOT_LINKED)
        return { ok: false, retry: true, reason: `${reason} (not approved yet?)` };
      return {
        ok: false,
        retry: a.status !== 400 && a.status !== 413,
        reason: `HTTP ${a.status}: ${reason}`,
      };
    },
  };
}
