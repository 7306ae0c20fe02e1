import { useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import type { Answer } from '../../api/types';
import { useStreamEvent } from '../../app/stream';

/** The answer of `GET /api/v1/alerts`. */
export type AlertList = Answer<'/api/v1/alerts'>;

/** An alert as the list renders it. */
export type Alert = AlertList['items'][number];

/** One alert with its transitions (`GET /api/v1/alerts/{id}`). */
export type AlertDetail = Answer<'/api/v1/alerts/{id}'>;

/** One recorded step of an alert's life. */
export type Transition = AlertDetail['transitions'][number];

/** A silence (`GET /api/v1/alerts/silences`). */
export type Silence = Answer<'/api/v1/alerts/silences'>['items'][number];

/** An alert's severity. */
export type Severity = Alert['severity'];

/** An alert's state. */
export type AlertState = Alert['state'];

/** Severities, worst first. */
export const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'info'];

/** Every state; the first three are open. */
export const STATES: readonly AlertState[] = [
  'active',
  'acknowledged',
  'silenced',
  'resolved',
  'dismissed',
];

/** The states of an open alert. */
export const OPEN_STATES: readonly AlertState[] = ['active', 'acknowledged', 'silenced'];

/** The time ranges of the list's filter (on `started_at`), in milliseconds back from now. */
export const RANGES = {
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 604_800_000,
  '30d': 2_592_000_000,
};

/** A range of the list's filter. */
export type RangeId = keyof typeof RANGES;

/** Whether a text names a range. */
export const isRange = (s: string | null): s is RangeId => s !== null && s in RANGES;

/**
 * What a list query asks the server for: `state` a comma list (empty: the open states) or `all`,
 * `host_id`, `range` (on `started_at`), `limit`. Severity is filtered in the browser, so that the
 * counts by severity cover what the other filters keep.
 */
export interface ListFilter {
  state: string;
  host_id: string;
  range: RangeId | '';
  limit: number;
}

/** The query keys of the alert screens: one per endpoint. */
export const alertKeys = {
  all: ['alerts'] as const,
  list: (f: ListFilter) => ['alerts', f] as const,
  detail: (id: string) => ['alerts', id] as const,
  deliveries: (id: string) => ['alerts', id, 'notifications'] as const,
  /** `GET /api/v1/alerts/rules`, the whole answer (`{items, total}`). */
  rules: ['alerts', 'rules'] as const,
  /** `GET /api/v1/alerts/rules/{id}`, the rule. */
  rule: (id: string) => ['alerts', 'rules', id] as const,
  silences: ['alerts', 'silences'] as const,
};

/** `GET /api/v1/alerts` for a filter. */
export function fetchAlerts(f: ListFilter): Promise<AlertList> {
  const since = f.range ? new Date(Date.now() - RANGES[f.range]).toISOString() : undefined;
  return unwrap(
    api.GET('/api/v1/alerts', {
      params: {
        query: {
          state: f.state || undefined,
          host_id: f.host_id || undefined,
          since,
          limit: String(f.limit),
        },
      },
    }),
  );
}

/** The alerts of a filter, kept live by `useAlertsLive`. */
export function useAlerts(f: ListFilter, enabled = true) {
  return useQuery({
    queryKey: alertKeys.list(f),
    queryFn: () => fetchAlerts(f),
    enabled,
    // The stream keeps it current; coming back to a screen fetches it again.
    staleTime: Infinity,
    refetchOnMount: 'always',
  });
}

/** The open alerts of the whole fleet (at most 1,000), for counts per host. */
export const OPEN_FILTER: ListFilter = { state: '', host_id: '', range: '', limit: 1000 };

/** Whether an alert belongs in a list of that filter (now). */
export function matches(a: Alert, f: ListFilter, now = Date.now()): boolean {
  const states = !f.state ? OPEN_STATES : f.state === 'all' ? STATES : f.state.split(',');
  if (!states.includes(a.state)) return false;
  if (f.host_id && a.host_id !== f.host_id) return false;
  if (f.range && Date.parse(a.started_at) < now - RANGES[f.range]) return false;
  return true;
}

/** Newest first (by `started_at`), as the server orders them. */
const byStart = (a: Alert, b: Alert) => b.started_at.localeCompare(a.started_at);

/**
 * Applies one `alert` event of the stream to every cached alert query: each list gains, replaces
 * or drops the alert by its filter, and its detail (if cached) takes the new fields and the
 * recorded step. Applying the same event twice changes nothing.
 */
export function applyAlertEvent(qc: QueryClient, alert: Alert, transition: Transition): void {
  for (const [key, data] of qc.getQueriesData<AlertList>({ queryKey: alertKeys.all })) {
    const f = key[1];
    if (!data || typeof f !== 'object' || f === null || key.length !== 2) continue;
    const rest = data.items.filter((a) => a.id !== alert.id);
    const items = matches(alert, f as ListFilter) ? [...rest, alert].sort(byStart) : rest;
    qc.setQueryData<AlertList>(key, { ...data, items, alerts: items });
  }
  qc.setQueryData<AlertDetail>(alertKeys.detail(alert.id), (d) => {
    if (!d) return d;
    const steps = d.transitions.some((t) => t.id === transition.id)
      ? d.transitions
      : [...d.transitions, transition];
    return { ...alert, transitions: steps };
  });
  if (transition.to !== transition.from)
    void qc.invalidateQueries({ queryKey: alertKeys.deliveries(alert.id), exact: true });
}

/** Keeps every cached alert query live from the stream's `alert` events. */
export function useAlertsLive(): void {
  const qc = useQueryClient();
  useStreamEvent('alert', (d) => {
    const e = d as { alert?: Alert; transition?: Transition };
    if (typeof e?.alert?.id !== 'string' || typeof e.transition?.id !== 'string') return;
    applyAlertEvent(qc, e.alert, e.transition);
  });
}

/** Open alerts per host id, from the fleet's list of open alerts. */
export function countByHost(list: AlertList | undefined): Map<string, Alert[]> {
  const out = new Map<string, Alert[]>();
  for (const a of list?.items ?? []) {
    const l = out.get(a.host_id);
    if (l) l.push(a);
    else out.set(a.host_id, [a]);
  }
  return out;
}

/** The worst severity of some alerts, or null for none. */
export function worst(alerts: readonly Alert[]): Severity | null {
  for (const s of SEVERITIES) if (alerts.some((a) => a.severity === s)) return s;
  return null;
}
