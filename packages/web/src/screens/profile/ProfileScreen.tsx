import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { sessionKeys, useSession } from '../../app/session';
import { ErrorView } from '../../ui/ErrorView';
import { dateTime } from '../../ui/format';
import { Page } from '../../ui/Page';
import { PasswordChangeForm } from '../login/PasswordChangeScreen';
import { MfaSetup } from './MfaSetup';
import './profile.css';

/**
 * The caller's own account: name, roles and e-mail (editable), password change, and two-factor
 * sign-in with an authenticator app.
 */
export function ProfileScreen() {
  const { me, can } = useSession();
  const qc = useQueryClient();
  const [email, setEmail] = useState(me.email ?? '');
  // `GET /auth/me` does not say whether MFA is on; the user record does, for who may read it.
  const self = useQuery({
    queryKey: ['users', me.id],
    queryFn: () => unwrap(api.GET('/api/v1/users/{id}', { params: { path: { id: me.id } } })),
    enabled: can('users:read'),
  });
  const save = useMutation({
    mutationFn: () => unwrap(api.PUT('/api/v1/auth/me', { body: { email: email.trim() || null } })),
    onSuccess: (data) => {
      qc.setQueryData(['users', me.id], data);
      return qc.invalidateQueries({ queryKey: sessionKeys.me });
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate();
  }
  const mfa = save.data?.mfa_enabled ?? self.data?.mfa_enabled ?? null;

  return (
    <Page title="Profile" subtitle={`Signed in as ${me.username}.`}>
      <div className="profile-grid">
        <section className="card stack" aria-labelledby="account-title">
          <h2 id="account-title">Account</h2>
          <dl className="profile-facts">
            <dt>User name</dt>
            <dd>{me.username}</dd>
            <dt>Roles</dt>
            <dd>{me.roles.join(', ') || '—'}</dd>
            <dt>Signed in</dt>
            <dd>{dateTime(me.last_login)}</dd>
          </dl>
          <form className="stack" onSubmit={submit}>
            <label>
              E-mail
              <input
                type="email"
                autoComplete="email"
                value={email}
                onChange={(e) => {
                  save.reset();
                  setEmail(e.target.value);
                }}
              />
            </label>
            {save.error && <ErrorView error={save.error} />}
            {save.isSuccess && (
              <p role="status" className="ok-text">
                E-mail saved.
              </p>
            )}
            <div>
              <button type="submit" className="primary" disabled={save.isPending}>
                Save e-mail
              </button>
            </div>
          </form>
        </section>
        <section className="card stack" aria-labelledby="password-title">
          <h2 id="password-title">Password</h2>
          <PasswordChangeForm onDone={() => undefined} submitLabel="Change password" />
        </section>
        <section className="card stack" aria-labelledby="mfa-title">
          <h2 id="mfa-title">Two-factor sign-in</h2>
          <MfaSetup enabled={mfa} />
        </section>
      </div>
    </Page>
  );
}
