import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AlertItem } from '../alerts/model.js';
import type { Transact } from '../audit/audited.js';
import type { JobEnqueuer } from '../jobs/model.js';
import type {
  AlertSource,
  ChannelRow,
  ChannelType,
  HostFacts,
  MessageEvent,
  NotificationMessage,
  OpenChannel,
  Sender,
} from './model.js';
import { JOB_KINDS } from './model.js';
import { routes } from './routing.js';
import type { NotificationStore, PendingRow } from './store.js';

/** The stores dispatch writes to within one transaction: its tables and the job queue. */
export interface DispatchStores {
  notifications: NotificationStore;
  jobs: JobEnqueuer;
}

/** The group that alerts folded by a channel's rate limit wait in. */
export const SUMMARY_GROUP = 'summary';
const HOUR_MS = 3_600_000;

const iso = (ms: number) => new Date(ms).toISOString();
const closed = (a: AlertItem) => a.state === 'resolved' || a.state === 'dismissed';
const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

/** The title of a message: status and count, the rule, the event. */
export function titleOf(alerts: AlertItem[], event: MessageEvent, kind: 'alerts' | 'summary') {
  const firing = alerts.filter((a) => !closed(a)).length;
  const status = firing > 0 ? `FIRING:${firing}` : 'RESOLVED';
  if (kind === 'summary')
    return `[${status}] ${alerts.length} alert notifications held back by the rate limit`;
  const rules = [...new Set(alerts.map((a) => a.rule_name ?? a.type))];
  const subject = rules.length === 1 ? rules[0] : `${rules.length} rules`;
  const hosts = alerts.length === 1 ? ` on ${alerts[0]!.host_name ?? alerts[0]!.host_id}` : '';
  return `[${status}] ${subject}${hosts} (${event})`;
}

/**
 * Notification dispatch through the job queue. `notify` (the `alert.notify` job) routes an
 * alert to every enabled channel whose filters match and adds it to the channel's pending group
 * for (rule, event), queueing one `notification.flush` job per group after its wait; `flush`
 * renders the group into one message (or folds it into the hourly summary beyond the rate
 * limit) and queues one `notification.deliver` job; `deliver` sends it once and logs the
 * outcome per alert, throwing on failure so that the queue retries it. `tick` sends reminders
 * and flushes groups whose flush job was missed. Everything pending is in the database.
 */
