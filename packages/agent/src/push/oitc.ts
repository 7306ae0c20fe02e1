import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type { AgentConfig } from '../config.js';
import { writeFileAtomic } from '../files.js';
import { endpoint, errorText, request, type Endpoint } from './http.js';
import { createInventorySender } from './inventory.js';
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
   * `submit_checkdata.json?type=packagemanager`, as `InventorySender.submit` does (one in
   * flight, a refused one waits for the next scan, a failed one is retried with backoff).
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
  const packages = createInventorySender({
    post: (inventory) =>
      request(ep, 'POST', PACKAGES_PATH, { body: body(inventory), headers, timeoutMs }),
    ready: () => auth.password !== '',
    acceptedStatus: 200,
    failure: (a) => keyRefused(a.status)?.reason,
    log,
    now,
  });

  return {
    name: `${config.push.url} (openITCOCKPIT agent ${auth.uuid})`,
    submitPackages: (inventoryJson) => packages.submit(inventoryJson),
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
        packages.afterPush();
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
