import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, ApiError, unwrap } from '../../api/client';
import { sessionKeys } from '../../app/session';
import { ErrorView } from '../../ui/ErrorView';

/**
 * Sign-in: user name and password, then the TOTP code when the account has one. The first-run
 * hint says where the initial administrator password is.
 */
export function LoginScreen() {
  const qc = useQueryClient();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [otp, setOtp] = useState('');
  const [needOtp, setNeedOtp] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const otpRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.title = 'Sign in · Vigil';
  }, []);
  useEffect(() => {
    if (needOtp) otpRef.current?.focus();
  }, [needOtp]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await unwrap(
        api.POST('/api/v1/auth/login', {
          body: needOtp ? { username, password, otp } : { username, password },
        }),
      );
      await qc.resetQueries({ queryKey: sessionKeys.me });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'auth.mfa_required') {
        setNeedOtp(true);
      } else {
        if (err instanceof ApiError && err.code === 'auth.mfa_invalid') setOtp('');
        setError(err);
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="login">
      <form className="card login-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Sign in to Vigil</h1>
        {!needOtp ? (
          <>
            <label>
              User name
              <input
                name="username"
                autoComplete="username"
                required
                autoFocus
                value={username}
                onChange={(e) => setUsername(e.target.value)}
              />
            </label>
            <label>
              Password
              <input
                name="password"
                type="password"
                autoComplete="current-password"
                required
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            </label>
          </>
        ) : (
          <label>
            Authentication code
            <input
              ref={otpRef}
              name="otp"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9]{6}"
              maxLength={6}
              required
              value={otp}
              onChange={(e) => setOtp(e.target.value.replace(/\D/g, ''))}
              aria-describedby="otp-help"
            />
            <span id="otp-help" className="muted small">
              The 6-digit code from your authenticator app.
            </span>
          </label>
        )}
        {error !== null && <ErrorView error={error} />}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : needOtp ? 'Verify' : 'Sign in'}
        </button>
        {needOtp && (
          <button
            type="button"
            onClick={() => {
              setNeedOtp(false);
              setOtp('');
              setError(null);
            }}
          >
            Back
          </button>
        )}
        <details className="first-run">
          <summary>First start?</summary>
          <p className="small">
            Vigil created the user <code>admin</code> with a random password. The server printed it
            once and wrote it to <code>initial-admin-password</code> in its data directory (
            <code>./data</code> unless <code>storage.data_dir</code> says otherwise). You will be
            asked to choose your own after signing in.
          </p>
        </details>
      </form>
    </main>
  );
}
