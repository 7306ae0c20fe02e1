import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { useCan } from '../../app/session';
import { ConfirmDialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';
import { Loading, Page } from '../../ui/Page';
import { adminKeys, useRoles, type Role } from './queries';
import { RoleFormDialog } from './RoleForm';
import './admin.css';

/**
 * The roles: built-in ones (read-only) and custom ones, each with its permissions. With
 * `roles:write`: create, change and delete custom roles.
 */
export function RolesScreen() {
  const can = useCan();
  const qc = useQueryClient();
  const roles = useRoles();
  const [editing, setEditing] = useState<Role | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Role | null>(null);
  const remove = useMutation({
    mutationFn: (r: Role) =>
      unwrap(api.DELETE('/api/v1/roles/{id}', { params: { path: { id: r.id } } })),
    onSuccess: async () => {
      setDeleting(null);
      await qc.invalidateQueries({ queryKey: adminKeys.roles });
    },
  });
  const write = can('roles:write');

  return (
    <Page
      title="Roles"
      subtitle="What each role allows. Users and API clients hold roles."
      actions={
        write && (
          <button type="button" className="primary" onClick={() => setEditing('new')}>
            Create role
          </button>
        )
      }
    >
      {roles.error ? (
        <ErrorView error={roles.error} onRetry={() => void roles.refetch()} />
      ) : !roles.data ? (
        <Loading height={240} />
      ) : (
        <div className="table-wrap">
          <table aria-label="Roles">
            <thead>
              <tr>
                <th scope="col">Role</th>
                <th scope="col">Permissions</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {roles.data.map((r) => (
                <tr key={r.id}>
                  <td>
                    <strong>{r.name}</strong>{' '}
                    {r.is_system && <span className="badge">built in</span>}
                    {r.description && <div className="muted small">{r.description}</div>}
                  </td>
                  <td>
                    <span className="tags">
                      {r.permissions.map((p) => (
                        <code key={p} className="tag">
                          {p}
                        </code>
                      ))}
                    </span>
                  </td>
                  <td className="row-actions">
                    <button type="button" className="small-button" onClick={() => setEditing(r)}>
                      {write && !r.is_system ? 'Edit' : 'View'}
                      <span className="visually-hidden"> role {r.name}</span>
                    </button>
                    {write && !r.is_system && (
                      <button
                        type="button"
                        className="small-button"
                        onClick={() => {
                          remove.reset();
                          setDeleting(r);
                        }}
                      >
                        Delete<span className="visually-hidden"> role {r.name}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <RoleFormDialog
        key={editing === null ? 'closed' : editing === 'new' ? 'new' : editing.id}
        open={editing !== null}
        role={editing === 'new' ? null : editing}
        onClose={() => setEditing(null)}
      />
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete role ${deleting?.name ?? ''}?`}
        confirmLabel="Delete role"
        danger
        busy={remove.isPending}
        onClose={() => setDeleting(null)}
        onConfirm={() => deleting && remove.mutate(deleting)}
      >
        <p>A role that a user still holds cannot be deleted: take it from them first.</p>
        {remove.error && <ErrorView error={remove.error} />}
      </ConfirmDialog>
    </Page>
  );
}
