import { useMemo, useState } from 'react';
import { useSession } from '../../app/session';
import { ErrorView } from '../../ui/ErrorView';
import { Loading, Page, StatusBadge } from '../../ui/Page';
import { ago, dateTime } from '../../ui/format';
import { SortHeader, useSorted } from '../../ui/sort';
import { useUsers, type User } from './queries';
import { UserActionDialog, type UserAction } from './UserActions';
import { UserFormDialog } from './UserForm';
import './admin.css';

type Column = 'username' | 'email' | 'roles' | 'status' | 'mfa' | 'last_login';

function read(u: User, k: Column): unknown {
  switch (k) {
    case 'username':
      return u.username;
    case 'email':
      return u.email;
    case 'roles':
      return u.roles.join(', ');
    case 'status':
      return u.disabled ? 1 : 0;
    case 'mfa':
      return u.mfa_enabled ? 0 : 1;
    case 'last_login':
      return u.last_login ? -Date.parse(u.last_login) : null;
  }
}

/**
 * The users: who they are, their roles, whether they may sign in and with a second factor, and
 * when they last did. With `users:write`: create, change, reset password or MFA, disable.
 */
export function UsersScreen() {
  const { can, me } = useSession();
  const users = useUsers();
  const [text, setText] = useState('');
  const [editing, setEditing] = useState<User | 'new' | null>(null);
  const [acting, setActing] = useState<{ user: User; action: UserAction } | null>(null);
  const rows = useMemo(() => {
    const q = text.trim().toLowerCase();
    return (users.data ?? []).filter(
      (u) =>
        !q ||
        u.username.toLowerCase().includes(q) ||
        (u.email ?? '').toLowerCase().includes(q) ||
        u.roles.some((r) => r.toLowerCase().includes(q)),
    );
  }, [users.data, text]);
  const { sorted, sort, toggle } = useSorted<User, Column>(rows, read, {
    key: 'username',
    dir: 'asc',
  });
  const write = can('users:write');
  const head = (label: string, column: Column) => (
    <SortHeader label={label} column={column} sort={sort} onSort={toggle} />
  );
  const act = (user: User, action: UserAction, label: string) => (
    <button type="button" className="small-button" onClick={() => setActing({ user, action })}>
      {label}
      <span className="visually-hidden"> of {user.username}</span>
    </button>
  );

  return (
    <Page
      title="Users"
      subtitle="People who sign in to this server, and what their roles allow."
      actions={
        write && (
          <button type="button" className="primary" onClick={() => setEditing('new')}>
            Create user
          </button>
        )
      }
    >
      <div className="row filters">
        <label>
          Search users
          <input
            type="search"
            value={text}
            placeholder="Name, e-mail, role"
            onChange={(e) => setText(e.target.value)}
          />
        </label>
      </div>
      {users.error ? (
        <ErrorView error={users.error} onRetry={() => void users.refetch()} />
      ) : !users.data ? (
        <Loading height={240} />
      ) : (
        <div className="table-wrap">
          <table aria-label="Users" className="wide">
            <thead>
              <tr>
                {head('User', 'username')}
                {head('E-mail', 'email')}
                {head('Roles', 'roles')}
                {head('State', 'status')}
                {head('MFA', 'mfa')}
                {head('Last sign-in', 'last_login')}
                {write && (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {sorted.length === 0 && (
                <tr>
                  <td colSpan={7} className="muted empty">
                    No user matches the filter.
                  </td>
                </tr>
              )}
              {sorted.map((u) => (
                <tr key={u.id}>
                  <td>
                    <strong>{u.username}</strong>
                    {u.id === me.id && <span className="muted small"> (you)</span>}
                    {u.auth_provider !== 'local' && (
                      <div className="muted small">{u.auth_provider}</div>
                    )}
                  </td>
                  <td>{u.email ?? <span className="muted">—</span>}</td>
                  <td>
                    <span className="tags">
                      {u.roles.map((r) => (
                        <span key={r} className="tag">
                          {r}
                        </span>
                      ))}
                    </span>
                  </td>
                  <td>
                    <StatusBadge status={u.disabled ? 'disabled' : 'active'} />
                    {u.must_change_password && (
                      <div className="muted small">must change password</div>
                    )}
                  </td>
                  <td>{u.mfa_enabled ? 'On' : <span className="muted">Off</span>}</td>
                  <td title={dateTime(u.last_login)}>{ago(u.last_login)}</td>
                  {write && (
                    <td className="row-actions">
                      <button type="button" className="small-button" onClick={() => setEditing(u)}>
                        Edit<span className="visually-hidden"> {u.username}</span>
                      </button>
                      {u.auth_provider === 'local' && act(u, 'reset-password', 'Reset password')}
                      {u.mfa_enabled && act(u, 'reset-mfa', 'Reset MFA')}
                      {u.id !== me.id &&
                        (u.disabled ? act(u, 'enable', 'Enable') : act(u, 'disable', 'Disable'))}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <UserFormDialog
        key={editing === null ? 'closed' : editing === 'new' ? 'new' : editing.id}
        open={editing !== null}
        user={editing === 'new' ? null : editing}
        onClose={() => setEditing(null)}
      />
      <UserActionDialog
        user={acting?.user ?? null}
        action={acting?.action ?? null}
        onClose={() => setActing(null)}
      />
    </Page>
  );
}
