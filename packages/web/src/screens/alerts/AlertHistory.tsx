import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { ErrorView } from '../../ui/ErrorView';
import { dateTime } from '../../ui/format';
import { Loading } from '../../ui/Page';
import { SeverityBadge, StateBadge } from './badges';
import { alertKeys, type Transition } from './queries';

/** Who made a step, for people: the user or client's name, or Vigil itself. */
function actorText(t: Transition): string {
  if (t.actor.type === 'system') return 'Vigil';
  const who = t.actor.label ?? t.actor.id ?? 'unknown';
  return t.actor.type === 'client' ? `${who} (API client)` : who;
}

/** An alert's history: every step, oldest first, with who made it, when and why. */
export function AlertHistory({ transitions }: { transitions: readonly Transition[] }) {
  return (
    <section className="card stack" aria-labelledby="alert-history">
      <h2 id="alert-history">History</h2>
      <div className="table-wrap" tabIndex={0} role="region" aria-label="History table">
        <table aria-labelledby="alert-history">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Change</th>
              <th scope="col">Severity</th>
              <th scope="col">By</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {transitions.map((t) => (
              <tr key={t.id}>
                <td>
                  <time dateTime={t.at}>{dateTime(t.at)}</time>
                </td>
                <td>
                  {t.from ? (
                    <>
                      <StateBadge state={t.from} /> → <StateBadge state={t.to} />
                    </>
                  ) : (
                    <>
                      opened <StateBadge state={t.to} />
                    </>
                  )}
                </td>
                <td>
                  <SeverityBadge severity={t.severity} />
                </td>
                <td>{actorText(t)}</td>
                <td>{t.reason ?? <span className="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** An alert's delivery log: each notification attempt per channel. */
export function DeliveryLog({ id }: { id: string }) {
  const q = useQuery({
    queryKey: alertKeys.deliveries(id),
    queryFn: () =>
      unwrap(api.GET('/api/v1/alerts/{id}/notifications', { params: { path: { id } } })),
  });
  return (
    <section className="card stack" aria-labelledby="alert-deliveries">
      <h2 id="alert-deliveries">Notifications</h2>
      {q.isError ? (
        <ErrorView error={q.error} onRetry={() => void q.refetch()} />
      ) : !q.data ? (
        <Loading height={80} />
      ) : q.data.items.length === 0 ? (
        <p className="muted">No notification was sent for this alert.</p>
      ) : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Notifications table">
          <table aria-labelledby="alert-deliveries">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Channel</th>
                <th scope="col">Event</th>
                <th scope="col">Outcome</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {q.data.items.map((d) => (
                <tr key={d.id}>
                  <td>
                    <time dateTime={d.at}>{dateTime(d.at)}</time>
                  </td>
                  <td>
                    <code>{d.channel_id}</code>
                  </td>
                  <td>{d.event}</td>
                  <td>
                    <span
                      className={`badge status-${d.outcome === 'delivered' ? 'ok' : d.outcome === 'failed' ? 'failed' : 'unknown'}`}
                    >
                      {d.outcome}
                    </span>
                  </td>
                  <td className="small">
                    {[
                      d.status !== null ? `HTTP ${d.status}` : null,
                      d.duration_ms !== null ? `${d.duration_ms} ms` : null,
                      d.error,
                    ]
                      .filter(Boolean)
                      .join(' · ') || '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
