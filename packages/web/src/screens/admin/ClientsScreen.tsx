import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { useCan } from '../../app/session';
import { ConfirmDialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';
import { duration } from '../../ui/format';
import { Loading, Page } from '../../ui/Page';
import { ClientEditDialog } from './ClientEdit';
import { ClientFormDialog } from './ClientForm';
import { adminKeys, type OAuthClient } from './queries';
import './admin.css';

/** The grants a client may use, in words. */
function grantsOf(c: OAuthClient): string[] {
  const out: string[] = [];
  if (c.allow_client_credentials) out.push('client credentials');
  if (c.allow_password) out.push('password');
  if (c.allow_refresh_token) out.push('refresh token');
  return out;
}

/**
 * The OAuth API clients that programs use to get tokens: their grants, roles and token
 * lifetimes (never their secrets). With `oauth:write`: create (the secret shown once), change and delete.
 */
export function ClientsScreen() {
  const can = useCan();
  const qc = useQueryClient();
  const clients = useQuery({
    queryKey: adminKeys.clients,
    queryFn: () => unwrap(api.GET('/api/v1/oauth/clients')).then((a) => a.clients),
  });
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<OAuthClient | null>(null);
  const [editing, setEditing] = useState<OAuthClient | null>(null);
  const remove = useMutation({
    mutationFn: (c: OAuthClient) =>
      unwrap(api.DELETE('/api/v1/oauth/clients/{id}', { params: { path: { id: c.id } } })),
    onSuccess: async () => {
      setDeleting(null);
      await qc.invalidateQueries({ queryKey: adminKeys.clients });
    },
  });
  const write = can('oauth:write');

  return (
    <Page
      title="API clients"
      subtitle="Programs that call the API with OAuth 2.0 tokens."
      actions={
        write && (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            Create API client
          </button>
        )
      }
    >
      {clients.error ? (
        <ErrorView error={clients.error} onRetry={() => void clients.refetch()} />
      ) : !clients.data ? (
        <Loading height={200} />
      ) : (
        <div className="table-wrap">
          <table aria-label="API clients" className="wide">
            <thead>
              <tr>
                <th scope="col">Client</th>
                <th scope="col">Grants</th>
                <th scope="col">Roles</th>
                <th scope="col" className="num">
                  Token lifetime
                </th>
                {write && (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {clients.data.length === 0 && (
                <tr>
                  <td colSpan={5} className="muted empty">
                    No API client yet.
                  </td>
                </tr>
              )}
              {clients.data.map((c) => (
                <tr key={c.id}>
                  <td>
                    <code>{c.client_id}</code>
                    {c.description && <div className="muted small">{c.description}</div>}
                  </td>
                  <td>{grantsOf(c).join(', ') || <span className="muted">none</span>}</td>
                  <td>
                    <span className="tags">
                      {c.roles.map((r) => (
                        <span key={r} className="tag">
                          {r}
                        </span>
                      ))}
                    </span>
                  </td>
                  <td className="num">{duration(c.access_token_ttl_seconds)}</td>
                  {write && (
                    <td className="row-actions">
                      <button type="button" className="small-button" onClick={() => setEditing(c)}>
                        Edit<span className="visually-hidden"> client {c.client_id}</span>
                      </button>
                      <button
                        type="button"
                        className="small-button"
                        onClick={() => {
                          remove.reset();
                          setDeleting(c);
                        }}
                      >
                        Delete<span className="visually-hidden"> client {c.client_id}</span>
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {creating && <ClientFormDialog open onClose={() => setCreating(false)} />}
      <ClientEditDialog
        key={editing?.id ?? 'closed'}
        client={editing}
        onClose={() => setEditing(null)}
      />
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete API client ${deleting?.client_id ?? ''}?`}
        confirmLabel="Delete client"
        danger
        busy={remove.isPending}
        onClose={() => setDeleting(null)}
        onConfirm={() => deleting && remove.mutate(deleting)}
      >
        <p>Every token issued to it stops working at once. Programs using it lose access.</p>
        {remove.error && <ErrorView error={remove.error} />}
      </ConfirmDialog>
    </Page>
  );
}
