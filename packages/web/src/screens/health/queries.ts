import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import type { Answer } from '../../api/types';

/** The fleet's compliance score. */
export type FleetScore = Answer<'/api/v1/fleet/score'>;
/** Live hosts by their last connectivity probe. */
export type FleetLiveness = Answer<'/api/v1/fleet/liveness'>;
/** The connectivity worker's findings over the fleet. */
export type Breakdown = Answer<'/api/v1/fleet/connectivity/breakdown'>;
/** One rule failing on some hosts. */
export type FailingRule = Answer<'/api/v1/fleet/top-failing-rules'>['rules'][number];
/** One host failing some rules. */
export type FailingHost = Answer<'/api/v1/fleet/top-failing-hosts'>['hosts'][number];
/** One compliance change (a rule's status moved on a host). */
export type ComplianceChange = Answer<'/api/v1/fleet/recent-changes'>['changes'][number];
/** One rule of a loaded pack, with its rationale and remediation. */
export type PackRule = Answer<'/api/v1/compliance/rules'>['rules'][number];

/** How many rows the fleet's top lists show. */
export const TOP = 10;

/** `GET /api/v1/fleet/score`. */
export const useFleetScore = () =>
  useQuery({
    queryKey: ['fleet', 'score'],
    queryFn: () => unwrap(api.GET('/api/v1/fleet/score')),
  });

/** `GET /api/v1/fleet/liveness`. */
export const useFleetLiveness = () =>
  useQuery({
    queryKey: ['fleet', 'liveness'],
    queryFn: () => unwrap(api.GET('/api/v1/fleet/liveness')),
  });

/** `GET /api/v1/fleet/connectivity/breakdown`. */
export const useBreakdown = () =>
  useQuery({
    queryKey: ['fleet', 'connectivity', 'breakdown'],
    queryFn: () => unwrap(api.GET('/api/v1/fleet/connectivity/breakdown')),
  });

/** `GET /api/v1/fleet/top-failing-rules`. */
export const useTopFailingRules = () =>
  useQuery({
    queryKey: ['fleet', 'top-failing-rules'],
    queryFn: () =>
      unwrap(api.GET('/api/v1/fleet/top-failing-rules', { params: { query: { limit: TOP } } })),
  });

/** `GET /api/v1/fleet/top-failing-hosts`. */
export const useTopFailingHosts = () =>
  useQuery({
    queryKey: ['fleet', 'top-failing-hosts'],
    queryFn: () =>
      unwrap(api.GET('/api/v1/fleet/top-failing-hosts', { params: { query: { limit: TOP } } })),
  });

/** `GET /api/v1/compliance/rules`: every loaded rule, for their rationale. */
export const usePackRules = () =>
  useQuery({
    queryKey: ['compliance', 'rules'],
    queryFn: () => unwrap(api.GET('/api/v1/compliance/rules')),
    // Packs change only when the server restarts.
    staleTime: 5 * 60_000,
  });

/**
 * `GET /api/v1/fleet/recent-changes`, newest first, page by page (`next_cursor`): the fleet's,
 * or one host's with `hostId`.
 */
export const useRecentChanges = (hostId: string | undefined) =>
  useInfiniteQuery({
    queryKey: ['fleet', 'recent-changes', hostId ?? null],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/api/v1/fleet/recent-changes', {
          params: {
            query: {
              limit: 20,
              ...(pageParam ? { cursor: pageParam } : {}),
              ...(hostId ? { host_id: hostId } : {}),
            },
          },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
