import type { Sender } from '../model.js';
import { post } from './http.js';
import { plainText } from './text.js';

/**
 * ntfy: a POST to `<url>/<topic>` whose body is the text, with `Title`, `Priority` (1–5; the
 * channel's, else 4 for firing critical, 3 otherwise) and `Tags` headers, and the channel's
 * token as a bearer token when set.
 */
export const ntfySender: Sender = {
  async send(channel, message, timeoutMs) {
    const base = String(channel.settings.url).replace(/\/+$/, '');
    const topic = encodeURIComponent(String(channel.settings.topic));
    const critical = message.alerts.some((a) => a.severity === 'critical');
    const priority =
      typeof channel.settings.priority === 'number'
        ? channel.settings.priority
        : message.status === 'firing' && critical
          ? 4
          : 3;
    const headers: Record<string, string> = {
      'content-type': 'text/plain; charset=utf-8',
      // Header values must be Latin-1; the title is kept to ASCII.
      title: message.title.replace(/[^\x20-\x7e]/g, '?'),
      priority: String(priority),
      tags:
        message.status === 'resolved'
          ? 'white_check_mark'
          : critical
            ? 'rotating_light'
            : 'warning',
    };
    const token = channel.secrets.token;
    if (typeof token === 'string' && token) headers.authorization = `Bearer ${token}`;
    return post(`${base}/${topic}`, plainText(message), headers, timeoutMs);
  },
};
