import { VigilError } from '../errors.js';
import type { ChannelSecrets, ChannelType, PublicSettings } from './model.js';

/** The secret fields of each channel type: sealed at rest, answered only as `has_<field>`. */
export const SECRET_FIELDS: Record<ChannelType, readonly string[]> = {
  webhook: ['secret', 'headers'],
  email: ['password'],
  slack: ['url'],
  ntfy: ['token'],
  alertmanager: ['headers'],
};

/** The public fields of each channel type. */
const PUBLIC_FIELDS: Record<ChannelType, readonly string[]> = {
  webhook: ['url'],
  email: ['host', 'port', 'tls', 'from', 'to', 'username'],
  slack: [],
  ntfy: ['url', 'topic', 'priority'],
  alertmanager: ['url', 'receiver'],
};

const bad = (field: string, message: string) =>
  new VigilError('bad_data', `settings.${field}: ${message}`, { code: 'validation_failed' });

function httpUrl(v: unknown, field: string): string {
  if (typeof v !== 'string' || !v) throw bad(field, 'required');
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw bad(field, 'not a URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw bad(field, 'must be http(s)');
  return v;
}

const ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/;

/** Checks the fields of a type: throws bad_data naming the first field at fault. */
function check(type: ChannelType, s: Record<string, unknown>): void {
  const known = new Set([...PUBLIC_FIELDS[type], ...SECRET_FIELDS[type]]);
  for (const k of Object.keys(s))
    if (!known.has(k) && s[k] !== undefined) throw bad(k, `not a setting of a ${type} channel`);
  const headers = s.headers;
  if (headers !== undefined && headers !== null) {
    if (typeof headers !== 'object' || Array.isArray(headers))
      throw bad('headers', 'an object of header names and values');
    for (const [k, v] of Object.entries(headers as Record<string, unknown>))
      if (!/^[A-Za-z0-9-]+$/.test(k) || typeof v !== 'string' || /[\r\n]/.test(v))
        throw bad('headers', `header ${JSON.stringify(k)} is not a valid header`);
  }
  switch (type) {
    case 'webhook':
    case 'alertmanager':
      httpUrl(s.url, 'url');
      break;
    case 'slack':
      httpUrl(s.url, 'url');
      break;
    case 'ntfy':
      httpUrl(s.url, 'url');
      if (typeof s.topic !== 'string' || !/^[-_A-Za-z0-9]{1,64}$/.test(s.topic))
        throw bad('topic', 'required: 1 to 64 letters, digits, - or _');
      if (
        s.priority !== undefined &&
        s.priority !== null &&
        !(
          Number.isInteger(s.priority) &&
          (s.priority as number) >= 1 &&
          (s.priority as number) <= 5
        )
      )
        throw bad('priority', 'an integer from 1 to 5');
      break;
    case 'email': {
      if (typeof s.host !== 'string' || !s.host) throw bad('host', 'required');
      if (
        s.port !== undefined &&
        s.port !== null &&
        !(Number.isInteger(s.port) && (s.port as number) >= 1 && (s.port as number) <= 65535)
      )
        throw bad('port', 'an integer from 1 to 65535');
      if (s.tls !== undefined && !['starttls', 'tls', 'none'].includes(s.tls as string))
        throw bad('tls', 'one of starttls, tls, none');
      if (typeof s.from !== 'string' || !ADDRESS.test(s.from))
        throw bad('from', 'an e-mail address');
      if (!Array.isArray(s.to) || s.to.length === 0) throw bad('to', 'at least one address');
      for (const a of s.to)
        if (typeof a !== 'string' || !ADDRESS.test(a))
          throw bad('to', `${String(a)} is not an e-mail address`);
      if (s.username !== undefined && s.username !== null && typeof s.username !== 'string')
        throw bad('username', 'a string');
      if (s.password !== undefined && s.password !== null && typeof s.password !== 'string')
        throw bad('password', 'a string');
      break;
    }
  }
  for (const f of ['secret', 'token'])
    if (s[f] !== undefined && s[f] !== null && (typeof s[f] !== 'string' || !s[f]))
      throw bad(f, 'a non-empty string');
}

/**
 * Splits settings into public settings and secrets after checking them. `old` holds the stored
 * ones on a change: a secret absent from `input` is kept, a secret given null is removed.
 * @throws VigilError bad_data naming the field (`settings.url: must be http(s)`).
 */
export function splitSettings(
  type: ChannelType,
  input: Record<string, unknown>,
  old?: { settings: PublicSettings; secrets: ChannelSecrets },
): { settings: PublicSettings; secrets: ChannelSecrets } {
  const secrets: ChannelSecrets = {};
  for (const f of SECRET_FIELDS[type]) {
    const v = input[f] === undefined ? old?.secrets[f] : input[f];
    if (v !== undefined && v !== null) secrets[f] = v;
  }
  const settings: PublicSettings = {};
  for (const f of PUBLIC_FIELDS[type]) {
    const v = input[f];
    if (v !== undefined && v !== null) settings[f] = v;
  }
  check(type, { ...input, ...settings, ...secrets });
  return { settings, secrets };
}

/** Public settings with a `has_<field>` flag per secret field of the type. */
export function settingsView(
  type: ChannelType,
  settings: PublicSettings,
  secrets: Pick<ChannelSecrets, string> | Set<string>,
): Record<string, unknown> {
  const has = (f: string) => (secrets instanceof Set ? secrets.has(f) : secrets[f] !== undefined);
  return {
    ...settings,
    ...Object.fromEntries(SECRET_FIELDS[type].map((f) => [`has_${f}`, has(f)])),
  };
}
