import type { AlertState, Severity, TransitionActor } from '../alerts/model.js';
import type { AuditFilter, AuditRow, CursorCodec } from '../audit/service.js';
import { VigilError } from '../errors.js';

/** What the feed holds: alert transitions, enrollments, deployments, changes and security events. */
export type ActivityKind = 'alert' | 'enrollment' | 'deployment' | 'change' | 'security';

/** Every kind, in the order the API documents them. */
export const ACTIVITY_KINDS: readonly ActivityKind[] = [
  'alert',
  'enrollment',
  'deployment',
  'change',
  'security',
];

/** One entry of the activity feed. */
export interface ActivityItem {
  id: string;
  at: string;
  kind: ActivityKind;
  /** The audit action, or `alert.<state>` for an alert's transition. */
  action: string;
  /** One line for people. */
  summary: string;
  actor: TransitionActor | null;
  resource_type: string | null;
  resource_id: string | null;
  host_id: string | null;
  severity: Severity | null;
}

/** An alert's transition as the feed reads it, with what it needs of the alert. */
export interface FeedTransition {
  id: string;
  /** Epoch ms. */
  at: number;
  alert_id: string;
  from: AlertState | null;
  to: AlertState;
  severity: Severity;
  actor: TransitionActor;
  reason: string | null;
  host_id: string;
  host_name: string | null;
  message: string;
}

/** What the feed reads of alerts. Declared where used. */
export interface ActivityAlerts {
  /** Transitions newest first (by time, then id), older than `before`, from `sinceMs` on. */
  transitions(q: {
    before?: { at: number; id: string };
    sinceMs?: number;
    untilMs?: number;
    hostId?: string;
    limit: number;
  }): Promise<FeedTransition[]>;
}

/** What the feed reads of the audit log (its store). */
export interface ActivityAudit {
  list(filter: AuditFilter): Promise<AuditRow[]>;
}

/** The audit actions the feed shows, by prefix, with their kind. */
const NOTABLE: readonly [string, ActivityKind][] = [
  ['agent.', 'enrollment'],
  ['config.deploy', 'deployment'],
  ['host.create', 'change'],
  ['host.delete', 'change'],
  ['host.revive', 'change'],
  ['host.maintenance', 'change'],
  ['role.', 'change'],
  ['user.create', 'change'],
  ['user.role_', 'change'],
  ['credential.create', 'change'],
  ['credential.delete', 'change'],
  ['oauth.client_create', 'change'],
  ['oauth.client_delete', 'change'],
  ['alert_silence.', 'change'],
  ['alert_rule.', 'change'],
  ['alert.config', 'change'],
  ['notification_channel.create', 'change'],
  ['notification_channel.update', 'change'],
  ['notification_channel.delete', 'change'],
  ['job.retry', 'change'],
  ['user.disable', 'security'],
  ['user.enable', 'security'],
  ['user.mfa_reset', 'security'],
  ['user.password_reset', 'security'],
  ['auth.mfa_enable', 'security'],
];

const kindOf = (action: string): ActivityKind | undefined =>
  NOTABLE.find(([p]) => action.startsWith(p))?.[1];

/** The transition's words: "opened", "acknowledged" … */
function transitionWords(t: FeedTransition): string {
  if (t.from === null) return 'opened';
  if (t.from === t.to) return `now ${t.severity}`;
  return t.to;
}

function fromTransition(t: FeedTransition): ActivityItem {
  const on = t.host_name ?? t.host_id;
  const by = t.actor.type === 'system' ? '' : ` by ${t.actor.label ?? t.actor.id ?? t.actor.type}`;
  return {
    id: t.id,
    at: new Date(t.at).toISOString(),
    kind: 'alert',
    action: t.from === null ? 'alert.opened' : `alert.${t.to}`,
    summary: `${t.severity} alert ${transitionWords(t)} on ${on}${by}: ${t.message}`,
    actor: t.actor,
    resource_type: 'alert',
    resource_id: t.alert_id,
    host_id: t.host_id,
    severity: t.severity,
  };
}

