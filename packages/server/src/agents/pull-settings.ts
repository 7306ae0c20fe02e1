import { VigilError } from '../errors.js';

/**
 * Normalises a pull address: `HOST:PORT`, `[v6]:PORT` or an http(s) URL with nothing but a host
 * and port. Returns `HOST:PORT`; undefined when it is none of these.
 */
export function normalizePullAddress(text: string): string | undefined {
  let t = text.trim();
  const scheme = /^(https?):\/\//i.exec(t);
  if (scheme) t = t.slice(scheme[0].length).replace(/\/$/, '');
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(t);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) return undefined;
  return `${m[1]}:${m[2]}`;
}

/** The pull address of a request, normalised. @throws VigilError bad_data */
export function pullAddressOf(text: string): string {
  const address = normalizePullAddress(text);
  if (!address)
    throw new VigilError(
      'bad_data',
      `address must be HOST:PORT of the agent web server (e.g. 10.0.0.5:3333); got '${text}'`,
      { code: 'agent.address_invalid' },
    );
  return address;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Checks a pull agent's HTTP Basic credentials as the agent's `auth = user:password` can hold
 * them: the user name ends at the first ':', so it may not contain one.
 * @throws VigilError bad_data
 */
export function checkCredentials(username: string, password: string): void {
  const bad = (message: string) =>
    new VigilError('bad_data', message, { code: 'agent.credentials_invalid' });
  if (username.includes(':'))
    throw bad(
      "username may not contain ':' (the agent's auth = user:password splits at the first ':')",
    );
  if (CONTROL.test(username) || CONTROL.test(password))
    throw bad('username and password may not contain control characters');
}
