import { useMemo } from 'react';
import { Link } from '../../app/router';
import { ErrorView } from '../../ui/ErrorView';
import { ago, dateTime } from '../../ui/format';
import { Loading } from '../../ui/Page';
import { StatusChange } from './badges';
import { useRecentChanges } from './queries';

/**
 * Compliance changes (a rule's status moved on a host), newest first, with "Load more" for older
 * ones: the fleet's, or one host's with `hostId` (then without the host column).
 */
export function RecentChanges({ hostId, title }: { hostId?: string; title: string }) {
  const q = useRecentChanges(hostId);
  const items = useMemo(() => q.data?.pages.flatMap((p) => p.changes) ?? [], [q.data]);
  const headingId = hostId ? 'host-compliance-changes' : 'health-changes';
  return (
    <section className="health-section" aria-labelledby={headingId}>
      <h2 id={headingId}>{title}</h2>
      {!q.data && q.isError ? (
        <ErrorView error={q.error} onRetry={() => void q.refetch()} />
      ) : !q.data ? (
        <Loading label="Loading changes…" height={160} />
      ) : items.length === 0 ? (
        <p className="card muted">No rule has changed status yet.</p>
      ) : (
        <>
          <div className="table-wrap" tabIndex={0} role="region" aria-label={`${title} table`}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  {!hostId && <th scope="col">Host</th>}
                  <th scope="col">Rule</th>
                  <th scope="col">Change</th>
                </tr>
              </thead>
              <tbody>
                {items.map((c) => (
                  <tr key={c.id}>
                    <td className="nowrap-cell">
                      <time dateTime={c.at} title={dateTime(c.at)}>
                        {ago(c.at)}
                      </time>
                    </td>
                    {!hostId && (
                      <td className="wrap-anywhere">
                        <Link to={`/hosts/${encodeURIComponent(c.host_id)}?tab=compliance`}>
                          {c.host_name}
                        </Link>
                      </td>
                    )}
                    <td>{c.title}</td>
                    <td className="change-cell">
                      <StatusChange from={c.from} to={c.to} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="health-pager">
            <span className="muted small" aria-live="polite">
              {items.length} {items.length === 1 ? 'change' : 'changes'} shown
              {q.hasNextPage ? '' : ', no older ones'}
            </span>
            {q.hasNextPage && (
              <button
                type="button"
                disabled={q.isFetchingNextPage}
                onClick={() => void q.fetchNextPage()}
              >
                {q.isFetchingNextPage ? 'Loading…' : 'Load more'}
              </button>
            )}
          </div>
          {q.isError && <ErrorView error={q.error} />}
        </>
      )}
    </section>
  );
}
