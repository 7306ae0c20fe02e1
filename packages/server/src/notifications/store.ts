import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.js';
import type { ChannelRow, ChannelType, NotificationMessage } from './model.js';

/** A row of the delivery log. Times are epoch ms. */
export interface DeliveryRow {
  id: string;
  alert_id: string;
  channel_id: string;
  message_id: string | null;
  event: string;
  /** `delivered`, `failed` (an attempt that the queue retries), or `folded` (rate limit). */
  outcome: 'delivered' | 'failed' | 'folded';
  status: number | null;
  error: string | null;
  duration_ms: number | null;
  at: number;
}

/** A stored message: rendered once, sent at most once. */
export interface MessageRow {
  id: string;
  channel_id: string;
  kind: NotificationMessage['kind'];
  content: NotificationMessage;
  alert_ids: string[];
  created_at: number;
  sent_at: number | null;
}

/** An alert waiting in a group. */
export interface PendingRow {
  channel_id: string;
  group_key: string;
  alert_id: string;
  event: string;
  created_at: number;
}

const channelOf = (r: Selectable<Database['notification_channels']>): ChannelRow => ({
  ...r,
  type: r.type as ChannelType,
  enabled: Number(r.enabled),
  settings: JSON.parse(r.settings) as ChannelRow['settings'],
  filters: JSON.parse(r.filters) as ChannelRow['filters'],
  group_wait_seconds: Number(r.group_wait_seconds),
  repeat_interval_seconds: Number(r.repeat_interval_seconds),
  rate_limit_per_hour: Number(r.rate_limit_per_hour),
  send_resolved: Number(r.send_resolved),
  created_at: Number(r.created_at),
  updated_at: Number(r.updated_at),
});

const channelValues = (row: ChannelRow) => ({
  ...row,
  settings: JSON.stringify(row.settings),
  filters: JSON.stringify(row.filters),
});

/**
 * The notification tables' queries: channels, pending groups, messages, the delivery log and
 * when each alert was last notified. Pass a transaction to write within it.
 */