function fromAudit(r: AuditRow): ActivityItem {
  const who = r.actor_label ?? r.actor_id ?? r.actor_type;
  const what = r.resource_type
    ? ` ${r.resource_type}${r.resource_id ? ` ${r.resource_id}` : ''}`
    : '';
  return {
    id: r.id,
    at: new Date(r.occurred_at).toISOString(),
    kind: kindOf(r.action) ?? 'change',
    action: r.action,
    summary: `${r.action}${what} by ${who}`,
    actor: { type: r.actor_type as TransitionActor['type'], id: r.actor_id, label: r.actor_label },
    resource_type: r.resource_type,
    resource_id: r.resource_id,
    host_id: r.resource_type === 'host' ? r.resource_id : null,
    severity: null,
  };
}

/** A position in the feed: the time and id of the last entry of the page before. */
type Position = { at: number; id: string };

const newerFirst = (a: { at: number; id: string }, b: { at: number; id: string }) =>
  b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/**
 * The activity feed (`GET /api/v1/activity`): alert transitions and the notable audit events
 * (enrollments, deployments, changes to hosts, users, roles, credentials, rules and channels,
 * security events) in one list, newest first, cursor-paginated.
 */
export const createActivityFeed = (deps: {
  alerts: ActivityAlerts;
  audit: ActivityAudit;
  cursors: CursorCodec;
}) => ({
  /**
   * One page of the feed.
   * @throws VigilError bad_data for an inverted time range, an unknown kind or a cursor not made here.
   */
  async list(q: {
    kind?: string;
    host_id?: string;
    since?: string;
    until?: string;
    limit?: number;
    cursor?: string;
  }): Promise<{ items: ActivityItem[]; next_cursor: string | null }> {
    const limit = q.limit ?? 50;
    const kinds = q.kind === undefined ? ACTIVITY_KINDS : q.kind.split(',').map((k) => k.trim());
    const unknown = kinds.filter((k) => !ACTIVITY_KINDS.includes(k as ActivityKind));
    if (unknown.length > 0)
      throw new VigilError(
        'bad_data',
        `kind: unknown ${unknown.join(', ')} (one of ${ACTIVITY_KINDS.join(', ')})`,
        { code: 'validation_failed' },
      );
    const sinceMs = q.since === undefined ? undefined : Date.parse(q.since);
    const untilMs = q.until === undefined ? undefined : Date.parse(q.until);
    if (sinceMs !== undefined && untilMs !== undefined && sinceMs > untilMs)
      throw new VigilError('bad_data', 'since must not be after until', {
        code: 'validation_failed',
      });
    let before: Position | undefined;
    if (q.cursor !== undefined) {
      const d = deps.cursors.decode(q.cursor);
      if (!Array.isArray(d) || typeof d[0] !== 'number' || typeof d[1] !== 'string')
        throw new VigilError('bad_data', 'the cursor is not valid for this query', {
          code: 'pagination.cursor_invalid',
        });
      before = { at: d[0], id: d[1] };
    }
    const prefixes = NOTABLE.filter(([, k]) => kinds.includes(k)).map(([p]) => p);
    const [transitions, audits] = await Promise.all([
      kinds.includes('alert')
        ? deps.alerts.transitions({ before, sinceMs, untilMs, hostId: q.host_id, limit: limit + 1 })
        : [],
      prefixes.length > 0
        ? deps.audit.list({
            actionPrefixes: prefixes,
            resourceType: q.host_id === undefined ? undefined : 'host',
            resourceId: q.host_id,
            sinceMs,
            untilMs,
            before: before && { occurredAt: before.at, id: before.id },
            limit: limit + 1,
          })
        : [],
    ]);
    const merged = [
      ...transitions.map((t) => ({ at: t.at, id: t.id, item: () => fromTransition(t) })),
      ...audits.map((r) => ({ at: r.occurred_at, id: r.id, item: () => fromAudit(r) })),
    ].sort(newerFirst);
    const page = merged.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((e) => e.item()),
      next_cursor: merged.length > limit && last ? deps.cursors.encode([last.at, last.id]) : null,
    };
  },
});

/** The activity feed. */
export type ActivityFeed = ReturnType<typeof createActivityFeed>;
