import { Link } from '../../app/router';
import { ErrorView } from '../../ui/ErrorView';
import { Loading } from '../../ui/Page';
import { AlertTable } from './AlertTable';
import { useAlerts, useAlertsLive, type ListFilter } from './queries';
import './alerts.css';

/** The open alerts of one host, live, each linking to its detail (the host screen's tab). */
export function HostAlerts({ hostId }: { hostId: string }) {
  const filter: ListFilter = { state: '', host_id: hostId, range: '', limit: 200 };
  const list = useAlerts(filter);
  useAlertsLive();
  const all = `/alerts?host=${encodeURIComponent(hostId)}&state=all`;
  if (list.isError) return <ErrorView error={list.error} onRetry={() => void list.refetch()} />;
  if (!list.data) return <Loading label="Loading alerts…" height={120} />;
  return (
    <div className="stack">
      {list.data.items.length === 0 ? (
        <p className="muted" role="status">
          No open alert on this host.
        </p>
      ) : (
        <AlertTable alerts={list.data.items} label="Open alerts of this host" hideHost />
      )}
      <p>
        <Link to={all}>Every alert of this host, open or closed</Link>
      </p>
    </div>
  );
}

/** A host's open-alert count as a badge linking to its alerts (nothing when there is none). */
export function HostAlertBadge(props: { hostId: string; count: number; severity: string | null }) {
  if (props.count === 0) return null;
  const word = props.count === 1 ? 'open alert' : 'open alerts';
  return (
    <Link
      to={`/alerts?host=${encodeURIComponent(props.hostId)}`}
      className={`badge host-alert-badge alert-sev-${props.severity ?? 'info'}`}
      aria-label={`${props.count} ${word}`}
    >
      {props.count} ⚠
    </Link>
  );
}
