import { useMemo, useState } from 'react';
import { useCan } from '../../app/session';
import { ErrorView } from '../../ui/ErrorView';
import { Loading, Page } from '../../ui/Page';
import { AddAgentDialog } from './AddAgentDialog';
import { AgentDialog } from './AgentDialog';
import { AgentTable } from './AgentTable';
import { PendingAgents } from './PendingAgents';
import { useAgents, useLiveAgents, usePendingAgents } from './queries';
import './agents.css';

/**
 * The agents: those waiting for approval first (they need an operator), then every enrolled
 * one. Both lists follow the live stream; nothing polls.
 */
export function AgentsScreen() {
  const can = useCan();
  const agents = useAgents();
  const pending = usePendingAgents();
  useLiveAgents();
  const [adding, setAdding] = useState(false);
  const [managed, setManaged] = useState<string | null>(null);
  const enrolled = useMemo(
    () => (agents.data ?? []).filter((a) => a.approval !== 'pending'),
    [agents.data],
  );
  // The dialog shows the cached agent, so a live change (online, offline) shows in it too.
  const current = enrolled.find((a) => a.id === managed) ?? null;

  return (
    <Page
      title="Agents"
      subtitle="Every agent that reports to this server, and those asking to."
      actions={
        can('agents:write') && (
          <button type="button" className="primary" onClick={() => setAdding(true)}>
            Add agent
          </button>
        )
      }
    >
      <section aria-labelledby="pending-title" className="agents-section">
        <h2 id="pending-title">
          Pending approval
          {pending.data && pending.data.length > 0 && (
            <span className="badge status-pending count-badge">{pending.data.length}</span>
          )}
        </h2>
        {pending.error ? (
          <ErrorView error={pending.error} onRetry={() => void pending.refetch()} />
        ) : pending.data ? (
          <PendingAgents agents={pending.data} />
        ) : (
          <Loading height={48} />
        )}
      </section>
      <section aria-labelledby="enrolled-title" className="agents-section">
        <h2 id="enrolled-title">Enrolled</h2>
        {agents.error ? (
          <ErrorView error={agents.error} onRetry={() => void agents.refetch()} />
        ) : agents.data ? (
          <AgentTable agents={enrolled} onManage={(a) => setManaged(a.id)} />
        ) : (
          <Loading height={240} />
        )}
      </section>
      <AddAgentDialog open={adding} onClose={() => setAdding(false)} />
      <AgentDialog agent={current} onClose={() => setManaged(null)} />
    </Page>
  );
}
