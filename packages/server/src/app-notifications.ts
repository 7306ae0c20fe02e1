import type { Logger } from 'pino';
import type { AlertItem } from './alerts/model.js';
import { createAuditStore } from './audit/store.js';
import type { Db } from './db/connection.js';
import type { HostService } from './hosts/service.js';
import type { App } from './http/server.js';
import { createJobStore } from './jobs/store.js';
import { createChannelService } from './notifications/channels.js';
import { createDispatcher } from './notifications/dispatch.js';
import { JOB_KINDS, type AlertSource, type JobRegistry } from './notifications/model.js';
import { notificationRoutes } from './notifications/routes.js';
import { SENDERS } from './notifications/senders/index.js';
import { createNotificationStore } from './notifications/store.js';
import type { Sealer } from './secrets/sealer.js';

/**
 * The alert lifecycle's reads as notifications read alerts: the alert without its transitions,
 * undefined when unknown.
 */
export const alertSourceOf = (lifecycle: {
  item(id: string): Promise<AlertItem | undefined>;
  openAlerts(): Promise<AlertItem[]>;
}): AlertSource => ({
  get: (id) => lifecycle.item(id),
  listOpen: () => lifecycle.openAlerts(),
});

/** How long a sender waits for its receiver. */
const SEND_TIMEOUT_MS = 10_000;

/**
 * Composes notifications for app.ts: the channels service (sealed secrets, audited changes)
 * and the dispatcher whose job handlers route, group, rate-limit, deliver and remind. Alerts
 * are read from `alerts`.
 */
export function composeNotifications(deps: {
  db: Db;
  sealer: Sealer;
  hosts: Pick<HostService, 'get'>;
  /** Where alerts are read: the lifecycle's reads (`alertSourceOf`). */
  alerts: AlertSource;
  externalUrl?: string;
  timeoutMs?: number;
  /** Wakes the job workers after a transaction that queued jobs has committed. */
  wake?: () => void;
  now: () => number;
  logger: Logger;
}) {
  const { db, sealer, now } = deps;
  const store = createNotificationStore(db.kysely);
  const timeoutMs = deps.timeoutMs ?? SEND_TIMEOUT_MS;
  const externalUrl = (deps.externalUrl ?? '').replace(/\/+$/, '');
  const channels = createChannelService({
    store,
    transact: (fn) =>
      db.kysely
        .transaction()
        .execute((trx) =>
          fn({ notifications: createNotificationStore(trx), audit: createAuditStore(trx) }),
        ),
    sealer,
    senders: SENDERS,
    timeoutMs,
    externalUrl,
    now,
  });
  const alerts = deps.alerts;
  const dispatcher = createDispatcher({
    store,
    transact: async (fn) => {
      const r = await db.kysely
        .transaction()
        .execute((trx) =>
          fn({ notifications: createNotificationStore(trx), jobs: createJobStore(trx, now) }),
        );
      deps.wake?.();
      return r;
    },
    alerts,
    hosts: {
      async facts(hostId) {
        const h = await deps.hosts.get(hostId);
        return h && { tags: h.tags, environment: h.environment };
      },
    },
    openChannel: (id) => channels.open(id),
    senders: SENDERS,
    timeoutMs,
    externalUrl,
    now,
    log: deps.logger,
  });
  return {
    channels,
    dispatcher,
    alertExists: async (id: string) => (await alerts.get(id)) !== undefined,
    /** Registers the job handlers with the job runner. */
    registerJobs(runner: JobRegistry): void {
      runner.register(JOB_KINDS.notify, dispatcher.notify);
      runner.register(JOB_KINDS.flush, dispatcher.flush);
      runner.register(JOB_KINDS.deliver, dispatcher.deliver);
    },
  };
}

/** The notification parts, as composeNotifications builds them. */
export type NotificationParts = ReturnType<typeof composeNotifications>;

/** Registers the notification routes: channels, their test, an alert's delivery log. */
export function notificationsRoutes(app: App, parts: NotificationParts): void {
  notificationRoutes(app, {
    channels: parts.channels,
    dispatcher: parts.dispatcher,
    alertExists: parts.alertExists,
  });
}
