import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import type { Answer } from '../../api/types';

/** A deployment as `GET /api/v1/deployments` lists it. */
export type Deployment = Answer<'/api/v1/deployments'>['items'][number];

/** What a deploy now would change (`GET /api/v1/deployments/pending-diff`). */
export type DeploymentDiff = Answer<'/api/v1/deployments/pending-diff'>;

/** The query keys of the deploy screen: one per endpoint. */
export const deployKeys = {
  list: ['deployments'] as const,
  pending: ['deployments', 'pending-diff'] as const,
  icinga2: (id: string) => ['deployments', id, 'icinga2'] as const,
  diff: (id: string, against: string) => ['deployments', id, 'diff', against] as const,
};

/** What changed from deployment `against` to deployment `id` (`null`: nothing asked yet). */
export function useDeploymentDiff(pair: { id: string; against: string } | null) {
  return useQuery({
    queryKey: deployKeys.diff(pair?.id ?? '', pair?.against ?? ''),
    enabled: pair !== null,
    staleTime: Infinity,
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/deployments/{id}/diff', {
          params: { path: { id: pair!.id }, query: { against: pair!.against } },
        }),
      ),
  });
}

/** The pending changes against the active deployment. */
export function usePendingDiff() {
  return useQuery({
    queryKey: deployKeys.pending,
    queryFn: () => unwrap(api.GET('/api/v1/deployments/pending-diff')),
    refetchOnMount: 'always',
  });
}

/** The deployments, newest first, a page at a time (the API's cursor). */
export function useDeployments() {
  return useInfiniteQuery({
    queryKey: deployKeys.list,
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/api/v1/deployments', {
          params: { query: { limit: 25, ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

/** A deployment rendered as Icinga 2 configuration (text). */
export function useIcinga2(id: string | null) {
  return useQuery({
    queryKey: deployKeys.icinga2(id ?? ''),
    enabled: id !== null,
    staleTime: Infinity,
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/deployments/{id}/icinga2', {
          params: { path: { id: id! } },
          parseAs: 'text',
        }),
      ) as Promise<string>,
  });
}
