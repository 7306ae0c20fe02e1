import { createHmac } from 'node:crypto';
import type { Sender } from '../model.js';
import { headersOf, post } from './http.js';

/**
 * The signature of a webhook body: hex HMAC-SHA256, under the channel's secret, of the
 * timestamp (seconds since the epoch, as sent in `X-Vigil-Timestamp`), a full stop, and the body.
 */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/**
 * A generic webhook: the message as JSON (`{version, event, status, title, group, alerts,
 * external_url, at}`); with a secret, `X-Vigil-Timestamp` and
 * `X-Vigil-Signature: sha256=<signWebhook(...)>`. Custom headers (e.g. Authorization) are
 * secrets of the channel.
 */
export const webhookSender: Sender = {
  async send(channel, message, timeoutMs) {
    const body = JSON.stringify({ version: '1', ...message });
    const headers: Record<string, string> = {
      ...headersOf(channel.secrets.headers),
      'content-type': 'application/json',
      'user-agent': 'Vigil',
    };
    const secret = channel.secrets.secret;
    if (typeof secret === 'string' && secret) {
      const ts = String(Math.floor(Date.now() / 1000));
      headers['x-vigil-timestamp'] = ts;
      headers['x-vigil-signature'] = `sha256=${signWebhook(secret, ts, body)}`;
    }
    return post(String(channel.settings.url), body, headers, timeoutMs);
  },
};
