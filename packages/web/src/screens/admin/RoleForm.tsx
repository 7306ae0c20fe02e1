import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { Dialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';
import { PermissionPicker } from './PermissionPicker';
import { adminKeys, type Role } from './queries';

/**
 * Creates a custom role (`POST /api/v1/roles`) or changes one (`PUT /api/v1/roles/{id}`): its
 * name, description and permissions. A built-in role is shown read-only.
 */
export function RoleFormDialog(props: { open: boolean; role: Role | null; onClose: () => void }) {
  const title = !props.role
    ? 'Create role'
    : props.role.is_system
      ? `Role ${props.role.name} (built in)`
      : `Change role ${props.role.name}`;
  return (
    <Dialog open={props.open} title={title} onClose={props.onClose} wide>
      <RoleForm role={props.role} onDone={props.onClose} />
    </Dialog>
  );
}

function RoleForm({ role, onDone }: { role: Role | null; onDone: () => void }) {
  const qc = useQueryClient();
  const readOnly = role?.is_system === true;
  const [name, setName] = useState(role?.name ?? '');
  const [description, setDescription] = useState(role?.description ?? '');
  const [permissions, setPermissions] = useState<string[]>(role?.permissions ?? []);
  const save = useMutation({
    mutationFn: () => {
      const body = { name: name.trim(), description: description.trim(), permissions };
      return role
        ? unwrap(api.PUT('/api/v1/roles/{id}', { params: { path: { id: role.id } }, body }))
        : unwrap(api.POST('/api/v1/roles', { body }));
    },
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: adminKeys.roles });
      onDone();
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate();
  }
  return (
    <form className="stack" onSubmit={submit}>
      {readOnly && (
        <p className="muted">Built-in roles cannot be changed; create a custom role instead.</p>
      )}
      <div className="form-grid">
        <label>
          Name
          <input
            required
            readOnly={readOnly}
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </label>
        <label>
          Description
          <input
            readOnly={readOnly}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
        </label>
      </div>
      <PermissionPicker value={permissions} onChange={setPermissions} disabled={readOnly} />
      {save.error && <ErrorView error={save.error} />}
      <div className="actions">
        <button type="button" onClick={onDone}>
          {readOnly ? 'Close' : 'Cancel'}
        </button>
        {!readOnly && (
          <button type="submit" className="primary" disabled={save.isPending}>
            {role ? 'Save role' : 'Create role'}
          </button>
        )}
      </div>
    </form>
  );
}
