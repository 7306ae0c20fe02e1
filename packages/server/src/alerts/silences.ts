import { randomUUID } from 'node:crypto';
import { createAudited, type Transact } from '../audit/audited.js';
import type { RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import type { AlertLifecycle } from './lifecycle.js';
import { MAX_SILENCE_MS, parseTime } from './time.js';
import type { AlertKey } from './model.js';
import type { AlertStore, AlertStores, SilenceRecord } from './records.js';

/** A silence as the API renders it. */
export interface SilenceItem {
  id: string;
  matchers: { host_id?: string; rule_id?: string; labels?: Record<string, string> };
  reason: string;
  starts_at: string;
  ends_at: string;
  created_by: string | null;
  created_at: string;
  /** Whether it silences matching alerts now. */
  active: boolean;
}

/** The body of `POST /api/v1/alerts/silences`. */
export interface NewSilence {
  matchers: { host_id?: string; rule_id?: string; labels?: Record<string, string> };
  reason?: string;
  starts_at?: string;
  ends_at: string;
}

/**
 * Whether a silence's matchers all match an alert's key: the host and rule when given, and each
 * of its labels among the alert's.
 */
export function matches(
  s: Pick<SilenceRecord, 'host_id' | 'rule_id' | 'labels'>,
  key: AlertKey,
): boolean {
  if (s.host_id !== null && s.host_id !== key.hostId) return false;
  if (s.rule_id !== null && s.rule_id !== key.ruleId) return false;
  return Object.entries(s.labels).every(([k, v]) => key.labels[k] === v);
}

const bad = (message: string) => new VigilError('bad_data', message, { code: 'validation_failed' });
const notFound = (id: string) =>
  new VigilError('not_found', `silence ${id} not found`, { code: 'silence.not_found' });

/**
 * Silences by matcher for planned work: while one is active (from `starts_at` to `ends_at`), the
 * open alerts it matches are `silenced` and notify no one, and alerts it matches open silenced.
 * Deleting one returns the alerts it silenced to what they were; its end does the same (the
 * lifecycle's `expireSilences`). Creating and deleting are audited.
 */
export function createSilenceService(deps: {
  store: AlertStore;
  transact: Transact<AlertStores>;
  lifecycle: Pick<AlertLifecycle, 'applySilence' | 'releaseSilence'>;
  now: () => number;
}) {
  const { store, now } = deps;
  const audited = createAudited(deps.transact, now);
  const iso = (ms: number) => new Date(ms).toISOString();
  const itemOf = (s: SilenceRecord): SilenceItem => ({
    id: s.id,
    matchers: {
      ...(s.host_id !== null ? { host_id: s.host_id } : {}),
      ...(s.rule_id !== null ? { rule_id: s.rule_id } : {}),
      ...(Object.keys(s.labels).length > 0 ? { labels: s.labels } : {}),
    },
    reason: s.reason,
    starts_at: iso(s.starts_at),
    ends_at: iso(s.ends_at),
    created_by: s.created_by,
    created_at: iso(s.created_at),
    active: s.starts_at <= now() && now() < s.ends_at,
  });

  return {
    /** Every silence, newest first; `active` keeps those active now. */
    async list(q: { active?: boolean } = {}): Promise<SilenceItem[]> {
      return (await store.silences(q.active ? now() : undefined)).map(itemOf);
    },

    /** One silence. @throws VigilError not_found (`silence.not_found`). */
    async get(id: string): Promise<SilenceItem> {
      const s = await store.silence(id);
      if (!s) throw notFound(id);
      return itemOf(s);
    },

    /**
     * Creates a silence and silences the open alerts it matches now.
     * @throws VigilError bad_data without a matcher, or for an `ends_at` not in the future, not
     * after `starts_at`, or more than a year ahead.
     */
    async create(ctx: RequestContext, body: NewSilence): Promise<SilenceItem> {
      const m = body.matchers ?? {};
      const labels = m.labels ?? {};
      for (const [k, v] of Object.entries(labels))
        if (typeof v !== 'string' || k === '') throw bad('matchers.labels: must map names to text');
      if (!m.host_id && !m.rule_id && Object.keys(labels).length === 0)
        throw bad('matchers: give at least one of host_id, rule_id, labels');
      const t = now();
      const startsAt = body.starts_at ? parseTime('starts_at', body.starts_at) : t;
      const endsAt = parseTime('ends_at', body.ends_at);
      if (endsAt <= t) throw bad('ends_at: must be in the future');
      if (endsAt <= startsAt) throw bad('ends_at: must be after starts_at');
      if (endsAt > t + MAX_SILENCE_MS) throw bad('ends_at: must be at most a year ahead');
      const row: SilenceRecord = {
        id: randomUUID(),
        host_id: m.host_id || null,
        rule_id: m.rule_id || null,
        labels,
        reason: body.reason ?? '',
        starts_at: startsAt,
        ends_at: endsAt,
        created_by: ctx.actor.label ?? ctx.actor.id,
        created_at: t,
        applied_at: null,
      };
      await audited(
        ctx,
        { action: 'alert_silence.create', resourceType: 'alert_silence', resourceId: row.id },
        async (s, draft) => {
          await s.alerts.insertSilence(row);
          draft.entry.detail = { matchers: itemOf(row).matchers, ends_at: iso(endsAt) };
        },
      );
      if (startsAt <= t) await deps.lifecycle.applySilence(row);
      return itemOf(row);
    },

    /**
     * Deletes a silence; the alerts it silenced go back to what they were.
     * @throws VigilError not_found (`silence.not_found`).
     */
    async remove(ctx: RequestContext, id: string): Promise<void> {
      await audited(
        ctx,
        { action: 'alert_silence.delete', resourceType: 'alert_silence', resourceId: id },
        async (s) => {
          if ((await s.alerts.deleteSilence(id)) !== 1) throw notFound(id);
        },
      );
      await deps.lifecycle.releaseSilence(id, ctx.actor, 'silence deleted');
    },
  };
}

/** The silences service. */
export type SilenceService = ReturnType<typeof createSilenceService>;
