import { useInfiniteQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import type { Answer } from '../../api/types';

/** A job as `GET /api/v1/jobs` lists it. */
export type Job = Answer<'/api/v1/jobs'>['items'][number];

/** A job's state. */
export type JobState = Job['state'];

/** Every state, in the filter's order. */
export const JOB_STATES: readonly JobState[] = ['queued', 'running', 'succeeded', 'dead'];

/** The filters of the job list, as the location holds them. */
export interface JobFilters {
  state: JobState | null;
  kind: string;
}

/** The query key of the job list (`GET /api/v1/jobs`), per filter. */
export const jobsKey = (f: JobFilters) => ['jobs', { state: f.state, kind: f.kind }] as const;

/** The job list, newest first, page by page (`next_cursor`). */
export function useJobs(f: JobFilters) {
  return useInfiniteQuery({
    queryKey: jobsKey(f),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/api/v1/jobs', {
          params: {
            query: {
              limit: 100,
              ...(f.state ? { state: f.state } : {}),
              ...(f.kind ? { kind: f.kind } : {}),
              ...(pageParam ? { cursor: pageParam } : {}),
            },
          },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

/**
 * Whether a job can be run again by hand: a dead one, or one waiting after a failed attempt
 * (the server refuses a running or succeeded one).
 */
export const retryable = (j: Job): boolean =>
  j.state === 'dead' || (j.state === 'queued' && j.attempts > 0 && j.last_error !== null);
