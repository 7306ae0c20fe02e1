import { Link } from '../../app/router';
import { useCan } from '../../app/session';
import { ago, dateTime } from '../../ui/format';
import { SeverityBadge, StateBadge } from './badges';
import type { Alert } from './queries';

/** The link to an alert's detail. */
export const alertPath = (id: string) => `/alerts/${encodeURIComponent(id)}`;

/** A list of alerts, newest first: severity, state, what, where, since when. */
export function AlertTable(props: { alerts: readonly Alert[]; label: string; hideHost?: boolean }) {
  const can = useCan();
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label={`${props.label} table`}>
      <table className="alert-table" aria-label={props.label}>
        <thead>
          <tr>
            <th scope="col">Severity</th>
            <th scope="col">State</th>
            <th scope="col">Alert</th>
            {!props.hideHost && <th scope="col">Host</th>}
            <th scope="col">Rule</th>
            <th scope="col">Started</th>
          </tr>
        </thead>
        <tbody>
          {props.alerts.map((a) => (
            <tr key={a.id}>
              <td>
                <SeverityBadge severity={a.severity} />
              </td>
              <td>
                <StateBadge state={a.state} />
                {a.suppressed && <span className="muted small"> (suppressed)</span>}
              </td>
              <td className="alert-message">
                <Link to={alertPath(a.id)}>{a.message}</Link>
              </td>
              {!props.hideHost && (
                <td>
                  {can('host:read') ? (
                    <Link to={`/hosts/${encodeURIComponent(a.host_id)}`}>
                      {a.host_name ?? a.host_id}
                    </Link>
                  ) : (
                    (a.host_name ?? a.host_id)
                  )}
                </td>
              )}
              <td>{a.rule_name ?? a.rule_id}</td>
              <td>
                <time dateTime={a.started_at} title={dateTime(a.started_at)}>
                  {ago(a.started_at)}
                </time>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
