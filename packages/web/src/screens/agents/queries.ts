import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { api, unwrap } from '../../api/client';
import type { Answer } from '../../api/types';
import { useStreamEvent } from '../../app/stream';

/** An agent as `GET /api/v1/agents` lists it. */
export type Agent = Answer<'/api/v1/agents'>['agents'][number];

/** The query keys of the agents screen: one per endpoint. */
export const agentKeys = {
  all: ['agents'] as const,
  pending: ['agents', 'pending'] as const,
};

/** Every agent (`GET /api/v1/agents`). */
export function useAgents() {
  return useQuery({
    queryKey: agentKeys.all,
    queryFn: () => unwrap(api.GET('/api/v1/agents')).then((a) => a.agents),
  });
}

/** The agents waiting for approval (`GET /api/v1/agents/pending`). */
export function usePendingAgents() {
  return useQuery({
    queryKey: agentKeys.pending,
    queryFn: () => unwrap(api.GET('/api/v1/agents/pending')).then((a) => a.agents),
  });
}

/** The `agent` event of the stream: an agent's status changed. */
interface AgentEvent {
  agent_id?: unknown;
  status?: unknown;
  at?: unknown;
}

/** How often the last contacts that documents brought are written into the list. */
const CONTACT_FLUSH_MS = 5000;

/**
 * Keeps both lists live from the stream, without polling: an agent going online or offline is
 * patched into the cached list in place; anything else (approved, rejected, revoked, deleted, a
 * new enrollment) refreshes the two small lists. Each document (`metrics`) moves its agent's last
 * contact; those are gathered and written at most every 5 s, so a large fleet does not redraw
 * the table on every push.
 */
export function useLiveAgents(): void {
  const qc = useQueryClient();
  const contacts = useRef(new Map<string, string>());
  useEffect(() => {
    const t = setInterval(() => {
      if (contacts.current.size === 0) return;
      const seen = contacts.current;
      contacts.current = new Map();
      qc.setQueryData<Agent[]>(agentKeys.all, (old) =>
        old?.map((a) => {
          const at = seen.get(a.id);
          return at ? { ...a, last_seen: at } : a;
        }),
      );
    }, CONTACT_FLUSH_MS);
    return () => clearInterval(t);
  }, [qc]);
  useStreamEvent('metrics', (data) => {
    const id = (data as { agent_id?: unknown }).agent_id;
    if (typeof id === 'string') contacts.current.set(id, new Date().toISOString());
  });
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: agentKeys.all });
  };
  useStreamEvent('agent', (data) => {
    const e = data as AgentEvent;
    const list = qc.getQueryData<Agent[]>(agentKeys.all);
    const known = list?.find((a) => a.id === e.agent_id);
    if (known && (e.status === 'online' || e.status === 'offline')) {
      const status = e.status;
      const at = typeof e.at === 'string' ? e.at : known.last_seen;
      qc.setQueryData<Agent[]>(agentKeys.all, (old) =>
        old?.map((a) =>
          a.id === e.agent_id
            ? { ...a, status, last_seen: status === 'online' ? at : a.last_seen }
            : a,
        ),
      );
      return;
    }
    refresh();
  });
  useStreamEvent('enrollment', refresh);
}
