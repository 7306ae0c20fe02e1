import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { Link, setQueryParam, useLocation } from '../../app/router';
import { useCan } from '../../app/session';
import { ErrorView } from '../../ui/ErrorView';
import { Loading, Page } from '../../ui/Page';
import { useSorted, type Sort } from '../../ui/sort';
import { countByHost, OPEN_FILTER, useAlerts, useAlertsLive, worst } from '../alerts/queries';
import { AddHostDialog } from './AddHostDialog';
import { columnValue, filterHosts, osNames, type FleetColumn } from './filter';
import { FleetFilters } from './FleetFilters';
import { FleetTable } from './FleetTable';
import { HOSTS_KEY, type HostOverview, fetchFleet } from './live';
import { useFleetLive } from './useFleetLive';
import './fleet.css';

const COLUMNS: readonly FleetColumn[] = [
  'status',
  'name',
  'os',
  'uptime',
  'cpu',
  'memory',
  'disk',
  'network',
  'checks',
];
const isColumn = (s: string | null): s is FleetColumn => COLUMNS.includes(s as FleetColumn);

/** The first screen: every host with its state and recent figures, live. */
export function FleetScreen() {
  const can = useCan();
  const { query } = useLocation();
  const [adding, setAdding] = useState(false);
  const hosts = useQuery({
    queryKey: HOSTS_KEY,
    queryFn: fetchFleet,
    // The stream keeps the list current while the screen is open; coming back to it fetches
    // it again (what happened meanwhile), showing the cached list until then.
    staleTime: Infinity,
    refetchOnMount: 'always',
  });
  useFleetLive();
  // The open alerts of the fleet, read once and kept live, for a badge per host.
  const openAlerts = useAlerts(OPEN_FILTER, can('alerts:read'));
  useAlertsLive();
  const alertsByHost = useMemo(() => {
    const out = new Map<string, { count: number; severity: string | null }>();
    for (const [id, list] of countByHost(openAlerts.data))
      out.set(id, { count: list.length, severity: worst(list) });
    return out;
  }, [openAlerts.data]);
  const filter = {
    q: query.get('q') ?? '',
    status: query.get('status') ?? '',
    os: query.get('os') ?? '',
  };
  const sortParam = query.get('sort');
  const initial: Sort<FleetColumn> = {
    key: isColumn(sortParam) ? sortParam : 'name',
    dir: query.get('dir') === 'desc' ? 'desc' : 'asc',
  };
  const all = hosts.data?.items;
  const shown = useMemo(
    () => filterHosts(all ?? [], filter),
    [all, filter.q, filter.status, filter.os],
  );
  const { sorted, sort, toggle } = useSorted<HostOverview, FleetColumn>(
    shown,
    columnValue,
    initial,
  );
  const counts = useMemo(() => {
    const c: Record<string, number> = {};
    for (const h of all ?? []) c[h.status] = (c[h.status] ?? 0) + 1;
    return c;
  }, [all]);
  const oses = useMemo(() => osNames(all ?? []), [all]);

  const onSort = (k: FleetColumn) => {
    const dir = sort.key === k && sort.dir === 'asc' ? 'desc' : 'asc';
    toggle(k);
    setQueryParam('sort', k === 'name' ? '' : k);
    setQueryParam('dir', dir === 'asc' ? '' : 'desc');
  };

  // A count with hosts in it filters the list to them.
  const count = (status: string, word: string, tone?: string) => {
    const n = counts[status] ?? 0;
    if (n === 0) return `${n} ${word}`;
    return (
      <button
        type="button"
        className={`link ${tone ?? ''}`}
        aria-pressed={filter.status === status}
        onClick={() => setQueryParam('status', filter.status === status ? '' : status)}
      >
        {n} {word}
      </button>
    );
  };
  const summary = all && (
    <span className="fleet-summary" aria-live="polite">
      {all.length} {all.length === 1 ? 'host' : 'hosts'} · {count('online', 'online', 'ok-text')} ·{' '}
      {count('offline', 'offline', 'crit-text')} · {count('pending', 'pending')}
      {counts.unknown ? <> · {count('unknown', 'without agent')}</> : null}
    </span>
  );

  return (
    <Page
      title="Fleet"
      subtitle={summary ?? 'Every host and its agents, live.'}
      actions={
        <>
          {can('host:write') && (
            <button type="button" className="primary" onClick={() => setAdding(true)}>
              Add host
            </button>
          )}
          {can('agents:read') && (
            <Link to="/agents" className="button-link">
              Agents
            </Link>
          )}
        </>
      }
    >
      <AddHostDialog open={adding} onClose={() => setAdding(false)} />
      {hosts.isError ? (
        <ErrorView error={hosts.error} onRetry={() => void hosts.refetch()} />
      ) : !all ? (
        <Loading label="Loading hosts…" height={360} />
      ) : all.length === 0 ? (
        <div className="card fleet-empty">
          <h2>No hosts yet</h2>
          <p>
            A host appears here as soon as its agent sends its first report.{' '}
            {can('agents:write') ? (
              <>
                Open <Link to="/agents">Agents</Link> and choose <strong>Add agent</strong> for the
                one-line install and enrollment command.
              </>
            ) : (
              'Ask an administrator to add an agent.'
            )}
          </p>
        </div>
      ) : (
        <>
          <FleetFilters filter={filter} counts={counts} total={all.length} osNames={oses} />
          {sorted.length === 0 ? (
            <p className="card muted" role="status">
              No host matches these filters.
            </p>
          ) : (
            <>
              <p className="muted small fleet-count" role="status">
                {sorted.length === all.length
                  ? `Showing all ${all.length}`
                  : `Showing ${sorted.length} of ${all.length}`}
              </p>
              <FleetTable hosts={sorted} sort={sort} onSort={onSort} alerts={alertsByHost} />
            </>
          )}
        </>
      )}
    </Page>
  );
}
