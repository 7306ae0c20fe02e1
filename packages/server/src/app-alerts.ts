import { createAuditStore } from './audit/store.js';
import type { CursorCodec } from './audit/service.js';
import { createAlertLifecycle } from './alerts/lifecycle.js';
import type { AlertStores } from './alerts/records.js';
import { alertRoutes as alertApiRoutes } from './alerts/routes.js';
import { silenceRoutes } from './alerts/silence-routes.js';
import { createSilenceService } from './alerts/silences.js';
import { createAlertStore } from './alerts/store.js';
import { createThresholdService } from './alerts/thresholds.js';
import type { Db } from './db/connection.js';
import type { EventBus } from './events/bus.js';
import { ALERT_TOPIC, type AlertEvent } from './events/types.js';
import type { App } from './http/server.js';
import { createJobStore } from './jobs/store.js';
import { createSettingsStore } from './system/settings-store.js';

/**
 * Composes the alert side of the server for app.ts: the lifecycle (the evaluator's `AlertSink`,
 * people's actions, the reads others need), silences and Tyto's global thresholds, each on its
 * stores and its unit of work (the alert store, the audit log and the job queue in one
 * transaction, so that a transition and its `alert.notify` job commit together).
 */
export function composeAlerts(deps: {
  db: Db;
  bus: EventBus;
  cursors: CursorCodec;
  now: () => number;
}) {
  const { db, now } = deps;
  const store = createAlertStore(db.kysely);
  const transact = <T>(fn: (s: AlertStores) => Promise<T>) =>
    db.kysely.transaction().execute((trx) =>
      fn({
        alerts: createAlertStore(trx),
        audit: createAuditStore(trx),
        jobs: createJobStore(trx, now),
      }),
    );
  const lifecycle = createAlertLifecycle({
    store,
    transact,
    publish: (e: AlertEvent) => deps.bus.publish(ALERT_TOPIC, e),
    cursors: deps.cursors,
    now,
  });
  const silences = createSilenceService({ store, transact, lifecycle, now });
  const thresholds = createThresholdService({
    store: createSettingsStore(db.kysely),
    transact: (fn) =>
      db.kysely
        .transaction()
        .execute((trx) => fn({ settings: createSettingsStore(trx), audit: createAuditStore(trx) })),
    now,
  });
  return { lifecycle, sink: lifecycle.sink, silences, thresholds };
}

/** The alert side's parts, as composeAlerts builds them. */
export type AlertParts = ReturnType<typeof composeAlerts>;

/** Registers the alert routes: alerts, their actions, silences and the global thresholds. */
export function alertRoutes(app: App, parts: AlertParts): void {
  // The silences' static paths are registered first; the router prefers them to `{id}` anyway.
  silenceRoutes(app, { silences: parts.silences });
  alertApiRoutes(app, { lifecycle: parts.lifecycle, thresholds: parts.thresholds });
}
