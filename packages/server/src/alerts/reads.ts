import type { CursorCodec } from '../audit/service.js';
import { VigilError } from '../errors.js';
import {
  OPEN_STATES,
  SEVERITIES,
  type AlertItem,
  type AlertState,
  type AlertTransition,
  type Severity,
} from './model.js';
import type { AlertStore } from './records.js';
import { itemOf, transitionOf } from './render.js';
import { parseTime } from './time.js';

/** The filters of `GET /api/v1/alerts`, as the query string gives them (all text). */
export interface AlertListQuery {
  state?: string;
  severity?: string;
  host_id?: string;
  since?: string;
  until?: string;
  cursor?: string;
  limit?: number | string;
}

/** A page of alerts, newest first. */
export interface AlertPage {
  items: AlertItem[];
  next_cursor: string | null;
}

const bad = (message: string) => new VigilError('bad_data', message, { code: 'validation_failed' });
const notFound = (id: string) =>
  new VigilError('not_found', `alert ${id} not found`, { code: 'alert.not_found' });

function listOf<T extends string>(field: string, v: string, allowed: readonly T[]): T[] {
  const parts = v.split(',').map((p) => p.trim());
  for (const p of parts)
    if (!(allowed as readonly string[]).includes(p))
      throw bad(`${field}: "${p}" is not one of ${allowed.join(', ')}`);
  return parts as T[];
}

/**
 * The alert domain's reads: one alert with its history, the filtered list, counts for the
 * dashboard, the transitions feed for the activity feed, and the open alerts.
 */
export function createAlertReads(deps: { store: AlertStore; cursors: CursorCodec }) {
  const { store } = deps;
  async function get(id: string): Promise<{ alert: AlertItem; transitions: AlertTransition[] }> {
    const a = await store.get(id);
    if (!a) throw notFound(id);
    const ts = await store.transitions(id);
    return { alert: itemOf(a), transitions: ts.map(transitionOf) };
  }
  return {
    /** An alert and its transitions, oldest first. @throws VigilError not_found. */
    get,

    /** An alert without its transitions; undefined when there is none. */
    async item(id: string): Promise<AlertItem | undefined> {
      const a = await store.get(id);
      return a && itemOf(a);
    },

    /**
     * A page of alerts, newest first (by `started_at`). `state` is a comma list of states or
     * `all` (default: the open states); `severity` a comma list; `since`/`until` ISO times on
     * `started_at`; `limit` 1 to 1000 (default 100).
     * @throws VigilError bad_data naming the bad filter.
     */
    async list(q: AlertListQuery = {}): Promise<AlertPage> {
      const states =
        q.state === undefined || q.state === ''
          ? [...OPEN_STATES]
          : q.state === 'all'
            ? []
            : listOf('state', q.state, [
                'active',
                'acknowledged',
                'silenced',
                'resolved',
                'dismissed',
              ]);
      const severities =
        q.severity === undefined || q.severity === ''
          ? undefined
          : listOf('severity', q.severity, SEVERITIES);
      const limit = q.limit === undefined || q.limit === '' ? 100 : Number(q.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw bad('limit: must be an integer from 1 to 1000');
      const since = q.since ? parseTime('since', q.since) : undefined;
      const until = q.until ? parseTime('until', q.until) : undefined;
      if (since !== undefined && until !== undefined && since > until)
        throw bad('since: must not be after until');
      let after: { startedAt: number; id: string } | undefined;
      if (q.cursor) {
        const d = deps.cursors.decode(q.cursor);
        if (
          !Array.isArray(d) ||
          d.length !== 2 ||
          typeof d[0] !== 'number' ||
          typeof d[1] !== 'string'
        )
          throw bad('cursor: is not a cursor of this list');
        after = { startedAt: d[0], id: d[1] };
      }
      const rows = await store.list({
        states,
        severities,
        hostId: q.host_id || undefined,
        since,
        until,
        after,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map(itemOf),
        next_cursor:
          rows.length > limit && last ? deps.cursors.encode([last.started_at, last.id]) : null,
      };
    },

    /** Open alerts by severity, for the dashboard (every severity, 0 when none). */
    async countsBySeverity(): Promise<Record<Severity, number>> {
      const counts = await store.countsBySeverity();
      return Object.fromEntries(SEVERITIES.map((s) => [s, counts[s] ?? 0])) as Record<
        Severity,
        number
      >;
    },

    /**
     * Transitions of every alert, newest first, for the activity feed; `cursor` continues a
     * previous page. @throws VigilError bad_data for a cursor that is not this feed's.
     */
    async recentTransitions(
      q: { cursor?: string; limit?: number } = {},
    ): Promise<{ items: AlertTransition[]; next_cursor: string | null }> {
      const limit = q.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw bad('limit: must be an integer from 1 to 1000');
      let before: { at: number; seq: number } | undefined;
      if (q.cursor) {
        const d = deps.cursors.decode(q.cursor);
        if (
          !Array.isArray(d) ||
          d.length !== 3 ||
          d[0] !== 't' ||
          typeof d[1] !== 'number' ||
          typeof d[2] !== 'number'
        )
          throw bad('cursor: is not a cursor of this feed');
        before = { at: d[1], seq: d[2] };
      }
      const rows = await store.recentTransitions(before, limit + 1);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map(transitionOf),
        next_cursor:
          rows.length > limit && last ? deps.cursors.encode(['t', last.at, last.seq]) : null,
      };
    },

    /** Every open alert, newest first (reminders, the fleet overview). */
    async openAlerts(
      filter: { hostId?: string; states?: AlertState[] } = {},
    ): Promise<AlertItem[]> {
      return (await store.open(filter)).map(itemOf);
    },
  };
}

/** The alert reads. */
export type AlertReads = ReturnType<typeof createAlertReads>;
