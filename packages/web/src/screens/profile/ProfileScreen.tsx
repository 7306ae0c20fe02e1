import { useMutation, useQueryClient } from '@tanstack/react-query';
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
  const { me } = useSession();
  const qc = useQueryClient();
  const [email, setEmail] = useState(me.email ?? '');
  const save = useMutation({
    mutationFn: () => unwrap(api.PUT('/api/v1/auth/me', { body: { email: email.trim() || null } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: sessionKeys.me }),
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate();
  }

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
          <MfaSetup enabled={me.mfa_enabled} />
        </section>
      </div>
    </Page>
  );
}
