import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { api, unwrap } from '../../api/client';
import { setQueryParam, useLocation } from '../../app/router';
import { useCan } from '../../app/session';
import { ConfirmDialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';
import { Loading, Page } from '../../ui/Page';
import { HOSTS_KEY, fetchFleet } from '../fleet/live';
import { CloneDialog } from './CloneDialog';
import { CredentialFormDialog } from './CredentialForm';
import { CREDENTIALS_KEY, keyKind, METHOD_TEXT, useCredentials, type Credential } from './queries';
import '../config/config.css';
import './credentials.css';

/**
 * The SSH credentials of agentless access (`/credentials`): scope, user, how it signs in, and
 * what describes its secrets (key type, bits and fingerprint; whether a password is stored) —
 * never a secret. With `credentials:write`: create, change, clone and delete.
 */
export function CredentialsScreen() {
  const can = useCan();
  const qc = useQueryClient();
  const { query } = useLocation();
  const q = query.get('q') ?? '';
  const list = useCredentials();
  const hosts = useQuery({
    queryKey: HOSTS_KEY,
    queryFn: fetchFleet,
    enabled: can('host:read'),
  });
  const hostName = (id: string | null) =>
    hosts.data?.items.find((h) => h.id === id)?.name ?? id ?? '';
  const [editing, setEditing] = useState<Credential | 'new' | null>(null);
  const [cloning, setCloning] = useState<Credential | null>(null);
  const [deleting, setDeleting] = useState<Credential | null>(null);
  const remove = useMutation({
    mutationFn: (c: Credential) =>
      unwrap(api.DELETE('/api/v1/credentials/{id}', { params: { path: { id: c.id } } })),
    onSuccess: async () => {
      setDeleting(null);
      await qc.invalidateQueries({ queryKey: CREDENTIALS_KEY });
    },
  });
  const write = can('credentials:write');
  const shown = useMemo(() => {
    const needle = q.trim().toLowerCase();
    const items = list.data?.items ?? [];
    if (!needle) return items;
    return items.filter((c) =>
      [c.name, c.description ?? '', c.username, c.host_id ?? '', c.ssh_key_fingerprint ?? '']
        .join(' ')
        .toLowerCase()
        .includes(needle),
    );
  }, [list.data, q]);

  return (
    <Page
      title="Credentials"
      subtitle="How the server signs in to hosts over SSH. Secrets go in and never come out."
      actions={
        write && (
          <button type="button" className="primary" onClick={() => setEditing('new')}>
            Create credential
          </button>
        )
      }
    >
      <div className="row config-search">
        <label>
          Search
          <input
            type="search"
            value={q}
            placeholder="Name, user, host or fingerprint"
            onChange={(e) => setQueryParam('q', e.target.value)}
          />
        </label>
      </div>
      {list.error ? (
        <ErrorView error={list.error} onRetry={() => void list.refetch()} />
      ) : !list.data ? (
        <Loading height={240} />
      ) : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Credentials table">
          <table aria-label="Credentials">
            <thead>
              <tr>
                <th scope="col">Credential</th>
                <th scope="col">Scope</th>
                <th scope="col">User</th>
                <th scope="col">Signs in with</th>
                <th scope="col">Key</th>
                <th scope="col">Password</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.length === 0 && (
                <tr>
                  <td colSpan={7} className="muted">
                    {list.data.items.length === 0 ? 'No credential yet.' : 'None matches.'}
                  </td>
                </tr>
              )}
              {shown.map((c) => (
                <tr key={c.id}>
                  <td>
                    <strong>{c.name}</strong>{' '}
                    {c.is_default && <span className="badge">default</span>}
                    {c.description && <div className="muted small">{c.description}</div>}
                  </td>
                  <td>{c.scope === 'host' ? `host ${hostName(c.host_id)}` : 'system'}</td>
                  <td>
                    <code className="nowrap">{c.username}</code>
                  </td>
                  <td>{METHOD_TEXT[c.auth_method]}</td>
                  <td>
                    {c.has_private_key ? (
                      <>
                        <div>{keyKind(c)}</div>
                        <code className="fingerprint">{c.ssh_key_fingerprint}</code>
                      </>
                    ) : (
                      <span className="muted">none</span>
                    )}
                  </td>
                  <td>{c.has_password ? 'stored' : <span className="muted">none</span>}</td>
                  <td className="row-actions">
                    {write && (
                      <>
                        <button
                          type="button"
                          className="small-button"
                          onClick={() => setEditing(c)}
                        >
                          Edit<span className="visually-hidden"> credential {c.name}</span>
                        </button>
                        <button
                          type="button"
                          className="small-button"
                          onClick={() => setCloning(c)}
                        >
                          Clone<span className="visually-hidden"> credential {c.name}</span>
                        </button>
                        <button
                          type="button"
                          className="small-button"
                          onClick={() => {
                            remove.reset();
                            setDeleting(c);
                          }}
                        >
                          Delete<span className="visually-hidden"> credential {c.name}</span>
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <CredentialFormDialog
        key={editing === null ? 'closed' : editing === 'new' ? 'new' : editing.id}
        open={editing !== null}
        credential={editing === 'new' ? null : editing}
        onClose={() => setEditing(null)}
      />
      <CloneDialog credential={cloning} onClose={() => setCloning(null)} />
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete credential ${deleting?.name ?? ''}?`}
        confirmLabel="Delete credential"
        danger
        busy={remove.isPending}
        onClose={() => setDeleting(null)}
        onConfirm={() => deleting && remove.mutate(deleting)}
      >
        <p>Hosts that sign in with it fall back to the system default, if there is one.</p>
        {remove.error && <ErrorView error={remove.error} />}
      </ConfirmDialog>
    </Page>
  );
}
