import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { sessionKeys, type Me } from '../../app/session';
import { ErrorView } from '../../ui/ErrorView';

/**
 * The forced password change after an administrator reset the password: nothing else is
 * allowed until it is done (the API refuses every other call).
 */
export function PasswordChangeScreen({ me, onLogout }: { me: Me; onLogout: () => void }) {
  const qc = useQueryClient();
  return (
    <main className="login">
      <div className="card login-card">
        <h1>Choose a new password</h1>
        <p>
          An administrator reset the password of <strong>{me.username}</strong>. Choose a new one to
          continue.
        </p>
        <PasswordChangeForm
          onDone={() => void qc.resetQueries({ queryKey: sessionKeys.me })}
          submitLabel="Change password and continue"
        />
        <button type="button" onClick={onLogout}>
          Sign out
        </button>
      </div>
    </main>
  );
}

/** The current and new password (twice); shared with the profile screen. */
export function PasswordChangeForm(props: { onDone: () => void; submitLabel: string }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const mismatch = again.length > 0 && next !== again;

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (mismatch) return;
    setBusy(true);
    setError(null);
    setDone(false);
    try {
      await unwrap(
        api.PUT('/api/v1/auth/me/password', {
          body: { current_password: current, new_password: next },
        }),
      );
      setCurrent('');
      setNext('');
      setAgain('');
      setDone(true);
      props.onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="stack" onSubmit={submit}>
      <label>
        Current password
        <input
          type="password"
          autoComplete="current-password"
          required
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
        />
      </label>
      <label>
        New password
        <input
          type="password"
          autoComplete="new-password"
          required
          value={next}
          onChange={(e) => setNext(e.target.value)}
        />
      </label>
      <label>
        New password again
        <input
          type="password"
          autoComplete="new-password"
          required
          value={again}
          aria-invalid={mismatch}
          aria-describedby={mismatch ? 'pw-mismatch' : undefined}
          onChange={(e) => setAgain(e.target.value)}
        />
      </label>
      {mismatch && (
        <p id="pw-mismatch" className="field-error">
          The two new passwords differ.
        </p>
      )}
      {error !== null && <ErrorView error={error} />}
      {done && (
        <p role="status" className="ok-text">
          Password changed. Your other sessions were signed out.
        </p>
      )}
      <button type="submit" className="primary" disabled={busy || mismatch}>
        {props.submitLabel}
      </button>
    </form>
  );
}
