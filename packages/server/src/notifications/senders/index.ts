import type { ChannelType, Sender } from '../model.js';
import { alertmanagerSender } from './alertmanager.js';
import { emailSender } from './email.js';
import { ntfySender } from './ntfy.js';
import { slackSender } from './slack.js';
import { webhookSender } from './webhook.js';

/** The sender of each channel type. */
export const SENDERS: Record<ChannelType, Sender> = {
  webhook: webhookSender,
  email: emailSender,
  slack: slackSender,
  ntfy: ntfySender,
  alertmanager: alertmanagerSender,
};
