import { keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import type { Answer } from '../../api/types';
import { bounds, type LogQuery } from './query';

/** The answer of `GET /api/v1/logs`: a page of entries, newest first. */
export type LogPage = Answer<'/api/v1/logs'>;

/** One stored log line. */
export type LogEntry = LogPage['entries'][number];

/** How many entries one page asks for ("Load more" asks for as many again). */
export const PAGE_SIZE = 100;

/**
 * A search as sent: the address's search with its host fixed (a host's tab) and its range's
 * bounds as of `anchor`, the moment it was run, so that "Load more" continues the same range.
 */
export interface LogSearch {
  query: LogQuery;
  /** The host a host's Logs tab is fixed to (overrides the search's own host). */
  hostId: string;
  anchor: number;
}

/** The query keys of the logs explorer: one per endpoint. */
export const logKeys = {
  all: ['logs'] as const,
  search: (s: LogSearch) => ['logs', 'search', s] as const,
  /** Whether any line is stored at all (for the empty state). */
  any: ['logs', 'any'] as const,
  /** `GET /api/v1/logs/dropped`. */
  dropped: ['logs', 'dropped'] as const,
  /** `GET /api/v1/logs/histogram` of a search, its range reaching `to`. */
  histogram: (s: LogSearch, to: number) => ['logs', 'histogram', s, to] as const,
};

/** The filters of a search as the API's parameters (shared by the list and the live tail). */
export function filterParams(s: LogSearch): Record<string, string> {
  const q = s.query;
  const out: Record<string, string> = {};
  const host = s.hostId || q.host;
  if (host) out.host_id = host;
  if (q.agent) out.agent_id = q.agent;
  if (q.source) out.source = q.source;
  if (q.sourceName) out.source_name = q.sourceName;
  if (q.level) out.level = q.level;
  if (q.q.trim()) out.q = q.q.trim();
  return out;
}

/** A search's parameters for one page of `GET /api/v1/logs` (after `cursor` when given). */
function pageParams(s: LogSearch, cursor: string | undefined): Record<string, string> {
  const { from, to } = bounds(s.query, s.anchor);
  return {
    ...filterParams(s),
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    limit: String(PAGE_SIZE),
    ...(cursor ? { cursor } : {}),
  };
}

/** The pages of a search, newest first; the next page follows the previous one's `next_cursor`. */
export function useLogSearch(s: LogSearch) {
  return useInfiniteQuery({
    queryKey: logKeys.search(s),
    queryFn: ({ pageParam }) =>
      unwrap(api.GET('/api/v1/logs', { params: { query: pageParams(s, pageParam) } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last: LogPage) => last.next_cursor ?? undefined,
    staleTime: Infinity,
  });
}

/** Whether the server holds any log line at all (asked only when a search finds nothing). */
export function useAnyLogs(enabled: boolean) {
  return useQuery({
    queryKey: logKeys.any,
    queryFn: () =>
      unwrap(api.GET('/api/v1/logs', { params: { query: { limit: '1' } } })).then(
        (p) => p.entries.length > 0,
      ),
    enabled,
    staleTime: 30_000,
  });
}

/** Lines agents dropped before sending them (`GET /api/v1/logs/dropped`). */
export type DroppedList = Answer<'/api/v1/logs/dropped'>;

/** The counts of lines agents dropped, per agent, source and reason. */
export function useDropped() {
  return useQuery({
    queryKey: logKeys.dropped,
    queryFn: () => unwrap(api.GET('/api/v1/logs/dropped')),
    staleTime: 60_000,
  });
}

/** The answer of `GET /api/v1/logs/histogram`: matches per interval and level. */
export type LogHistogramData = Answer<'/api/v1/logs/histogram'>;

/** Intervals the explorer's histogram asks for at most. */
export const HISTOGRAM_BUCKETS = 60;

/**
 * Matches of a search over time, counted by the server over all matching lines (not only the
 * loaded page). The range is the search's, its end moved to `until` when that is later (live
 * lines); while a new range loads the previous answer stays drawn, so nothing jumps.
 */
export function useLogHistogram(s: LogSearch, until: number) {
  const { from, to } = bounds(s.query, s.anchor);
  const end = Math.max(to, until);
  return useQuery({
    queryKey: logKeys.histogram(s, end),
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/logs/histogram', {
          params: {
            query: {
              ...filterParams(s),
              from: new Date(from).toISOString(),
              to: new Date(end).toISOString(),
              buckets: String(HISTOGRAM_BUCKETS),
            },
          },
        }),
      ),
    staleTime: Infinity,
    placeholderData: keepPreviousData,
  });
}
