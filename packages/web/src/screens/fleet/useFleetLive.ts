import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { useStreamEvent } from '../../app/stream';
import { applyBatch, HOSTS_KEY, type AgentEvent, type MetricsEvent } from './live';

/** How often queued stream events are applied to the list (ms): fast to see, cheap to draw. */
const FLUSH_MS = 500;

/**
 * Keeps the cached fleet list live from the stream: metrics events update figures and
 * sparklines, agent events statuses, in batches; an event about a host the list does not have
 * yet (or an enrollment decided) refetches the list once.
 */
export function useFleetLive(): void {
  const qc = useQueryClient();
  const queue = useRef<{ metrics: MetricsEvent[]; agents: AgentEvent[] }>({
    metrics: [],
    agents: [],
  });
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const schedule = () => {
    if (timer.current !== undefined) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      const { metrics, agents } = queue.current;
      queue.current = { metrics: [], agents: [] };
      if (applyBatch(qc, metrics, agents))
        void qc.invalidateQueries({ queryKey: HOSTS_KEY, exact: true });
    }, FLUSH_MS);
  };
  useEffect(() => () => clearTimeout(timer.current), []);

  useStreamEvent('metrics', (d) => {
    const e = d as MetricsEvent;
    if (typeof e?.host_id !== 'string') return;
    queue.current.metrics.push(e);
    schedule();
  });
  useStreamEvent('agent', (d) => {
    const e = d as AgentEvent;
    if (typeof e?.agent_id !== 'string') return;
    queue.current.agents.push(e);
    schedule();
  });
  useStreamEvent('enrollment', (d) => {
    if ((d as { status?: string })?.status === 'approved')
      void qc.invalidateQueries({ queryKey: HOSTS_KEY, exact: true });
  });
}
