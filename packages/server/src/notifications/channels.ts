import { randomUUID } from 'node:crypto';
import { createAudited, type Transact } from '../audit/audited.js';
import type { AuditStore, RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import type { Sealer } from '../secrets/sealer.js';
import type {
  ChannelFilters,
  ChannelRow,
  ChannelSecrets,
  ChannelType,
  ChannelView,
  NotificationMessage,
  OpenChannel,
  Sender,
} from './model.js';
import { settingsView, splitSettings } from './settings.js';
import type { NotificationStore } from './store.js';

/** The stores a channel mutation writes to, within one transaction. */
export interface ChannelStores {
  notifications: Pick<
    NotificationStore,
    'getChannel' | 'insertChannel' | 'replaceChannel' | 'deleteChannel'
  >;
  audit: AuditStore;
}

/** A channel as created (`POST /api/v1/notifications/channels`). */
export interface ChannelCreate {
  name: string;
  type: ChannelType;
  enabled?: boolean;
  settings: Record<string, unknown>;
  filters?: ChannelFilters;
  group_wait_seconds?: number;
  repeat_interval_seconds?: number;
  rate_limit_per_hour?: number;
  send_resolved?: boolean;
}

/** A change to a channel: the fields given replace the stored ones (not the type). */
export type ChannelPatch = Partial<Omit<ChannelCreate, 'type'>> & { type?: ChannelType };

/** The answer of `POST …/{id}:test`. */
export interface TestResult {
  delivered: boolean;
  status?: number;
  error?: string;
  duration_ms: number;
}

/** Channel defaults. */
export const CHANNEL_DEFAULTS = {
  group_wait_seconds: 30,
  repeat_interval_seconds: 4 * 3600,
  rate_limit_per_hour: 30,
};

const iso = (ms: number) => new Date(ms).toISOString();

const notFound = (id: string) =>
  new VigilError('not_found', `no notification channel ${id}`, {
    code: 'notification_channel.not_found',
  });

/**
 * Notification channels: CRUD with every change audited, secrets sealed with the master key
 * and never answered (`settings.has_<secret>` instead), and a test message sent at once.
 */
export function createChannelService(deps: {
  store: Pick<NotificationStore, 'listChannels' | 'getChannel'>;
  transact: Transact<ChannelStores>;
  sealer: Sealer;
  senders: Record<ChannelType, Sender>;
  timeoutMs: number;
  externalUrl: string;
  now: () => number;
}) {
  const { store, sealer, now } = deps;
  const audited = createAudited(deps.transact, now);

  const secretsOf = (r: ChannelRow): ChannelSecrets =>
    r.secrets_sealed === null
      ? {}
      : (JSON.parse(sealer.open(r.secrets_sealed).toString('utf8')) as ChannelSecrets);
  const seal = (s: ChannelSecrets) =>
    Object.keys(s).length === 0 ? null : sealer.seal(Buffer.from(JSON.stringify(s), 'utf8'));

  const viewOf = (r: ChannelRow): ChannelView => ({
    id: r.id,
    name: r.name,
    type: r.type,
    enabled: r.enabled === 1,
    settings: settingsView(r.type, r.settings, secretsOf(r)),
    filters: r.filters,
    group_wait_seconds: r.group_wait_seconds,
    repeat_interval_seconds: r.repeat_interval_seconds,
    rate_limit_per_hour: r.rate_limit_per_hour,
    send_resolved: r.send_resolved === 1,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
  });

  const openOf = (r: ChannelRow): OpenChannel => ({
    id: r.id,
    name: r.name,
    type: r.type,
    settings: r.settings,
    secrets: secretsOf(r),
  });

  const filtersOf = (f: ChannelFilters | undefined): ChannelFilters => {
    const out: ChannelFilters = {};
    for (const k of ['severities', 'host_tags', 'environments', 'rule_ids'] as const)
      if (f?.[k] !== undefined) (out as Record<string, unknown>)[k] = [...new Set(f[k])];
    return out;
  };

  const found = async (s: Pick<NotificationStore, 'getChannel'>, id: string) => {
    const r = await s.getChannel(id);
    if (!r) throw notFound(id);
    return r;
  };

  return {
    /** Every channel, oldest first. */
    async list(): Promise<{ items: ChannelView[]; total: number }> {
      const rows = await store.listChannels();
      return { items: rows.map(viewOf), total: rows.length };
    },

    /** One channel. @throws VigilError not_found. */
    async get(id: string): Promise<ChannelView> {
      return viewOf(await found(store, id));
    },

    /** Creates a channel. @throws VigilError bad_data naming the setting at fault. */
    async create(ctx: RequestContext, req: ChannelCreate): Promise<ChannelView> {
      const { settings, secrets } = splitSettings(req.type, req.settings);
      const at = now();
      const row: ChannelRow = {
        id: randomUUID(),
        name: req.name,
        type: req.type,
        enabled: req.enabled === false ? 0 : 1,
        settings,
        secrets_sealed: seal(secrets),
        filters: filtersOf(req.filters),
        group_wait_seconds: req.group_wait_seconds ?? CHANNEL_DEFAULTS.group_wait_seconds,
        repeat_interval_seconds:
          req.repeat_interval_seconds ?? CHANNEL_DEFAULTS.repeat_interval_seconds,
        rate_limit_per_hour: req.rate_limit_per_hour ?? CHANNEL_DEFAULTS.rate_limit_per_hour,
        send_resolved: req.send_resolved === false ? 0 : 1,
        created_at: at,
        updated_at: at,
      };
      return audited(
        ctx,
        {
          action: 'notification_channel.create',
          resourceType: 'notification_channel',
          resourceId: row.id,
        },
        async (s, draft) => {
          await s.notifications.insertChannel(row);
          draft.entry.detail = { name: row.name, type: row.type };
          return viewOf(row);
        },
      );
    },

    /**
     * Changes a channel. Settings given replace the public ones; a secret absent is kept, a
     * secret given null is removed. @throws VigilError not_found, bad_data.
     */
    async update(ctx: RequestContext, id: string, req: ChannelPatch): Promise<ChannelView> {
      return audited(
        ctx,
        {
          action: 'notification_channel.update',
          resourceType: 'notification_channel',
          resourceId: id,
        },
        async (s, draft) => {
          const old = await found(s.notifications, id);
          if (req.type !== undefined && req.type !== old.type)
            throw new VigilError('bad_data', 'type: a channel keeps its type', {
              code: 'validation_failed',
            });
          const oldSecrets = secretsOf(old);
          const split = splitSettings(old.type, req.settings ?? old.settings, {
            settings: old.settings,
            secrets: oldSecrets,
          });
          const row: ChannelRow = {
            ...old,
            name: req.name ?? old.name,
            enabled: req.enabled === undefined ? old.enabled : req.enabled ? 1 : 0,
            settings: split.settings,
            secrets_sealed: seal(split.secrets),
            filters: req.filters === undefined ? old.filters : filtersOf(req.filters),
            group_wait_seconds: req.group_wait_seconds ?? old.group_wait_seconds,
            repeat_interval_seconds: req.repeat_interval_seconds ?? old.repeat_interval_seconds,
            rate_limit_per_hour: req.rate_limit_per_hour ?? old.rate_limit_per_hour,
            send_resolved:
              req.send_resolved === undefined ? old.send_resolved : req.send_resolved ? 1 : 0,
            updated_at: now(),
          };
          await s.notifications.replaceChannel(row);
          draft.entry.detail = { fields: Object.keys(req).sort() };
          return viewOf(row);
        },
      );
    },

    /** Deletes a channel and what waits for it. @throws VigilError not_found. */
    async remove(ctx: RequestContext, id: string): Promise<void> {
      await audited(
        ctx,
        {
          action: 'notification_channel.delete',
          resourceType: 'notification_channel',
          resourceId: id,
        },
        async (s, draft) => {
          const old = await found(s.notifications, id);
          await s.notifications.deleteChannel(id);
          draft.entry.detail = { name: old.name, type: old.type };
        },
      );
    },

    /**
     * Sends one test message on the channel now (enabled or not) and tells how it went; the
     * attempt is audited. @throws VigilError not_found.
     */
    async test(ctx: RequestContext, id: string): Promise<TestResult> {
      const row = await found(store, id);
      const at = now();
      const message: NotificationMessage = {
        kind: 'test',
        event: 'opened',
        status: 'firing',
        title: `Vigil test message for channel ${row.name}`,
        group: { key: `test:${row.id}`, channel_id: row.id, rule_id: null, event: 'opened' },
        alerts: [],
        external_url: deps.externalUrl,
        at: iso(at),
      };
      const started = performance.now();
      let result: TestResult;
      try {
        const r = await deps.senders[row.type].send(openOf(row), message, deps.timeoutMs);
        result = { delivered: true, ...r, duration_ms: Math.round(performance.now() - started) };
      } catch (err) {
        result = {
          delivered: false,
          error: (err as Error).message,
          duration_ms: Math.round(performance.now() - started),
        };
      }
      await audited(
        ctx,
        {
          action: 'notification_channel.test',
          resourceType: 'notification_channel',
          resourceId: id,
        },
        async (_s, draft) => {
          draft.entry.detail = { delivered: result.delivered, status: result.status ?? null };
        },
      );
      return result;
    },

    /** The channel as a sender needs it, secrets opened; undefined when absent. */
    async open(id: string): Promise<{ row: ChannelRow; channel: OpenChannel } | undefined> {
      const row = await store.getChannel(id);
      return row && { row, channel: openOf(row) };
    },
  };
}

/** The channels service. */
export type ChannelService = ReturnType<typeof createChannelService>;
