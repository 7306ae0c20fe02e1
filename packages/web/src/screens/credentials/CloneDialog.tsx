import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { Dialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';
import { HostPicker } from './HostPicker';
import { CREDENTIALS_KEY, type Credential } from './queries';

/**
 * Copies a credential to a new scope or host (`POST /api/v1/credentials/{id}:clone`): the server
 * copies its secrets, which never travel to the console.
 */
export function CloneDialog(props: { credential: Credential | null; onClose: () => void }) {
  const c = props.credential;
  return (
    <Dialog open={c !== null} title={`Clone credential ${c?.name ?? ''}`} onClose={props.onClose}>
      {c && <CloneForm key={c.id} credential={c} onDone={props.onClose} />}
    </Dialog>
  );
}

function CloneForm({ credential, onDone }: { credential: Credential; onDone: () => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState(`${credential.name} (copy)`);
  const [scope, setScope] = useState<'system' | 'host'>('host');
  const [hostId, setHostId] = useState('');
  const clone = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v1/credentials/{id}:clone', {
          params: { path: { id: credential.id } },
          body: { name: name.trim(), scope, host_id: scope === 'host' ? hostId : null },
        }),
      ),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: CREDENTIALS_KEY });
      onDone();
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    clone.mutate();
  }
  return (
    <form className="stack" onSubmit={submit}>
      <p className="muted">The copy keeps the secrets on the server; it is not a default.</p>
      <label>
        Name of the copy
        <input required value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Scope of the copy
        <select value={scope} onChange={(e) => setScope(e.target.value as 'system' | 'host')}>
          <option value="system">System (every host)</option>
          <option value="host">One host</option>
        </select>
      </label>
      {scope === 'host' && <HostPicker value={hostId} onChange={setHostId} />}
      {clone.error && <ErrorView error={clone.error} />}
      <div className="actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={clone.isPending}>
          Clone
        </button>
      </div>
    </form>
  );
}
