import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../files.js';
import { errorText, request, type Endpoint, type HttpAnswer } from './http.js';

/** The file beside config.ini that keeps this host's self-service API key (mode 0600). */
export const HOST_KEY_FILE = 'director-host-key';

/** A refusal of the Director self-service API, with the server's reason. */
export class SelfServiceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelfServiceError';
  }
}

/** What the self-service registration tells the server about this host. */
export interface HostFacts {
  /** The host's name (its fully qualified name): the object name and the ticket's subject. */
  name: string;
  display_name: string;
  address: string | null;
  address6: string | null;
}

/**
 * This machine's name and first addresses: the first IPv4 and IPv6 address (not loopback, not
 * link-local) of its interfaces, in the order the system lists them.
 */
export function localHostFacts(name: string = os.hostname()): HostFacts {
  let address: string | null = null;
  let address6: string | null = null;
  for (const list of Object.values(os.networkInterfaces()))
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv4') address ??= a.address;
      else if (!a.address.toLowerCase().startsWith('fe80:')) address6 ??= a.address;
    }
  return { name, display_name: name, address, address6 };
}

/** The JSON string a self-service answer carries, or a SelfServiceError naming the step. */
function jsonString(step: string, a: HttpAnswer): string {
  if (a.status !== 200)
    throw new SelfServiceError(`${step} was refused (HTTP ${a.status}): ${errorText(a)}`);
  if (typeof a.json !== 'string' || a.json === '')
    throw new SelfServiceError(`${step} answered HTTP 200 without a JSON string`);
  return a.json;
}

/**
 * Registers this host with a host template's API key
 * (`POST /director/self-service/register-host?name=NAME&key=KEY`, body
 * `{display_name, address, address6}`) and returns the host's own API key, which it keeps in
 * `<dir>/director-host-key` (mode 0600). A key kept there from an earlier registration is used
 * instead: the server refuses to register a host that already has one.
 * @throws SelfServiceError with the server's reason for a refusal.
 */
export async function registerHost(
  ep: Endpoint,
  opts: { dir: string; templateKey: string; host: HostFacts; log: (line: string) => void },
): Promise<string> {
  const file = path.join(opts.dir, HOST_KEY_FILE);
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept !== '') {
      opts.log(`using the host API key kept in ${file}`);
      return kept;
    }
  }
  const { name, ...body } = opts.host;
  const q = new URLSearchParams({ name, key: opts.templateKey });
  const a = await request(ep, 'POST', `/director/self-service/register-host?${q}`, {
    body: JSON.stringify(body),
    headers: { accept: 'application/json' },
    timeoutMs: 15_000,
  });
  const key = jsonString(`registering host ${name}`, a);
  writeFileAtomic(file, `${key}\n`, { mode: 0o600 });
  return key;
}

/**
 * The Icinga 2 ticket of the host whose API key this is
 * (`GET /director/self-service/ticket?key=KEY`).
 * @throws SelfServiceError with the server's reason for a refusal.
 */
export async function fetchTicket(ep: Endpoint, hostKey: string): Promise<string> {
  const q = new URLSearchParams({ key: hostKey });
  const a = await request(ep, 'GET', `/director/self-service/ticket?${q}`, {
    headers: { accept: 'application/json' },
    timeoutMs: 15_000,
  });
  return jsonString('fetching the ticket', a);
}
