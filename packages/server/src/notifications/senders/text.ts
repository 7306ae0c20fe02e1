import type { AlertItem } from '../../alerts/model.js';
import type { NotificationMessage } from '../model.js';

/** One line per alert, for text bodies: severity, host, message. */
export const alertLine = (a: AlertItem): string =>
  `[${a.severity.toUpperCase()}] ${a.host_name ?? a.host_id}: ${a.message} (${a.state})`;

/** A plain-text body for a message: its title, then one line per alert. */
export function plainText(m: NotificationMessage): string {
  const lines = [m.title, '', ...m.alerts.map(alertLine)];
  if (m.external_url) lines.push('', m.external_url);
  return lines.join('\n');
}
