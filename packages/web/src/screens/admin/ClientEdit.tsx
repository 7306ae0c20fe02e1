import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { Dialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';
import { adminKeys, type OAuthClient } from './queries';
import { RolePicker } from './RolePicker';

/**
 * Changes an API client (`PATCH /api/v1/oauth/clients/{id}`): its description, grants, token
 * lifetimes and roles; never its id or secret. Turning client credentials off or changing the
 * roles ends the client's live tokens, which the form says before saving.
 */
export function ClientEditDialog({
  client,
  onClose,
}: {
  client: OAuthClient | null;
  onClose: () => void;
}) {
  return (
    <Dialog
      open={client !== null}
      title={`Change API client ${client?.client_id ?? ''}`}
      onClose={onClose}
      wide
    >
      {client && <ClientEdit client={client} onDone={onClose} />}
    </Dialog>
  );
}

function ClientEdit({ client, onDone }: { client: OAuthClient; onDone: () => void }) {
  const qc = useQueryClient();
  const [description, setDescription] = useState(client.description);
  const [machine, setMachine] = useState(client.allow_client_credentials);
  const [password, setPassword] = useState(client.allow_password);
  const [refresh, setRefresh] = useState(client.allow_refresh_token);
  const [accessTtl, setAccessTtl] = useState(String(client.access_token_ttl_seconds));
  const [roles, setRoles] = useState<string[]>(client.roles);
  const rolesChanged = [...roles].sort().join() !== [...client.roles].sort().join();
  const endsTokens = (client.allow_client_credentials && !machine) || rolesChanged;
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.PATCH('/api/v1/oauth/clients/{id}', {
          params: { path: { id: client.id } },
          body: {
            description: description.trim(),
            allow_client_credentials: machine,
            allow_password: password,
            allow_refresh_token: refresh,
            access_token_ttl_seconds: Number(accessTtl),
            ...(rolesChanged ? { roles } : {}),
          },
        }),
      ),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: adminKeys.clients });
      onDone();
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate();
  }
  return (
    <form className="stack" onSubmit={submit}>
      <div className="form-grid">
        <label>
          Description
          <input value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <label>
          Access token lifetime (seconds)
          <input
            type="number"
            min={1}
            required
            value={accessTtl}
            onChange={(e) => setAccessTtl(e.target.value)}
          />
        </label>
      </div>
      <fieldset className="pick-list">
        <legend>Grants</legend>
        <label className="inline pick">
          <input type="checkbox" checked={machine} onChange={(e) => setMachine(e.target.checked)} />
          Client credentials
        </label>
        <label className="inline pick">
          <input
            type="checkbox"
            checked={password}
            onChange={(e) => setPassword(e.target.checked)}
          />
          Password
        </label>
        <label className="inline pick">
          <input type="checkbox" checked={refresh} onChange={(e) => setRefresh(e.target.checked)} />
          Refresh tokens
        </label>
      </fieldset>
      {machine && <RolePicker legend="Roles of the client" value={roles} onChange={setRoles} />}
      {endsTokens && (
        <p className="notice" role="status">
          Saving ends the tokens this client holds now: it must ask for new ones.
        </p>
      )}
      {save.error && <ErrorView error={save.error} />}
      <div className="actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={save.isPending}>
          Save client
        </button>
      </div>
    </form>
  );
}
