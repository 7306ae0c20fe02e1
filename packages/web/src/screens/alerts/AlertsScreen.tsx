import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link, setQueryParam, useLocation } from '../../app/router';
import { useCan } from '../../app/session';
import { ErrorView } from '../../ui/ErrorView';
import { Loading, Page } from '../../ui/Page';
import { fetchFleet, HOSTS_KEY } from '../fleet/live';
import { AlertFilters, type AlertFilterValues } from './AlertFilters';
import { AlertTable } from './AlertTable';
import { isRange, SEVERITIES, useAlerts, useAlertsLive, type ListFilter } from './queries';
import './alerts.css';

/** How many alerts one page shows; "Show more" adds as many (the API's limit is 1,000). */
const PAGE = 100;

/**
 * Alerts, newest first, live: counts by severity at the top (each filters the list), filters by
 * state, severity, host and start time kept in the address, and each alert linking to its
 * detail. The stream's `alert` events update the list; nothing polls.
 */
export function AlertsScreen() {
  const can = useCan();
  const { query } = useLocation();
  const values: AlertFilterValues = {
    state: query.get('state') ?? '',
    severity: query.get('severity') ?? '',
    host: query.get('host') ?? '',
    range: isRange(query.get('range')) ? query.get('range')! : '',
  };
  const limit = Math.min(1000, Math.max(PAGE, Number(query.get('limit')) || PAGE));
  const filter: ListFilter = {
    state: values.state,
    host_id: values.host,
    range: isRange(values.range) ? values.range : '',
    limit,
  };
  const list = useAlerts(filter);
  useAlertsLive();
  const fleet = useQuery({
    queryKey: HOSTS_KEY,
    queryFn: fetchFleet,
    enabled: can('host:read'),
    staleTime: 60_000,
  });

  const all = list.data?.items;
  const counts = useMemo(() => {
    const c: Record<string, number> = {};
    for (const a of all ?? []) c[a.severity] = (c[a.severity] ?? 0) + 1;
    return c;
  }, [all]);
  const shown = useMemo(
    () => (all ?? []).filter((a) => !values.severity || a.severity === values.severity),
    [all, values.severity],
  );
  const hosts = useMemo(() => {
    const byId = new Map<string, string>();
    for (const h of fleet.data?.items ?? []) byId.set(h.id, h.name);
    for (const a of all ?? [])
      if (!byId.has(a.host_id)) byId.set(a.host_id, a.host_name ?? a.host_id);
    return [...byId]
      .map(([id, name]) => ({ id, name }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }, [fleet.data, all]);

  const stateWord = values.state === 'all' ? '' : values.state ? `${values.state} ` : 'open ';
  return (
    <Page
      title="Alerts"
      subtitle="What is wrong now, and what was: live."
      actions={
        <Link to="/alerts/silences" className="button-link">
          Silences
        </Link>
      }
    >
      <ul className="alert-counts" aria-label="Alerts by severity">
        {SEVERITIES.map((s) => (
          <li key={s}>
            <button
              type="button"
              className={`card alert-count-${s}`}
              aria-pressed={values.severity === s}
              onClick={() => setQueryParam('severity', values.severity === s ? '' : s)}
            >
              <span className="alert-count-figure">{all ? (counts[s] ?? 0) : '–'}</span>
              {stateWord}
              {s}
            </button>
          </li>
        ))}
      </ul>
      <AlertFilters filter={values} hosts={hosts} />
      {list.isError ? (
        <ErrorView error={list.error} onRetry={() => void list.refetch()} />
      ) : !all ? (
        <Loading label="Loading alerts…" height={240} />
      ) : shown.length === 0 ? (
        <p className="card muted" role="status">
          {all.length === 0 && !values.state && !values.host && !values.range
            ? 'No open alerts: all is well.'
            : 'No alert matches these filters.'}
        </p>
      ) : (
        <>
          <p className="muted small" role="status">
            Showing {shown.length} {shown.length === 1 ? 'alert' : 'alerts'}
          </p>
          <AlertTable alerts={shown} label="Alerts" />
          {list.data?.next_cursor && limit < 1000 && (
            <p>
              <button
                type="button"
                onClick={() => setQueryParam('limit', String(Math.min(1000, limit + PAGE)))}
              >
                Show more
              </button>
            </p>
          )}
        </>
      )}
    </Page>
  );
}
