import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { CopyField } from '../../ui/CopyButton';
import { ErrorView } from '../../ui/ErrorView';
import { Loading } from '../../ui/Page';
import { dateTime } from '../../ui/format';
import { agentKeys } from './queries';

/** The server's CA (`GET /api/v1/tls/ca`): agents pin it by its SHA-256 fingerprint. */
function useCa() {
  return useQuery({
    queryKey: ['tls', 'ca'],
    queryFn: () => unwrap(api.GET('/api/v1/tls/ca')),
    staleTime: Infinity,
  });
}

/**
 * Adds a Vigil agent: a name (and optional id) → `POST /api/v1/agents` → the one-line
 * enrollment command with the fresh one-time token and the CA fingerprint, ready to paste on the
 * host.
 */
export function VigilAgentTab() {
  const qc = useQueryClient();
  const ca = useCa();
  const [name, setName] = useState('');
  const [id, setId] = useState('');
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v1/agents', {
          body: id.trim() ? { name: name.trim(), id: id.trim() } : { name: name.trim() },
        }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: agentKeys.all }),
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate();
  }
  const made = create.data;

  if (made?.enrollment_token) {
    const fp = ca.data?.fingerprint_sha256 ?? '<fingerprint>';
    const command = `vigil-agent enroll --server ${window.location.origin} --token ${made.enrollment_token} --ca-fingerprint ${fp}`;
    return (
      <div className="stack">
        <p role="status" className="ok-text">
          Agent <strong>{made.name}</strong> (<code>{made.id}</code>) is ready to enroll.
        </p>
        <p>
          Run this on the host, as the user the agent runs as, then start it with{' '}
          <code>vigil-agent run</code>:
        </p>
        <CopyField value={command} label="Enrollment command" />
        <p className="small">
          The token works once and expires <strong>{dateTime(made.enrollment_expires_at)}</strong>.
          It is not shown again: a new one can be issued later.
        </p>
        <div className="fingerprint">
          <h3>CA fingerprint (SHA-256)</h3>
          {ca.error ? (
            <ErrorView error={ca.error} />
          ) : (
            <code aria-label="CA fingerprint">{ca.data?.fingerprint_sha256 ?? 'Loading…'}</code>
          )}
          <p className="small muted">
            The agent trusts only the CA with this fingerprint; compare it with the one{' '}
            <code>vigil serve</code> printed at start.
          </p>
        </div>
        <div className="actions">
          <button type="button" onClick={() => create.reset()}>
            Add another
          </button>
        </div>
      </div>
    );
  }
  return (
    <form className="stack" onSubmit={submit}>
      <p>
        Name the agent; Vigil issues a one-time token and shows the command that enrolls it. The
        agent then pushes its data over mutual TLS.
      </p>
      <div className="form-grid">
        <label>
          Name
          <input
            required
            value={name}
            placeholder="web-01"
            onChange={(e) => setName(e.target.value)}
          />
        </label>
        <label>
          Id (optional)
          <input
            value={id}
            placeholder="Generated when empty"
            pattern="[A-Za-z0-9][A-Za-z0-9._\-]*"
            title="Letters, digits, dot, dash and underscore"
            onChange={(e) => setId(e.target.value)}
          />
        </label>
      </div>
      {ca.isPending && <Loading label="Loading the CA…" height={24} />}
      {create.error && <ErrorView error={create.error} />}
      <div className="actions">
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create enrollment command'}
        </button>
      </div>
    </form>
  );
}
