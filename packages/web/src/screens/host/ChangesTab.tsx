import { useInfiniteQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { api, unwrap } from '../../api/client';
import { useCan } from '../../app/session';
import { ErrorView } from '../../ui/ErrorView';
import { ago, dateTime } from '../../ui/format';
import { Loading } from '../../ui/Page';
import { RecentChanges } from '../health/RecentChanges';
import '../health/health.css';
import { detailText, KIND_GROUPS, KIND_LABELS, subjectText } from './events';

/**
 * What changed on a host: its timeline of intelligence events (packages, kernel, reboots,
 * listening ports, users, failed units), filterable by kind, with "Load more" for older ones;
 * then, for callers who may read compliance, its compliance changes as a second section.
 */
export function ChangesTab({ hostId }: { hostId: string }) {
  const can = useCan();
  const [group, setGroup] = useState('');
  const prefix = KIND_GROUPS.find((g) => g.id === group)?.prefix;
  const q = useInfiniteQuery({
    queryKey: ['intelligence', 'events', { host_id: hostId, kind: prefix ?? null }],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/api/v1/intelligence/events', {
          params: {
            query: {
              host_id: hostId,
              limit: 50,
              ...(prefix ? { kind: prefix } : {}),
              ...(pageParam ? { cursor: pageParam } : {}),
            },
          },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const events = useMemo(() => q.data?.pages.flatMap((p) => p.events) ?? [], [q.data]);
  return (
    <div className="stack">
      <section aria-labelledby="host-changes">
        <div className="host-tab-bar">
          <h2 id="host-changes">What changed</h2>
          <label>
            Kind
            <select value={group} onChange={(e) => setGroup(e.target.value)}>
              <option value="">Every kind</option>
              {KIND_GROUPS.map((g) => (
                <option key={g.id} value={g.id}>
                  {g.label}
                </option>
              ))}
            </select>
          </label>
        </div>
        {!q.data && q.isError ? (
          <ErrorView error={q.error} onRetry={() => void q.refetch()} />
        ) : !q.data ? (
          <Loading label="Loading changes…" height={240} />
        ) : events.length === 0 ? (
          <p className="card host-empty">
            {prefix
              ? 'No change of this kind recorded.'
              : 'No change recorded yet: the first report of a host only sets what later ones are compared with.'}
          </p>
        ) : (
          <>
            <ol className="timeline" aria-label="Changes, newest first">
              {events.map((e) => {
                const k = KIND_LABELS[e.kind] ?? { label: e.kind, icon: '•' };
                const subject = subjectText(e);
                const detail = detailText(e);
                return (
                  <li key={e.id}>
                    <span className="event-icon" aria-hidden="true">
                      {k.icon}
                    </span>
                    <span className="event-text">
                      <span className="event-kind">{k.label}</span>
                      {subject && <code>{subject}</code>}
                      {detail && (
                        <span className="muted">
                          {subject ? ' · ' : ''}
                          {detail}
                        </span>
                      )}
                    </span>
                    <time className="event-time" dateTime={e.at} title={dateTime(e.at)}>
                      {ago(e.at)}
                    </time>
                  </li>
                );
              })}
            </ol>
            <div className="health-pager">
              <span className="muted small" aria-live="polite">
                {events.length} {events.length === 1 ? 'change' : 'changes'} shown
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
      {can('compliance:read') && <RecentChanges hostId={hostId} title="Compliance changes" />}
    </div>
  );
}