export function createDispatcher(deps: {
  store: NotificationStore;
  transact: Transact<DispatchStores>;
  alerts: AlertSource;
  hosts: HostFacts;
  /** A channel's row and its settings with secrets opened; undefined when absent. */
  openChannel: (id: string) => Promise<{ row: ChannelRow; channel: OpenChannel } | undefined>;
  senders: Record<ChannelType, Sender>;
  timeoutMs: number;
  externalUrl: string;
  now: () => number;
  log: Logger;
}) {
  const { store, now, log } = deps;

  const flushJob = (channelId: string, groupKey: string, runAt: number) => ({
    kind: JOB_KINDS.flush,
    payload: { channel_id: channelId, group_key: groupKey },
    runAt,
    dedupKey: `${JOB_KINDS.flush}:${channelId}:${groupKey}`,
  });

  /** Adds alerts to a channel's group and queues its flush. */
  async function enqueueGroup(ch: ChannelRow, alerts: AlertItem[], event: MessageEvent) {
    const byRule = new Map<string, AlertItem[]>();
    for (const a of alerts) byRule.set(a.rule_id, [...(byRule.get(a.rule_id) ?? []), a]);
    const at = now();
    await deps.transact(async (s) => {
      for (const [ruleId, list] of byRule) {
        const key = `${ruleId}|${event}`;
        for (const a of list)
          await s.notifications.addPending({
            channel_id: ch.id,
            group_key: key,
            alert_id: a.id,
            event,
            created_at: at,
          });
        await s.jobs.enqueue(flushJob(ch.id, key, at + ch.group_wait_seconds * 1000));
      }
    });
  }

  async function matching(alert: AlertItem, channels: ChannelRow[]) {
    const facts = await deps.hosts.facts(alert.host_id);
    return channels.filter((c) => c.enabled === 1 && routes(c.filters, alert, facts));
  }

  async function notify(payload: unknown): Promise<void> {
    const p = (payload ?? {}) as Record<string, unknown>;
    const alertId = str(p.alert_id);
    const event = str(p.event) as MessageEvent | undefined;
    if (!alertId || !event) {
      log.warn({ payload }, 'alert.notify job without alert_id or event; ignored');
      return;
    }
    // Channels first: with none enabled (a fleet without notifications) the alert is not read.
    const channels = (await store.listChannels()).filter((c) => c.enabled === 1);
    if (channels.length === 0) return;
    const alert = await deps.alerts.get(alertId);
    if (!alert || alert.suppressed) return;
    for (const ch of await matching(alert, channels)) {
      if (event === 'resolved' && ch.send_resolved !== 1) continue;
      await enqueueGroup(ch, [alert], event);
    }
  }

  /** Renders and stores a message with its delivery job, in the transaction. */
  async function makeMessage(
    s: DispatchStores,
    ch: ChannelRow,
    kind: 'alerts' | 'summary',
    groupKey: string,
    event: MessageEvent,
    alerts: AlertItem[],
  ) {
    const at = now();
    const content: NotificationMessage = {
      kind,
      event,
      status: alerts.every(closed) ? 'resolved' : 'firing',
      title: titleOf(alerts, event, kind),
      group: {
        key: `${ch.id}|${groupKey}`,
        channel_id: ch.id,
        rule_id: kind === 'alerts' ? (alerts[0]?.rule_id ?? null) : null,
        event,
      },
      alerts,
      external_url: deps.externalUrl,
      at: iso(at),
    };
    const id = randomUUID();
    await s.notifications.insertMessage({
      id,
      channel_id: ch.id,
      kind,
      content,
      alert_ids: alerts.map((a) => a.id),
      created_at: at,
      sent_at: null,
    });
    await s.notifications.setNotified(
      ch.id,
      alerts.map((a) => a.id),
      at,
    );
    await s.jobs.enqueue({ kind: JOB_KINDS.deliver, payload: { message_id: id } });
  }

  async function flush(payload: unknown): Promise<void> {
    const p = (payload ?? {}) as Record<string, unknown>;
    const channelId = str(p.channel_id);
    const groupKey = str(p.group_key);
    if (!channelId || !groupKey) {
      log.warn({ payload }, 'notification.flush job without channel_id or group_key; ignored');
      return;
    }
    // Alerts that join the group while it is flushed cannot queue another flush (this one holds
    // the key): they are taken in the next round here. The summary waits for its hour.
    for (let round = 0; round < 20; round++) {
      const more = await flushOnce(channelId, groupKey);
      if (!more || groupKey === SUMMARY_GROUP) return;
    }
  }

  /** One round of a group's flush; false when nothing was waiting. */
  async function flushOnce(channelId: string, groupKey: string): Promise<boolean> {
    const waiting = await store.peekPending(channelId, groupKey);
    if (waiting.length === 0) return false;
    const ch = await store.getChannel(channelId);
    // The alerts are read before the transaction: SQLite has one connection.
    const alerts = ch?.enabled === 1 ? await loadAlerts(waiting) : [];
    const event = (groupKey === SUMMARY_GROUP ? 'opened' : groupKey.split('|')[1]) as MessageEvent;
    await deps.transact(async (s) => {
      await s.notifications.removePending(waiting);
      if (!ch || alerts.length === 0) return;
      if (groupKey === SUMMARY_GROUP) {
        await makeMessage(s, ch, 'summary', groupKey, event, alerts);
        return;
      }
      const at = now();
      const sent = await s.notifications.messagesSince(ch.id, at - HOUR_MS);
      if (sent.count < ch.rate_limit_per_hour) {
        await makeMessage(s, ch, 'alerts', groupKey, event, alerts);
        return;
      }
      // Beyond the rate limit the alerts wait for the summary at the end of the hour.
      for (const a of alerts)
        await s.notifications.addPending({
          channel_id: ch.id,
          group_key: SUMMARY_GROUP,
          alert_id: a.id,
          event,
          created_at: at,
        });
      await s.jobs.enqueue(flushJob(ch.id, SUMMARY_GROUP, (sent.first ?? at) + HOUR_MS));
      await s.notifications.logDeliveries(
        alerts.map((a) => ({
          alert_id: a.id,
          channel_id: ch.id,
          message_id: null,
          event,
          outcome: 'folded' as const,
          status: null,
          error: `rate limit of ${ch.rate_limit_per_hour} messages per hour reached`,
          duration_ms: null,
          at,
        })),
      );
      log.warn(
        { channel_id: ch.id, alerts: alerts.length, limit: ch.rate_limit_per_hour },
        'notification rate limit reached; alerts folded into the hourly summary',
      );
    });
    return true;
  }

  async function loadAlerts(rows: PendingRow[]): Promise<AlertItem[]> {
    const out: AlertItem[] = [];
    for (const id of [...new Set(rows.map((r) => r.alert_id))]) {
      const a = await deps.alerts.get(id);
      if (a) out.push(a);
    }
    return out;
  }

  async function deliver(payload: unknown): Promise<void> {
    const id = str((payload as Record<string, unknown> | null)?.message_id);
    const msg = id ? await store.getMessage(id) : undefined;
    if (!msg || msg.sent_at !== null) return;
    const opened = await deps.openChannel(msg.channel_id);
    if (!opened) {
      log.warn({ channel_id: msg.channel_id }, 'notification for a deleted channel dropped');
      return;
    }
    const started = performance.now();
    const logRows = (
      outcome: 'delivered' | 'failed',
      status: number | null,
      error: string | null,
    ) =>
      msg.alert_ids.map((alertId) => ({
        alert_id: alertId,
        channel_id: msg.channel_id,
        message_id: msg.id,
        event: msg.content.event,
        outcome,
        status,
        error,
        duration_ms: Math.round(performance.now() - started),
        at: now(),
      }));
    let status: number | undefined;
    try {
      status = (
        await deps.senders[opened.row.type].send(opened.channel, msg.content, deps.timeoutMs)
      ).status;
    } catch (err) {
      const error = (err as Error).message;
      await store.logDeliveries(logRows('failed', null, error));
      throw new Error(`notification to channel ${opened.row.name} failed: ${error}`, {
        cause: err,
      });
    }
    // Sent: recorded at once, and nothing after this can fail the job into a second send.
    await deps.transact(async (s) => {
      await s.notifications.markSent(msg.id, now());
      await s.notifications.logDeliveries(logRows('delivered', status ?? null, null));
    });
  }

  /**
   * Reminders: each open, unacknowledged, unsuppressed alert whose last notification on a
   * channel (or its start) is older than the channel's repeat interval joins the channel's
   * reminder group. Then groups whose flush job was missed (an alert added while it ran) are
   * queued for flushing again.
   */
  async function tick(): Promise<void> {
    const t = now();
    const channels = (await store.listChannels()).filter((c) => c.enabled === 1);
    const repeating = channels.filter((c) => c.repeat_interval_seconds > 0);
    if (repeating.length > 0) {
      const open = (await deps.alerts.listOpen()).filter(
        (a) => a.state === 'active' && !a.suppressed,
      );
      for (const ch of repeating) {
        const routed: AlertItem[] = [];
        for (const a of open) if ((await matching(a, [ch])).length > 0) routed.push(a);
        const last = await store.lastNotified(
          ch.id,
          routed.map((a) => a.id),
        );
        const due = routed.filter(
          (a) =>
            t - (last.get(a.id) ?? Date.parse(a.started_at)) >= ch.repeat_interval_seconds * 1000,
        );
        if (due.length > 0) await enqueueGroup(ch, due, 'reminder');
      }
    }
    const waits = new Map(channels.map((c) => [c.id, c.group_wait_seconds * 1000]));
    for (const g of await store.pendingGroups()) {
      const wait = waits.get(g.channel_id);
      if (wait === undefined || g.oldest + wait + 60_000 > t) continue;
      await deps.transact((s) => s.jobs.enqueue(flushJob(g.channel_id, g.group_key, t)));
    }
  }

  return {
    notify,
    flush,
    deliver,
    tick,
    /** The delivery log of an alert, oldest first, times ISO 8601. */
    async deliveries(alertId: string) {
      const rows = await store.deliveriesOf(alertId);
      return rows.map(({ at, ...r }) => ({ ...r, at: iso(at) }));
    },
  };
}

/** The dispatcher. */
export type Dispatcher = ReturnType<typeof createDispatcher>;
