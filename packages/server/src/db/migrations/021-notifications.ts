import type { Migration } from './migration.js';

/** Schema version 21, `notifications`. */
export const migration: Migration = {
  version: 21,
  name: 'notifications',
  async up(db) {
    // Where notifications go. `settings` is the type's public settings (JSON); its secrets
    // (HMAC secret, SMTP password, ntfy token, Slack URL, custom headers) are one JSON object
    // sealed with the master key in `secrets_sealed`. `filters` is JSON.
    await db.schema
      .createTable('notification_channels')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull())
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('secrets_sealed', 'text')
      .addColumn('filters', 'text', (c) => c.notNull())
      .addColumn('group_wait_seconds', 'integer', (c) => c.notNull())
      .addColumn('repeat_interval_seconds', 'integer', (c) => c.notNull())
      .addColumn('rate_limit_per_hour', 'integer', (c) => c.notNull())
      .addColumn('send_resolved', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    // Alerts waiting in a group for its flush: one row per (channel, group, alert); the group key
    // names the channel, the rule and the event kind.
    await db.schema
      .createTable('notification_pending')
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('group_key', 'text', (c) => c.notNull())
      .addColumn('alert_id', 'text', (c) => c.notNull())
      .addColumn('event', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('notification_pending_pk', ['channel_id', 'group_key', 'alert_id'])
      .execute();
    // A rendered message for one channel, sent at most once (`sent_at`).
    await db.schema
      .createTable('notification_messages')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('content', 'text', (c) => c.notNull())
      .addColumn('alert_ids', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('sent_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('notification_messages_channel')
      .on('notification_messages')
      .columns(['channel_id', 'created_at'])
      .execute();
    // The delivery log: one row per alert and attempt (or fold) of a message.
    await db.schema
      .createTable('notification_deliveries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('alert_id', 'text', (c) => c.notNull())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text')
      .addColumn('event', 'text', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('status', 'integer')
      .addColumn('error', 'text')
      .addColumn('duration_ms', 'integer')
      .addColumn('at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('notification_deliveries_alert')
      .on('notification_deliveries')
      .columns(['alert_id', 'at'])
      .execute();
    // When each alert was last notified on each channel, for reminders.
    await db.schema
      .createTable('notification_alert_state')
      .addColumn('alert_id', 'text', (c) => c.notNull())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('last_notified_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('notification_alert_state_pk', ['alert_id', 'channel_id'])
      .execute();
  },
};
