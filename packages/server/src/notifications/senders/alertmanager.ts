import { createHash } from 'node:crypto';
import type { AlertItem } from '../../alerts/model.js';
import type { NotificationMessage, Sender } from '../model.js';
import { headersOf, post } from './http.js';

/** Alertmanager's zero time, its `endsAt` of an alert still firing. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

const labelsOf = (a: AlertItem): Record<string, string> => ({
  ...a.labels,
  alertname: a.rule_name ?? a.type,
  severity: a.severity,
  host: a.host_name ?? a.host_id,
  host_id: a.host_id,
  rule_id: a.rule_id,
});

/** The labels (or annotations) every one of the maps shares. */
function common(maps: Record<string, string>[]): Record<string, string> {
  const [first, ...rest] = maps;
  if (!first) return {};
  return Object.fromEntries(
    Object.entries(first).filter(([k, v]) => rest.every((m) => m[k] === v)),
  );
}

/**
 * The body of Prometheus Alertmanager's webhook (`webhook_config`, version "4"): `version,
 * groupKey, truncatedAlerts, status, receiver, groupLabels, commonLabels, commonAnnotations,
 * externalURL, alerts[{status, labels, annotations, startsAt, endsAt, generatorURL,
 * fingerprint}]`, so that receivers written for Alertmanager take Vigil's messages.
 */
export function alertmanagerBody(message: NotificationMessage, receiver: string) {
  const closed = (a: AlertItem) => a.state === 'resolved' || a.state === 'dismissed';
  const alerts = message.alerts.map((a) => ({
    status: closed(a) ? 'resolved' : 'firing',
    labels: labelsOf(a),
    annotations: { summary: a.message, ...(a.value !== null ? { value: String(a.value) } : {}) },
    startsAt: a.started_at,
    endsAt: a.resolved_at ?? ZERO_TIME,
    generatorURL: message.external_url ? `${message.external_url}/alerts/${a.id}` : '',
    fingerprint: createHash('sha256').update(a.dedup_key).digest('hex').slice(0, 16),
  }));
  const groupLabels: Record<string, string> = message.group.rule_id
    ? { rule_id: message.group.rule_id }
    : {};
  return {
    version: '4',
    groupKey: `{}:{${Object.entries(groupLabels)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(', ')}}`,
    truncatedAlerts: 0,
    status: message.status,
    receiver,
    groupLabels,
    commonLabels: common(alerts.map((a) => a.labels)),
    commonAnnotations: common(alerts.map((a) => a.annotations)),
    externalURL: message.external_url,
    alerts,
  };
}

/** An Alertmanager-compatible webhook receiver. */
export const alertmanagerSender: Sender = {
  async send(channel, message, timeoutMs) {
    const receiver =
      typeof channel.settings.receiver === 'string' ? channel.settings.receiver : channel.name;
    return post(
      String(channel.settings.url),
      JSON.stringify(alertmanagerBody(message, receiver)),
      { ...headersOf(channel.secrets.headers), 'content-type': 'application/json' },
      timeoutMs,
    );
  },
};
