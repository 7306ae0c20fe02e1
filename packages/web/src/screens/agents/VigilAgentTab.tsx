import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorView } from '../../ui/ErrorView';
import { EnrollCommand, useCa } from './EnrollCommand';
import { agentKeys } from './queries';

/**
 * Adds a Vigil agent: a name (and optional id) → `POST /api/v1/agents` → the one-line
 * enrollment command with the fresh one-time token and the CA fingerprint, ready to paste on the
 * host.
 */
export function VigilAgentTab() {
  const qc = useQueryClient();
  // Loaded while the form is filled, so the command shows at once.
  useCa();
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

  if (made?.enrollment_token)
    return (
      <div className="stack">
        <p role="status" className="ok-text">
          Agent <strong>{made.name}</strong> (<code>{made.id}</code>) is ready to enroll.
        </p>
        <EnrollCommand token={made.enrollment_token} expiresAt={made.enrollment_expires_at} />
        <div className="actions">
          <button type="button" onClick={() => create.reset()}>
            Add another
          </button>
        </div>
      </div>
    );
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
      {create.error && <ErrorView error={create.error} />}
      <div className="actions">
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create enrollment command'}
        </button>
      </div>
    </form>
  );
}
