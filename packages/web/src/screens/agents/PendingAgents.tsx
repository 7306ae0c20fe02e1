import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { useCan } from '../../app/session';
import { ConfirmDialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';
import { ago, dateTime } from '../../ui/format';
import { agentKeys, type Agent } from './queries';

const KIND_TEXT: Record<Agent['kind'], string> = {
  native: 'Vigil agent',
  oitc: 'openITCOCKPIT agent',
  pull: 'Pull',
};

/**
 * The agents that asked to enroll and wait for an operator: each with its host name, address,
 * kind and when it asked, and (with `agents:write`) Approve and Reject; rejecting asks first.
 */
export function PendingAgents({ agents }: { agents: Agent[] }) {
  const can = useCan();
  const qc = useQueryClient();
  const [rejecting, setRejecting] = useState<Agent | null>(null);
  const decide = useMutation({
    mutationFn: ({ agent, verdict }: { agent: Agent; verdict: 'approve' | 'reject' }) =>
      verdict === 'approve'
        ? unwrap(
            api.POST('/api/v1/agents/pending/{id}/approve', { params: { path: { id: agent.id } } }),
          )
        : unwrap(
            api.POST('/api/v1/agents/pending/{id}/reject', { params: { path: { id: agent.id } } }),
          ),
    onSuccess: () => {
      setRejecting(null);
      return qc.invalidateQueries({ queryKey: agentKeys.all });
    },
  });
  const write = can('agents:write');

  if (agents.length === 0)
    return <p className="muted pending-empty">No agent is waiting for approval.</p>;
  return (
    <div className="stack">
      {decide.error && !rejecting && <ErrorView error={decide.error} />}
      <ul className="pending-list" aria-label="Pending agents">
        {agents.map((a) => (
          <li key={a.id} className="card pending-item">
            <div className="pending-what">
              <strong>{a.hostname ?? a.name}</strong>
              <span className="muted small">
                {KIND_TEXT[a.kind]} · {a.ip_address ?? 'address unknown'}
                {a.os ? ` · ${a.os}` : ''}
                {a.architecture ? ` ${a.architecture}` : ''}
              </span>
              <span className="muted small">
                Asked <time dateTime={a.registered_at}>{ago(a.registered_at)}</time> (
                {dateTime(a.registered_at)}) · id <code>{a.id}</code>
              </span>
            </div>
            {write && (
              <div className="pending-actions">
                <button
                  type="button"
                  className="primary"
                  disabled={decide.isPending}
                  aria-label={`Approve ${a.hostname ?? a.name}`}
                  onClick={() => decide.mutate({ agent: a, verdict: 'approve' })}
                >
                  Approve
                </button>
                <button
                  type="button"
                  disabled={decide.isPending}
                  aria-label={`Reject ${a.hostname ?? a.name}`}
                  onClick={() => {
                    decide.reset();
                    setRejecting(a);
                  }}
                >
                  Reject
                </button>
              </div>
            )}
          </li>
        ))}
      </ul>
      <ConfirmDialog
        open={rejecting !== null}
        title="Reject this agent?"
        confirmLabel="Reject"
        danger
        busy={decide.isPending}
        onClose={() => setRejecting(null)}
        onConfirm={() => rejecting && decide.mutate({ agent: rejecting, verdict: 'reject' })}
      >
        <p>
          <strong>{rejecting?.hostname ?? rejecting?.name}</strong> (
          {rejecting?.ip_address ?? 'address unknown'}) stays refused: it cannot send data.
        </p>
        {decide.error && <ErrorView error={decide.error} />}
      </ConfirmDialog>
    </div>
  );
}
