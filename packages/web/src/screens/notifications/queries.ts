import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import type { Answer, BodyOf } from '../../api/types';

/** A channel as `GET /api/v1/notifications/channels` lists it: never a secret. */
export type Channel = Answer<'/api/v1/notifications/channels'>['items'][number];

/** A channel's type. */
export type ChannelType = Channel['type'];

/** The settings a channel is sent with (public ones and secrets alike). */
export type SettingsInput = BodyOf<'/api/v1/notifications/channels', 'post'>['settings'];

/** What `POST …/{id}:test` answers. */
export type TestResult = Answer<'/api/v1/notifications/channels/{id}:test', 'post'>;

/** The query key of the channel list. */
export const CHANNELS_KEY = ['notifications', 'channels'] as const;

/** Every notification channel (`GET /api/v1/notifications/channels`). */
export function useChannels() {
  return useQuery({
    queryKey: CHANNELS_KEY,
    queryFn: () => unwrap(api.GET('/api/v1/notifications/channels')),
  });
}

/** Each type in words. */
export const TYPE_TEXT: Record<ChannelType, string> = {
  webhook: 'Webhook (JSON)',
  email: 'E-mail (SMTP)',
  slack: 'Slack incoming webhook',
  ntfy: 'ntfy',
  alertmanager: 'Alertmanager webhook',
};

/** Where a channel sends, in one line, from its public settings. */
export function destinationText(c: Channel): string {
  const s = c.settings;
  const str = (k: string) => (typeof s[k] === 'string' ? (s[k] as string) : '');
  switch (c.type) {
    case 'email':
      return `${Array.isArray(s.to) ? (s.to as string[]).join(', ') : ''} via ${str('host')}`;
    case 'ntfy':
      return `${str('url').replace(/\/+$/, '')}/${str('topic')}`;
    case 'slack':
      return s.has_url === true ? 'Slack (URL sealed)' : 'no URL';
    default:
      return str('url');
  }
}

/** A channel's routing in words: `critical · tags web · rules builtin-cpu`; `every alert`. */
export function routingText(c: Channel): string {
  const f = c.filters;
  const parts = (
    [
      ['', f.severities],
      ['tags', f.host_tags],
      ['environments', f.environments],
      ['rules', f.rule_ids],
    ] as const
  )
    .filter(([, list]) => list && list.length > 0)
    .map(([name, list]) => `${name ? `${name} ` : ''}${list!.join(', ')}`);
  return parts.length ? parts.join(' · ') : 'every alert';
}
