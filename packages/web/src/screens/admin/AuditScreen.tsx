import { useInfiniteQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { api, unwrap } from '../../api/client';
import { setQueryParam, useLocation } from '../../app/router';
import { ErrorView } from '../../ui/ErrorView';
import { Loading, Page } from '../../ui/Page';
import { AuditRows } from './AuditRows';
import './admin.css';

const FILTERS = ['action', 'actor_type', 'resource_type', 'since', 'until'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

const ACTOR_TYPES = ['user', 'oauth_client', 'agent', 'system'] as const;
type ActorType = (typeof ACTOR_TYPES)[number];

/** A `datetime-local` value (local time) as RFC 3339, or undefined when empty or invalid. */
function toIso(local: string | undefined): string | undefined {
  if (!local) return undefined;
  const t = new Date(local);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

/**
 * The audit log, newest first: who did what to which object, from where, under which
 * correlation id. Filters live in the address (bookmarkable); older events load with "Load
 * more" (the API's cursor).
 */
export function AuditScreen() {
  const { query } = useLocation();
  const filters: Filters = useMemo(
    () => Object.fromEntries(FILTERS.map((f) => [f, query.get(f) ?? ''])) as Filters,
    [query],
  );
  const events = useInfiniteQuery({
    queryKey: ['audit', 'events', filters],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/api/v1/audit/events', {
          params: {
            query: {
              limit: 50,
              ...(pageParam ? { cursor: pageParam } : {}),
              ...(filters.action ? { action: filters.action.trim() } : {}),
              ...(filters.actor_type ? { actor_type: filters.actor_type as ActorType } : {}),
              ...(filters.resource_type ? { resource_type: filters.resource_type.trim() } : {}),
              ...(toIso(filters.since) ? { since: toIso(filters.since) } : {}),
              ...(toIso(filters.until) ? { until: toIso(filters.until) } : {}),
            },
          },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const items = useMemo(() => events.data?.pages.flatMap((p) => p.items) ?? [], [events.data]);
  const actions = useMemo(() => [...new Set(items.map((i) => i.action))].sort(), [items]);
  const field = (name: (typeof FILTERS)[number]) => ({
    value: filters[name] ?? '',
    onChange: (e: { target: { value: string } }) => setQueryParam(name, e.target.value),
  });
  const anyFilter = FILTERS.some((f) => filters[f]);

  return (
    <Page title="Audit log" subtitle="Every change, sign-in and refusal, newest first.">
      <form
        className="row filters audit-filters"
        role="search"
        onSubmit={(e) => e.preventDefault()}
      >
        <label>
          Action
          <input list="audit-actions" placeholder="user.create" {...field('action')} />
          <datalist id="audit-actions">
            {actions.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </label>
        <label>
          Actor type
          <select {...field('actor_type')}>
            <option value="">Any actor</option>
            {ACTOR_TYPES.map((t) => (
              <option key={t} value={t}>
                {t.replace('_', ' ')}
              </option>
            ))}
          </select>
        </label>
        <label>
          Object type
          <input placeholder="user, agent, role…" {...field('resource_type')} />
        </label>
        <label>
          Since
          <input type="datetime-local" {...field('since')} />
        </label>
        <label>
          Until
          <input type="datetime-local" {...field('until')} />
        </label>
        {anyFilter && (
          <button
            type="button"
            onClick={() => {
              for (const f of FILTERS) setQueryParam(f, null);
            }}
          >
            Clear filters
          </button>
        )}
      </form>
      {!events.data && events.error ? (
        <ErrorView error={events.error} onRetry={() => void events.refetch()} />
      ) : !events.data ? (
        <Loading height={320} />
      ) : (
        <>
          <AuditRows items={items} />
          <div className="pager">
            <span className="muted small" aria-live="polite">
              {items.length} {items.length === 1 ? 'event' : 'events'} shown
              {events.hasNextPage ? '' : items.length > 0 ? ', no older ones' : ''}
            </span>
            {events.hasNextPage && (
              <button
                type="button"
                disabled={events.isFetchingNextPage}
                onClick={() => void events.fetchNextPage()}
              >
                {events.isFetchingNextPage ? 'Loading…' : 'Load more'}
              </button>
            )}
          </div>
          {events.error && <ErrorView error={events.error} />}
        </>
      )}
    </Page>
  );
}
