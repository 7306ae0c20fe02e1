import type { Channel, ChannelType, SettingsInput } from './queries';

/** A public setting of a type, as the form shows it. */
export interface SettingSpec {
  key: string;
  label: string;
  kind: 'text' | 'number' | 'list' | 'tls';
  required?: boolean;
  placeholder?: string;
}

/** A secret setting of a type: write-only, shown only as set or not. */
export interface SecretSpec {
  key: string;
  label: string;
  multiline?: boolean;
  required?: boolean;
  placeholder?: string;
}

/** The settings of each type: public ones, then secrets (sealed on the server, never answered). */
export const SETTINGS: Record<ChannelType, { public: SettingSpec[]; secrets: SecretSpec[] }> = {
  webhook: {
    public: [{ key: 'url', label: 'URL', kind: 'text', required: true, placeholder: 'https://' }],
    secrets: [
      { key: 'secret', label: 'Signing secret (HMAC-SHA256)' },
      { key: 'headers', label: 'Extra headers', multiline: true, placeholder: 'Name: value' },
    ],
  },
  email: {
    public: [
      { key: 'host', label: 'SMTP server', kind: 'text', required: true },
      { key: 'port', label: 'Port', kind: 'number', placeholder: '587' },
      { key: 'tls', label: 'Encryption', kind: 'tls' },
      { key: 'from', label: 'From', kind: 'text', required: true },
      { key: 'to', label: 'To (comma-separated)', kind: 'list', required: true },
      { key: 'username', label: 'SMTP user name', kind: 'text' },
    ],
    secrets: [{ key: 'password', label: 'SMTP password' }],
  },
  slack: {
    public: [],
    secrets: [
      {
        key: 'url',
        label: 'Incoming webhook URL',
        required: true,
        placeholder: 'https://hooks.slack.com/services/…',
      },
    ],
  },
  ntfy: {
    public: [
      {
        key: 'url',
        label: 'Server URL',
        kind: 'text',
        required: true,
        placeholder: 'https://ntfy.sh',
      },
      { key: 'topic', label: 'Topic', kind: 'text', required: true },
      { key: 'priority', label: 'Priority (1 to 5)', kind: 'number' },
    ],
    secrets: [{ key: 'token', label: 'Access token' }],
  },
  alertmanager: {
    public: [
      { key: 'url', label: 'URL', kind: 'text', required: true, placeholder: 'https://' },
      { key: 'receiver', label: 'Receiver', kind: 'text' },
    ],
    secrets: [
      { key: 'headers', label: 'Extra headers', multiline: true, placeholder: 'Name: value' },
    ],
  },
};

/** A secret as edited: kept as stored, replaced by `value`, or removed. */
export interface SecretDraft {
  mode: 'keep' | 'set' | 'remove';
  value: string;
}

/** A channel being edited; numbers and lists kept as typed. */
export interface ChannelDraft {
  name: string;
  type: ChannelType;
  enabled: boolean;
  settings: Record<string, string>;
  secrets: Record<string, SecretDraft>;
  severities: string[];
  hostTags: string;
  environments: string;
  ruleIds: string;
  groupWait: string;
  repeatInterval: string;
  rateLimit: string;
  sendResolved: boolean;
}

/** The draft of a stored channel, or of a new one of `type`. */
export function channelDraft(c: Channel | null, type: ChannelType = 'webhook'): ChannelDraft {
  const s = c?.settings ?? {};
  const settings: Record<string, string> = {};
  for (const [k, v] of Object.entries(s))
    if (!k.startsWith('has_'))
      settings[k] = Array.isArray(v)
        ? v.join(', ')
        : v === null || v === undefined
          ? ''
          : String(v);
  return {
    name: c?.name ?? '',
    type: c?.type ?? type,
    enabled: c?.enabled ?? true,
    settings,
    secrets: {},
    severities: c?.filters.severities ?? [],
    hostTags: (c?.filters.host_tags ?? []).join(', '),
    environments: (c?.filters.environments ?? []).join(', '),
    ruleIds: (c?.filters.rule_ids ?? []).join(', '),
    groupWait: String(c?.group_wait_seconds ?? 30),
    repeatInterval: String(c?.repeat_interval_seconds ?? 14400),
    rateLimit: String(c?.rate_limit_per_hour ?? 30),
    sendResolved: c?.send_resolved ?? true,
  };
}

/** Whether a stored channel holds a secret (`has_<key>`). */
export const hasSecret = (c: Channel | null, key: string): boolean =>
  c?.settings[`has_${key}`] === true;

const list = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** `Name: value` lines as a header object; a line without a colon is sent for the server to name. */
function headersOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const i = line.indexOf(':');
    if (i === -1) out[line.trim()] = '';
    else out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

/**
 * The settings of a draft as sent: every public setting of its type (a change replaces them
 * all), and only the secrets typed anew (or null for one removed); a stored secret left alone
 * is left out, so the server keeps it.
 */
export function settingsOf(d: ChannelDraft): SettingsInput {
  const out: Record<string, unknown> = {};
  for (const f of SETTINGS[d.type].public) {
    const v = (d.settings[f.key] ?? '').trim();
    if (v === '') continue;
    out[f.key] = f.kind === 'number' ? Number(v) : f.kind === 'list' ? list(v) : v;
  }
  for (const f of SETTINGS[d.type].secrets) {
    const s = d.secrets[f.key];
    if (!s || s.mode === 'keep') continue;
    if (s.mode === 'remove') out[f.key] = null;
    else if (s.value.trim() !== '') out[f.key] = f.key === 'headers' ? headersOf(s.value) : s.value;
  }
  return out as SettingsInput;
}

/** The routing filters of a draft. */
export function filtersOf(d: ChannelDraft) {
  return {
    severities: d.severities as ('info' | 'warning' | 'critical')[],
    host_tags: list(d.hostTags),
    environments: list(d.environments),
    rule_ids: list(d.ruleIds),
  };
}
