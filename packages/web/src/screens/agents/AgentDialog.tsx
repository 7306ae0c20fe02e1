import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { useCan } from '../../app/session';
import { ConfirmDialog, Dialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';
import { StatusBadge } from '../../ui/Page';
import { ago, dateTime, duration } from '../../ui/format';
import { AgentEditForm } from './AgentEditForm';
import { NewTokenSection } from './NewTokenSection';
import { agentKeys, type Agent } from './queries';

/** One fact of the agent: a term and its value. */
function Fact({ term, children }: { term: string; children: React.ReactNode }) {
  return (
    <>
      <dt>{term}</dt>
      <dd>{children ?? '—'}</dd>
    </>
  );
}

/**
 * An agent's details; with `agents:write` also its changes (name, interval, pull settings),
 * Revoke and Delete, each destructive one behind a confirmation.
 */
export function AgentDialog({ agent, onClose }: { agent: Agent | null; onClose: () => void }) {
  const can = useCan();
  const qc = useQueryClient();
  const [confirm, setConfirm] = useState<'revoke' | 'delete' | null>(null);
  const act = useMutation({
    mutationFn: async (what: 'revoke' | 'delete') => {
      const path = { params: { path: { id: agent!.id } } };
      if (what === 'revoke') await unwrap(api.POST('/api/v1/agents/{id}/revoke', path));
      else await unwrap(api.DELETE('/api/v1/agents/{id}', path));
    },
    onSuccess: async () => {
      setConfirm(null);
      onClose();
      await qc.invalidateQueries({ queryKey: agentKeys.all });
    },
  });
  const write = can('agents:write');
  const a = agent;
  return (
    <>
      <Dialog open={a !== null} title={a?.name ?? 'Agent'} onClose={onClose} wide>
        {a && (
          <div className="stack">
            <dl className="facts">
              <Fact term="Status">
                <StatusBadge status={a.status} />
              </Fact>
              <Fact term="Id">
                <code>{a.id}</code>
              </Fact>
              <Fact term="Host name">{a.hostname}</Fact>
              <Fact term="Address">{a.pull?.address ?? a.ip_address}</Fact>
              <Fact term="System">{[a.os, a.architecture].filter(Boolean).join(' ') || null}</Fact>
              <Fact term="Version">{a.version}</Fact>
              <Fact term="Interval">{duration(a.interval_seconds)}</Fact>
              <Fact term="Last contact">
                {a.last_seen ? `${ago(a.last_seen)} (${dateTime(a.last_seen)})` : 'never'}
              </Fact>
              <Fact term="Registered">{dateTime(a.registered_at)}</Fact>
              <Fact term="Certificate">
                {a.certificate ? (
                  <>
                    expires {dateTime(a.certificate.not_after)}, serial{' '}
                    <code>{a.certificate.serial}</code>
                  </>
                ) : null}
              </Fact>
              {a.pull && (
                <Fact term="Pull TLS">
                  {a.pull.tls ?? 'not yet connected'} (Auto-TLS {a.pull.autotls})
                </Fact>
              )}
              {a.clock_skew_seconds !== null && (
                <Fact term="Clock skew">{a.clock_skew_seconds} s ahead</Fact>
              )}
              {a.last_error && <Fact term="Last error">{a.last_error}</Fact>}
            </dl>
            {write && <AgentEditForm agent={a} onSaved={onClose} />}
            {write && a.kind === 'native' && a.approval === 'approved' && (
              <NewTokenSection agent={a} />
            )}
            {write && (
              <section className="danger-zone" aria-labelledby="agent-danger">
                <h3 id="agent-danger">Remove access</h3>
                <div className="row">
                  {a.approval === 'approved' && (
                    <button type="button" className="danger" onClick={() => setConfirm('revoke')}>
                      Revoke
                    </button>
                  )}
                  <button type="button" className="danger" onClick={() => setConfirm('delete')}>
                    Delete
                  </button>
                </div>
              </section>
            )}
          </div>
        )}
      </Dialog>
      <ConfirmDialog
        open={confirm !== null}
        title={confirm === 'revoke' ? `Revoke ${a?.name ?? ''}?` : `Delete ${a?.name ?? ''}?`}
        confirmLabel={confirm === 'revoke' ? 'Revoke agent' : 'Delete agent'}
        danger
        busy={act.isPending}
        onClose={() => {
          act.reset();
          setConfirm(null);
        }}
        onConfirm={() => confirm && act.mutate(confirm)}
      >
        {confirm === 'revoke' ? (
          <p>
            Its certificate is revoked: the agent&apos;s next request is refused. The data it sent
            stays. To monitor this host again, enroll the agent anew.
          </p>
        ) : (
          <p>The agent and everything it reported are removed. This cannot be undone.</p>
        )}
        {act.error && <ErrorView error={act.error} />}
      </ConfirmDialog>
    </>
  );
}
