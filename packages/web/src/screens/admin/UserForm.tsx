import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { Dialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';
import { adminKeys, type User } from './queries';
import { RolePicker } from './RolePicker';

/**
 * Creates a user (`POST /api/v1/users`: name, e-mail, password, roles; by default they must
 * choose their own password at the first sign-in) or changes one (`PATCH`: e-mail and roles).
 * The API refuses roles beyond the caller's own permissions (403 `role.escalation`); its message
 * is shown.
 */
export function UserFormDialog(props: { open: boolean; user: User | null; onClose: () => void }) {
  return (
    <Dialog
      open={props.open}
      title={props.user ? `Change ${props.user.username}` : 'Create user'}
      onClose={props.onClose}
    >
      <UserForm user={props.user} onDone={props.onClose} />
    </Dialog>
  );
}

function UserForm({ user, onDone }: { user: User | null; onDone: () => void }) {
  const qc = useQueryClient();
  const [username, setUsername] = useState('');
  const [email, setEmail] = useState(user?.email ?? '');
  const [password, setPassword] = useState('');
  const [mustChange, setMustChange] = useState(true);
  const [roles, setRoles] = useState<string[]>(user?.roles ?? ['viewer']);
  const save = useMutation({
    mutationFn: () =>
      user
        ? unwrap(
            api.PATCH('/api/v1/users/{id}', {
              params: { path: { id: user.id } },
              body: { email: email.trim() || null, roles },
            }),
          )
        : unwrap(
            api.POST('/api/v1/users', {
              body: {
                username: username.trim(),
                email: email.trim() || null,
                password,
                roles,
                must_change_password: mustChange,
              },
            }),
          ),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: adminKeys.users });
      onDone();
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate();
  }
  return (
    <form className="stack" onSubmit={submit}>
      {!user && (
        <label>
          User name
          <input
            required
            autoComplete="off"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
      )}
      <label>
        E-mail (optional)
        <input
          type="email"
          autoComplete="off"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
      </label>
      {!user && (
        <>
          <label>
            Password
            <input
              type="password"
              required
              autoComplete="new-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </label>
          <label className="inline">
            <input
              type="checkbox"
              checked={mustChange}
              onChange={(e) => setMustChange(e.target.checked)}
            />
            Must choose a new password at the first sign-in
          </label>
        </>
      )}
      <RolePicker legend="Roles" value={roles} onChange={setRoles} />
      {save.error && <ErrorView error={save.error} />}
      <div className="actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={save.isPending}>
          {user ? 'Save changes' : 'Create user'}
        </button>
      </div>
    </form>
  );
}
