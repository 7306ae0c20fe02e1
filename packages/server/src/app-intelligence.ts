import type { Logger } from 'pino';
import type { CursorCodec } from './audit/service.js';
import type { Db } from './db/connection.js';
import type { EventBus } from './events/bus.js';
import { INGEST_TOPIC, type IngestEvent } from './events/types.js';
import type { App } from './http/server.js';
import { createIntelligenceRecorder } from './intelligence/recorder.js';
import { intelligenceRoutes } from './intelligence/routes.js';
import { createIntelligenceReads, type IntelligenceHosts } from './intelligence/service.js';
import { createIntelligenceStore } from './intelligence/store.js';
import type { SettingsService } from './system/settings.js';

/**
 * Composes host intelligence for app.ts: the recorder (a subscriber of the ingest event, and
 * the agents intake's observer of package inventories, `recorder.inventory`), the reads of its
 * routes and the retention of events (a cluster job), on one store. The `changes` switches come
 * from the intelligence settings.
 */
export function composeIntelligence(deps: {
  db: Db;
  bus: EventBus;
  hosts: IntelligenceHosts;
  settings: Pick<SettingsService, 'get'>;
  cursors: CursorCodec;
  /** Days events are kept (`intelligence.retention_days`). */
  retentionDays: number;
  now: () => number;
  logger: Logger;
}) {
  const store = createIntelligenceStore(deps.db.kysely);
  const recorder = createIntelligenceRecorder({
    store,
    switches: async () => (await deps.settings.get('intelligence')).changes,
    now: deps.now,
    log: (err, hostId) =>
      deps.logger.warn({ err, host_id: hostId }, 'recording a host inventory change failed'),
  });
  deps.bus.subscribe<IngestEvent>(INGEST_TOPIC, recorder.observe);
  const reads = createIntelligenceReads({ store, hosts: deps.hosts, cursors: deps.cursors });
  const maxAgeMs = deps.retentionDays * 86_400_000;
  /** Deletes events past retention, 5,000 per transaction, at most 100 transactions a run. */
  const retention = async (): Promise<number> => {
    let total = 0;
    for (let i = 0; i < 100; i++) {
      const gone = await store.deleteBefore(deps.now() - maxAgeMs, 5_000);
      total += gone;
      if (gone < 5_000) break;
    }
    return total;
  };
  /** Periodic work on the database: retention, once per period in the cluster. */
  const jobs = [{ name: 'intelligence-retention', everyMs: 3_600_000, run: retention }];
  return { recorder, reads, retention, jobs };
}

/** Host intelligence's parts. */
export type IntelligenceParts = ReturnType<typeof composeIntelligence>;

/** Registers host intelligence's routes (`/api/v1/intelligence/…`). */
export function hostIntelligenceRoutes(app: App, parts: IntelligenceParts): void {
  intelligenceRoutes(app, { reads: parts.reads });
}
