import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { CopyField } from '../../ui/CopyButton';
import { Dialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';
import { adminKeys } from './queries';
import { RolePicker } from './RolePicker';

/**
 * Creates an OAuth API client (`POST /api/v1/oauth/clients`) and then shows its secret, once,
 * with a Copy button and a warning that it cannot be shown again.
 */
export function ClientFormDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  return (
    <Dialog open={open} title="Create API client" onClose={onClose} wide>
      <ClientForm onDone={onClose} />
    </Dialog>
  );
}

function ClientForm({ onDone }: { onDone: () => void }) {
  const qc = useQueryClient();
  const [clientId, setClientId] = useState('');
  const [description, setDescription] = useState('');
  const [machine, setMachine] = useState(true);
  const [password, setPassword] = useState(false);
  const [refresh, setRefresh] = useState(false);
  const [roles, setRoles] = useState<string[]>([]);
  const [accessTtl, setAccessTtl] = useState('');
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v1/oauth/clients', {
          body: {
            client_id: clientId.trim(),
            description: description.trim(),
            allow_client_credentials: machine,
            allow_password: password,
            allow_refresh_token: refresh,
            ...(machine ? { roles } : {}),
            ...(accessTtl ? { access_token_ttl_seconds: Number(accessTtl) } : {}),
          },
        }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: adminKeys.clients }),
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate();
  }

  if (create.data)
    return (
      <div className="stack">
        <p className="notice" role="status">
          <strong>Copy the secret now.</strong> It is shown only this once and stored only as a
          hash: if it is lost, delete the client and create a new one.
        </p>
        <CopyField value={create.data.client_id} label="Client id" />
        <CopyField value={create.data.client_secret} label="Client secret" />
        <p className="small muted">
          Tokens come from <code>POST {window.location.origin}/oauth/token</code>
          {create.data.allow_client_credentials
            ? ' with grant_type=client_credentials and these credentials.'
            : ' with grant_type=password, these credentials and a user’s name and password.'}
        </p>
        <div className="actions">
          <button type="button" className="primary" onClick={onDone}>
            I have stored the secret
          </button>
        </div>
      </div>
    );
  return (
    <form className="stack" onSubmit={submit}>
      <div className="form-grid">
        <label>
          Client id
          <input
            required
            autoComplete="off"
            value={clientId}
            placeholder="prometheus"
            onChange={(e) => setClientId(e.target.value)}
          />
        </label>
        <label>
          Description
          <input value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <label>
          Access token lifetime (seconds)
          <input
            type="number"
            min={1}
            value={accessTtl}
            placeholder="Server default"
            onChange={(e) => setAccessTtl(e.target.value)}
          />
        </label>
      </div>
      <fieldset className="pick-list">
        <legend>Grants</legend>
        <label className="inline pick">
          <input type="checkbox" checked={machine} onChange={(e) => setMachine(e.target.checked)} />
          <span>
            Client credentials{' '}
            <span className="muted small">
              — a machine client acting as itself, with the roles below.
            </span>
          </span>
        </label>
        <label className="inline pick">
          <input
            type="checkbox"
            checked={password}
            onChange={(e) => setPassword(e.target.checked)}
          />
          <span>
            Password{' '}
            <span className="muted small">
              — a program signs in as a user (the user needs <code>api:access</code>).
            </span>
          </span>
        </label>
        <label className="inline pick">
          <input type="checkbox" checked={refresh} onChange={(e) => setRefresh(e.target.checked)} />
          <span>
            Refresh tokens <span className="muted small">— with the password grant.</span>
          </span>
        </label>
      </fieldset>
      {machine && <RolePicker legend="Roles of the client" value={roles} onChange={setRoles} />}
      {create.error && <ErrorView error={create.error} />}
      <div className="actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create client
        </button>
      </div>
    </form>
  );
}
