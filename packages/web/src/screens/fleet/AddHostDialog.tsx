import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { navigate } from '../../app/router';
import { useCan } from '../../app/session';
import { Dialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';
import { useObjects } from '../config/queries';
import { HOSTS_KEY } from './live';
import '../config/config.css';

/** Tags typed as a comma-separated list, without blanks or repeats. */
export const tagsOf = (text: string): string[] => [
  ...new Set(
    text
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
  ),
];

/**
 * Adds a host by hand (`POST /api/v1/hosts`): its name and address, and optionally its SSH port,
 * environment, tags and the host templates it imports (`PATCH /api/v1/hosts/{id}/config`). The
 * new host's configuration opens.
 */
export function AddHostDialog(props: { open: boolean; onClose: () => void }) {
  return (
    <Dialog open={props.open} title="Add host" onClose={props.onClose} wide>
      {props.open && <AddHostForm onDone={props.onClose} />}
    </Dialog>
  );
}

function AddHostForm({ onDone }: { onDone: () => void }) {
  const qc = useQueryClient();
  const [hostname, setHostname] = useState('');
  const [address, setAddress] = useState('');
  const [port, setPort] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [environment, setEnvironment] = useState('');
  const [tags, setTags] = useState('');
  const [imports, setImports] = useState<string[]>([]);
  const can = useCan();
  const configurable = can('config:read') && can('config:write');
  const templates = useObjects('host-templates', configurable);
  const create = useMutation({
    mutationFn: async () => {
      const host = await unwrap(
        api.POST('/api/v1/hosts', {
          body: {
            hostname: hostname.trim(),
            ip_address: address.trim(),
            ...(port.trim() ? { port: Number(port) } : {}),
            ...(displayName.trim() ? { display_name: displayName.trim() } : {}),
            ...(environment.trim() ? { environment: environment.trim() } : {}),
            tags: tagsOf(tags),
          },
        }),
      );
      if (imports.length > 0)
        await unwrap(
          api.PATCH('/api/v1/hosts/{id}/config', {
            params: { path: { id: host.id } },
            body: { imports },
          }),
        );
      return host;
    },
    onSuccess: async (h) => {
      await qc.invalidateQueries({ queryKey: HOSTS_KEY, exact: true });
      onDone();
      navigate(`/hosts/${encodeURIComponent(h.id)}?tab=configuration`);
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate();
  }
  return (
    <form className="stack" onSubmit={submit}>
      <div className="config-grid">
        <label>
          Host name
          <input
            required
            autoComplete="off"
            value={hostname}
            placeholder="web1.example.com"
            onChange={(e) => setHostname(e.target.value)}
          />
        </label>
        <label>
          Address
          <input
            required
            autoComplete="off"
            value={address}
            placeholder="192.0.2.10"
            onChange={(e) => setAddress(e.target.value)}
          />
        </label>
        <label>
          SSH port (optional)
          <input
            inputMode="numeric"
            value={port}
            placeholder="22"
            onChange={(e) => setPort(e.target.value)}
          />
        </label>
        <label>
          Display name (optional)
          <input value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
        </label>
        <label>
          Environment (optional)
          <input
            value={environment}
            placeholder="production"
            onChange={(e) => setEnvironment(e.target.value)}
          />
        </label>
        <label>
          Tags (comma-separated)
          <input value={tags} placeholder="web, eu" onChange={(e) => setTags(e.target.value)} />
        </label>
      </div>
      {configurable && (
        <fieldset className="config-fieldset">
          <legend>Templates to import</legend>
          {templates.error ? (
            <ErrorView error={templates.error} onRetry={() => void templates.refetch()} />
          ) : templates.data?.length === 0 ? (
            <p className="muted small">No host template yet.</p>
          ) : (
            (templates.data ?? []).map((t) => (
              <label key={t.object_name} className="inline">
                <input
                  type="checkbox"
                  checked={imports.includes(t.object_name)}
                  onChange={(e) =>
                    setImports(
                      e.target.checked
                        ? [...imports, t.object_name]
                        : imports.filter((x) => x !== t.object_name),
                    )
                  }
                />
                {t.object_name}
              </label>
            ))
          )}
          {imports.length > 1 && (
            <p className="muted small">Imported in this order: {imports.join(', ')}.</p>
          )}
        </fieldset>
      )}
      {create.error && <ErrorView error={create.error} />}
      <div className="actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={create.isPending}>
          Add host
        </button>
      </div>
    </form>
  );
}
