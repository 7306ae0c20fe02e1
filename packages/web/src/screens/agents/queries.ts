import { useQuery, useQueryClient } from '@tanstack/react-query';
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

/**
 * Keeps both lists live from the stream, without polling: an agent going online or offline is
 * patched into the cached list in place; anything else (approved, rejected, revoked, deleted, a
 * new enrollment) refreshes the two small lists.
 */
export function useLiveAgents(): void {
  const qc = useQueryClient();
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
