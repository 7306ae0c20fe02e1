import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, type ReactNode } from 'react';
import { api, ApiError, onSessionLost, unwrap } from '../api/client';
import type { Answer } from '../api/types';

/** The signed-in user, as `GET /api/v1/auth/me` describes them. */
export type Me = Answer<'/api/v1/auth/me'>;

/** What the console knows about who is signed in. */
export interface Session {
  me: Me;
  /** Whether the caller holds `permission` (from `/api/v1/auth/me/permissions`, expanded). */
  can(permission: string): boolean;
  /** Ends the session on the server and here. */
  logout(): Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

/** Query keys of the session, shared with the login screens that refresh them. */
export const sessionKeys = {
  me: ['auth', 'me'] as const,
  permissions: ['auth', 'me', 'permissions'] as const,
};

/** The state of the session before a screen can be shown. */
export type SessionState =
  | { kind: 'loading' }
  | { kind: 'signed-out' }
  | { kind: 'password-change'; me: Me }
  | { kind: 'error'; error: unknown }
  | { kind: 'ready'; session: Session };

/**
 * Loads the caller's identity and permissions. A 401 means nobody is signed in; a pending
 * password change (an administrator's reset) is its own state, since every other call is refused
 * until it is done.
 */
export function useSessionState(): SessionState {
  const qc = useQueryClient();
  const me = useQuery({
    queryKey: sessionKeys.me,
    queryFn: () => unwrap(api.GET('/api/v1/auth/me')),
    retry: false,
    staleTime: 60_000,
  });
  const mustChange = me.data?.must_change_password === true;
  const perms = useQuery({
    queryKey: sessionKeys.permissions,
    queryFn: () => unwrap(api.GET('/api/v1/auth/me/permissions')),
    enabled: me.isSuccess && !mustChange,
    retry: false,
    staleTime: 60_000,
  });
  useEffect(
    () =>
      onSessionLost((reason) => {
        // Only a session that was there can be lost: the refused `/auth/me` of a signed-out
        // console must not start the check again.
        if (reason === 'expired' && qc.getQueryData(sessionKeys.me) === undefined) return;
        void qc.resetQueries({ queryKey: sessionKeys.me });
      }),
    [qc],
  );
  const permissionSet = useMemo(() => new Set(perms.data?.permissions ?? []), [perms.data]);
  const can = useCallback((p: string) => permissionSet.has(p), [permissionSet]);
  const logout = useCallback(async () => {
    await api.POST('/api/v1/auth/logout').catch(() => undefined);
    // Nothing of this user's stays cached for the next one.
    qc.removeQueries({ predicate: (q) => q.queryKey[0] !== 'auth' });
    await qc.resetQueries({ queryKey: sessionKeys.me });
  }, [qc]);
  return useMemo((): SessionState => {
    if (me.isError) {
      const e = me.error;
      if (e instanceof ApiError && e.status === 401) return { kind: 'signed-out' };
      return { kind: 'error', error: e };
    }
    if (!me.data) return me.isFetching ? { kind: 'loading' } : { kind: 'signed-out' };
    if (me.data.must_change_password) return { kind: 'password-change', me: me.data };
    if (perms.isError) return { kind: 'error', error: perms.error };
    if (!perms.data) return { kind: 'loading' };
    return { kind: 'ready', session: { me: me.data, can, logout } };
  }, [
    me.isError,
    me.error,
    me.data,
    me.isFetching,
    perms.isError,
    perms.error,
    perms.data,
    can,
    logout,
  ]);
}

/** Provides the ready session to the screens. */
export function SessionProvider({ session, children }: { session: Session; children: ReactNode }) {
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

/** The signed-in session; only inside `SessionProvider`. */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/** `can('agents:write')`: whether the caller holds a permission. Never test role names. */
export const useCan = (): ((permission: string) => boolean) => useSession().can;
