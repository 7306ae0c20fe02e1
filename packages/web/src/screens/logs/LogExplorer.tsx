import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { useLocation } from '../../app/router';
import { useCan } from '../../app/session';
import { ErrorView } from '../../ui/ErrorView';
import { Loading } from '../../ui/Page';
import { fetchFleet, HOSTS_KEY } from '../fleet/live';
import { EmptyLogs } from './EmptyLogs';
import { LiveControls } from './LiveControls';
import { LogFilters } from './LogFilters';
import { LogHistogram } from './LogHistogram';
import { LogTable } from './LogTable';
import {
  filterParams,
  logKeys,
  useAnyLogs,
  useLogHistogram,
  useLogSearch,
  type LogSearch,
} from './queries';
import { hasFilters, readQuery, termPattern, writeQuery } from './query';
import { useLiveTail } from './useLiveTail';
import './logs.css';

/** "1,234 matches", or "More than 10,000 matches" when the server stopped counting. */
function matchCount(total: number, capped: boolean | undefined): string {
  const n = total.toLocaleString('en-US');
  if (capped) return `More than ${n} matches`;
  return `${n} ${total === 1 ? 'match' : 'matches'}`;
}

/** How often, at most, live lines make the histogram count again (milliseconds). */
const HISTOGRAM_REFRESH_MS = 5_000;

/**
 * The logs explorer: the search (in the address), a histogram of all its matches, the entries
 * newest first with the searched words marked and "Load more", and the live tail. With `hostId`
 * it is fixed to one host (a host's Logs tab).
 */
export function LogExplorer({ hostId = '' }: { hostId?: string }) {
  const can = useCan();
  const { query: params } = useLocation();
  const query = useMemo(() => readQuery(params), [params]);
  const { live, ...searched } = query;
  const searchKey = JSON.stringify(searched);
  // A search's preset range ends when it was run: "Load more" continues the same range.
  const [anchor, setAnchor] = useState(() => ({ key: searchKey, at: Date.now() }));
  if (anchor.key !== searchKey) setAnchor({ key: searchKey, at: Date.now() });
  const search: LogSearch = { query: { ...searched, live: false }, hostId, anchor: anchor.at };
  const list = useLogSearch(search);
  const [paused, setPaused] = useState(false);
  const tail = useLiveTail(filterParams(search), live, paused);
  const fleet = useQuery({
    queryKey: HOSTS_KEY,
    queryFn: fetchFleet,
    enabled: !hostId && can('host:read'),
    staleTime: 60_000,
  });
  const hosts = useMemo(
    () =>
      (fleet.data?.items ?? [])
        .map((h) => ({ id: h.id, name: h.name }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    [fleet.data],
  );

  const entries = useMemo(() => list.data?.pages.flatMap((p) => p.entries) ?? [], [list.data]);
  const liveRows = useMemo(() => {
    const loaded = new Set(entries.map((e) => e.id));
    return tail.rows.filter((e) => !loaded.has(e.id));
  }, [tail.rows, entries]);
  // Live lines move the histogram's end to now, at most every few seconds.
  const [until, setUntil] = useState(0);
  const counted = useRef(0);
  useEffect(() => {
    if (!live || liveRows.length === counted.current) return;
    const wait = Math.max(0, until + HISTOGRAM_REFRESH_MS - Date.now());
    const timer = setTimeout(() => {
      counted.current = liveRows.length;
      setUntil(Date.now());
    }, wait);
    return () => clearTimeout(timer);
  }, [live, liveRows.length, until]);
  const histogram = useLogHistogram(search, live ? until : 0);
  const hostNames = useMemo(() => new Map(hosts.map((h) => [h.id, h.name])), [hosts]);
  const all = useMemo(() => [...liveRows, ...entries], [liveRows, entries]);
  const pattern = useMemo(() => termPattern(query.q), [query.q]);
  const first = list.data?.pages[0];
  const empty = first !== undefined && all.length === 0;
  const any = useAnyLogs(empty && !hasFilters(query));
  const qc = useQueryClient();
  useEffect(() => {
    // A search that found lines answers "are there any" too.
    if (all.length > 0) qc.setQueryData(logKeys.any, true);
  }, [all.length, qc]);

  // New live lines go on top: a reader who scrolled down to older lines stays where they were.
  const liveBody = useRef<HTMLTableSectionElement>(null);
  const liveHeight = useRef(0);
  useLayoutEffect(() => {
    const el = liveBody.current;
    const h = el?.offsetHeight ?? 0;
    const grew = h - liveHeight.current;
    liveHeight.current = h;
    if (el && grew > 0 && el.getBoundingClientRect().top < 0) window.scrollBy(0, grew);
  }, [liveRows]);

  return (
    <div className="log-explorer stack">
      <LogFilters
        query={query}
        hosts={hostId || !can('host:read') ? undefined : hosts}
        onRun={() => setAnchor({ key: searchKey, at: Date.now() })}
      />
      <div className="log-bar">
        <p className="log-total" role="status">
          {first
            ? `${matchCount(first.total, first.total_capped)}${liveRows.length ? ` · ${liveRows.length.toLocaleString('en-US')} new live` : ''}`
            : list.isError
              ? 'The search failed.'
              : 'Searching…'}
        </p>
        <LiveControls
          on={live}
          paused={paused}
          status={tail.status}
          waiting={tail.waiting}
          onPause={setPaused}
        />
      </div>
      <LogHistogram
        data={histogram.data}
        error={histogram.error}
        onRetry={() => void histogram.refetch()}
        onNarrow={(from, to) =>
          writeQuery({
            range: 'custom',
            from: new Date(from).toISOString(),
            to: new Date(to).toISOString(),
          })
        }
      />
      {list.isError && !first ? (
        <ErrorView error={list.error} onRetry={() => void list.refetch()} />
      ) : !first ? (
        <Loading label="Loading log entries…" height={320} />
      ) : empty ? (
        !hasFilters(query) && any.data === false ? (
          <EmptyLogs />
        ) : (
          <p className="card muted" role="status">
            {hasFilters(query)
              ? 'No entry matches this search in this time range.'
              : 'No log line in this time range.'}
          </p>
        )
      ) : (
        <>
          <LogTable
            live={liveRows}
            entries={entries}
            pattern={pattern}
            hideHost={Boolean(hostId)}
            hostNames={hostNames}
            liveRef={liveBody}
          />
          {list.hasNextPage && (
            <p>
              <button
                type="button"
                disabled={list.isFetchingNextPage}
                onClick={() => void list.fetchNextPage()}
              >
                {list.isFetchingNextPage ? 'Loading…' : 'Load more'}
              </button>
            </p>
          )}
          {list.isFetchNextPageError && (
            <ErrorView error={list.error} onRetry={() => void list.fetchNextPage()} />
          )}
        </>
      )}
    </div>
  );
}