export const createNotificationStore = (db: Kysely<Database>) => ({
  /** Every channel, oldest first. */
  async listChannels(): Promise<ChannelRow[]> {
    const rows = await db
      .selectFrom('notification_channels')
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(channelOf);
  },
  /** One channel; undefined when absent. */
  async getChannel(id: string): Promise<ChannelRow | undefined> {
    const r = await db
      .selectFrom('notification_channels')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return r && channelOf(r);
  },
  async insertChannel(row: ChannelRow): Promise<void> {
    await db.insertInto('notification_channels').values(channelValues(row)).execute();
  },
  /** Replaces every column but the id and `created_at`. */
  async replaceChannel(row: ChannelRow): Promise<void> {
    const { id: _id, created_at: _c, ...rest } = channelValues(row);
    await db.updateTable('notification_channels').set(rest).where('id', '=', row.id).execute();
  },
  /** Deletes a channel and what waits for it; false when it was absent. */
  async deleteChannel(id: string): Promise<boolean> {
    await db.deleteFrom('notification_pending').where('channel_id', '=', id).execute();
    await db.deleteFrom('notification_alert_state').where('channel_id', '=', id).execute();
    const r = await db.deleteFrom('notification_channels').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  },

  /** Adds an alert to a group; false when it already waits there. */
  async addPending(row: PendingRow): Promise<boolean> {
    const r = await db
      .insertInto('notification_pending')
      .values(row)
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  },
  /** The alerts waiting in a group, oldest first. */
  async peekPending(channelId: string, groupKey: string): Promise<PendingRow[]> {
    const rows = await db
      .selectFrom('notification_pending')
      .selectAll()
      .where('channel_id', '=', channelId)
      .where('group_key', '=', groupKey)
      .orderBy('created_at')
      .orderBy('alert_id')
      .execute();
    return rows.map((r) => ({ ...r, created_at: Number(r.created_at) }));
  },
  /** Removes these rows from their groups. */
  async removePending(rows: PendingRow[]): Promise<void> {
    for (const r of rows)
      await db
        .deleteFrom('notification_pending')
        .where('channel_id', '=', r.channel_id)
        .where('group_key', '=', r.group_key)
        .where('alert_id', '=', r.alert_id)
        .execute();
  },
  /** Every group with alerts waiting, with when its oldest arrived. */
  async pendingGroups(): Promise<{ channel_id: string; group_key: string; oldest: number }[]> {
    const rows = await db
      .selectFrom('notification_pending')
      .select((eb) => ['channel_id', 'group_key', eb.fn.min('created_at').as('oldest')])
      .groupBy(['channel_id', 'group_key'])
      .execute();
    return rows.map((r) => ({ ...r, oldest: Number(r.oldest) }));
  },

  async insertMessage(row: MessageRow): Promise<void> {
    await db
      .insertInto('notification_messages')
      .values({
        ...row,
        content: JSON.stringify(row.content),
        alert_ids: JSON.stringify(row.alert_ids),
      })
      .execute();
  },
  async getMessage(id: string): Promise<MessageRow | undefined> {
    const r = await db
      .selectFrom('notification_messages')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return (
      r && {
        ...r,
        kind: r.kind as MessageRow['kind'],
        content: JSON.parse(r.content) as NotificationMessage,
        alert_ids: JSON.parse(r.alert_ids) as string[],
        created_at: Number(r.created_at),
        sent_at: r.sent_at === null ? null : Number(r.sent_at),
      }
    );
  },
  /** Marks a message sent; false when it already was (it is sent once). */
  async markSent(id: string, at: number): Promise<boolean> {
    const r = await db
      .updateTable('notification_messages')
      .set({ sent_at: at })
      .where('id', '=', id)
      .where('sent_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  },
  /** Messages of a channel (but summaries) made since `since`: the rate limit's count. */
  async messagesSince(
    channelId: string,
    since: number,
  ): Promise<{ count: number; first: number | null }> {
    const r = await db
      .selectFrom('notification_messages')
      .select((eb) => [eb.fn.countAll().as('n'), eb.fn.min('created_at').as('first')])
      .where('channel_id', '=', channelId)
      .where('kind', '=', 'alerts')
      .where('created_at', '>=', since)
      .executeTakeFirst();
    return {
      count: Number(r?.n ?? 0),
      first: r?.first === null || r?.first === undefined ? null : Number(r.first),
    };
  },

  /** Adds rows to the delivery log. */
  async logDeliveries(rows: Omit<DeliveryRow, 'id'>[]): Promise<void> {
    if (rows.length === 0) return;
    await db
      .insertInto('notification_deliveries')
      .values(rows.map((r) => ({ id: randomUUID(), ...r })))
      .execute();
  },
  /** The delivery log of an alert, oldest first. */
  async deliveriesOf(alertId: string): Promise<DeliveryRow[]> {
    const rows = await db
      .selectFrom('notification_deliveries')
      .selectAll()
      .where('alert_id', '=', alertId)
      .orderBy('at')
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      ...r,
      outcome: r.outcome as DeliveryRow['outcome'],
      status: r.status === null ? null : Number(r.status),
      duration_ms: r.duration_ms === null ? null : Number(r.duration_ms),
      at: Number(r.at),
    }));
  },

  /** When each of the alerts was last notified on the channel. */
  async lastNotified(channelId: string, alertIds: string[]): Promise<Map<string, number>> {
    if (alertIds.length === 0) return new Map();
    const rows = await db
      .selectFrom('notification_alert_state')
      .selectAll()
      .where('channel_id', '=', channelId)
      .where('alert_id', 'in', alertIds)
      .execute();
    return new Map(rows.map((r) => [r.alert_id, Number(r.last_notified_at)]));
  },
  /** Records that the alerts were notified on the channel at `at`. */
  async setNotified(channelId: string, alertIds: string[], at: number): Promise<void> {
    for (const alertId of alertIds)
      await db
        .insertInto('notification_alert_state')
        .values({ alert_id: alertId, channel_id: channelId, last_notified_at: at })
        .onConflict((oc) =>
          oc.columns(['alert_id', 'channel_id']).doUpdateSet({ last_notified_at: at }),
        )
        .execute();
  },
});

/** The notification store. */
export type NotificationStore = ReturnType<typeof createNotificationStore>;
