import type { Sender } from '../model.js';
import { post } from './http.js';
import { alertLine } from './text.js';

/**
 * A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat): `{text, blocks}` with a
 * header and one section per alert (at most 45, Slack's limit being 50 blocks). The webhook URL
 * is itself the secret.
 */
export const slackSender: Sender = {
  async send(channel, message, timeoutMs) {
    const shown = message.alerts.slice(0, 45);
    const blocks: unknown[] = [
      { type: 'header', text: { type: 'plain_text', text: message.title.slice(0, 150) } },
      ...shown.map((a) => ({ type: 'section', text: { type: 'mrkdwn', text: alertLine(a) } })),
    ];
    if (message.alerts.length > shown.length)
      blocks.push({
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `and ${message.alerts.length - shown.length} more` }],
      });
    const body = JSON.stringify({ text: message.title, blocks });
    return post(
      String(channel.secrets.url),
      body,
      { 'content-type': 'application/json' },
      timeoutMs,
    );
  },
};
