import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import type { Answer } from '../../api/types';

/** A user as `GET /api/v1/users` lists them. */
export type User = Answer<'/api/v1/users'>['users'][number];

/** A role as `GET /api/v1/roles` lists it. */
export type Role = Answer<'/api/v1/roles'>['roles'][number];

/** An OAuth API client as `GET /api/v1/oauth/clients` lists it. */
export type OAuthClient = Answer<'/api/v1/oauth/clients'>['clients'][number];

/** The query keys of the administration screens: one per endpoint. */
export const adminKeys = {
  users: ['users'] as const,
  roles: ['roles'] as const,
  registry: ['auth', 'permissions:registry'] as const,
  clients: ['oauth', 'clients'] as const,
  settings: ['settings', 'refresh'] as const,
};

/** Every user (`GET /api/v1/users`). */
export function useUsers() {
  return useQuery({
    queryKey: adminKeys.users,
    queryFn: () => unwrap(api.GET('/api/v1/users')).then((a) => a.users),
  });
}

/** Every role, built-in and custom (`GET /api/v1/roles`). */
export function useRoles(enabled = true) {
  return useQuery({
    queryKey: adminKeys.roles,
    queryFn: () => unwrap(api.GET('/api/v1/roles')).then((a) => a.roles),
    enabled,
  });
}

/** The permission registry: every permission with its description. */
export function useRegistry() {
  return useQuery({
    queryKey: adminKeys.registry,
    queryFn: () => unwrap(api.GET('/api/v1/auth/permissions:registry')),
    staleTime: Infinity,
  });
}
