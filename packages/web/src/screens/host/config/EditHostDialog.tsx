import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../../api/client';
import { Dialog } from '../../../ui/Dialog';
import { ErrorView } from '../../../ui/ErrorView';
import { tagsOf } from '../../fleet/AddHostDialog';
import { HOSTS_KEY, type HostOverview } from '../../fleet/live';

/**
 * Changes a host's own fields (`PATCH /api/v1/hosts/{id}`): display name, address, SSH port,
 * environment, tags and description; an emptied field is cleared. Its name stays.
 */
export function EditHostDialog(props: { host: HostOverview; open: boolean; onClose: () => void }) {
  return (
    <Dialog open={props.open} title={`Edit host ${props.host.name}`} onClose={props.onClose} wide>
      {props.open && <EditHostForm host={props.host} onDone={props.onClose} />}
    </Dialog>
  );
}

function EditHostForm({ host, onDone }: { host: HostOverview; onDone: () => void }) {
  const qc = useQueryClient();
  const [displayName, setDisplayName] = useState(host.display_name ?? '');
  const [address, setAddress] = useState(host.ip_address ?? '');
  const [port, setPort] = useState(host.port === null ? '' : String(host.port));
  const [environment, setEnvironment] = useState(host.environment ?? '');
  const [tags, setTags] = useState(host.tags.join(', '));
  const [description, setDescription] = useState(host.description ?? '');
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.PATCH('/api/v1/hosts/{id}', {
          params: { path: { id: host.id } },
          body: {
            display_name: displayName.trim() || null,
            ...(address.trim() ? { ip_address: address.trim() } : {}),
            port: port.trim() ? Number(port) : null,
            environment: environment.trim() || null,
            tags: tagsOf(tags),
            description: description.trim() || null,
          },
        }),
      ),
    onSuccess: async (h) => {
      qc.setQueryData(['hosts', host.id], h);
      await qc.invalidateQueries({ queryKey: HOSTS_KEY, exact: true });
      onDone();
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate();
  }
  return (
    <form className="stack" onSubmit={submit}>
      <div className="config-grid">
        <label>
          Display name
          <input value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
        </label>
        <label>
          Address
          <input required value={address} onChange={(e) => setAddress(e.target.value)} />
        </label>
        <label>
          SSH port
          <input
            inputMode="numeric"
            placeholder="22"
            value={port}
            onChange={(e) => setPort(e.target.value)}
          />
        </label>
        <label>
          Environment
          <input value={environment} onChange={(e) => setEnvironment(e.target.value)} />
        </label>
        <label>
          Tags (comma-separated)
          <input value={tags} onChange={(e) => setTags(e.target.value)} />
        </label>
        <label>
          Description
          <input value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
      </div>
      {save.error && <ErrorView error={save.error} />}
      <div className="actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={save.isPending}>
          Save host
        </button>
      </div>
    </form>
  );
}
