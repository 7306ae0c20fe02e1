import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { sessionKeys } from '../../app/session';
import { CopyField } from '../../ui/CopyButton';
import { ErrorView } from '../../ui/ErrorView';

/** The QR code of an `otpauth://` URI, as an SVG data URL an `<img>` shows (no script, no canvas). */
function useQrCode(uri: string | undefined): string | null {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    if (!uri) return setSrc(null);
    let live = true;
    // Loaded when needed: the encoder is a fifth of the console's script.
    import('qrcode')
      .then((m) => m.default.toString(uri, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' }))
      .then((svg) => live && setSrc(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`))
      .catch(() => live && setSrc(null));
    return () => {
      live = false;
    };
  }, [uri]);
  return src;
}

/**
 * Two-factor sign-in with an authenticator app: `POST /api/v1/auth/mfa:enroll` gives a new
 * secret (shown as a QR code and as text), and a current code from the app confirms it
 * (`POST /api/v1/auth/mfa:verify`); from then on sign-in asks for a code. `enabled` is what the
 * server says now (`mfa_enabled` of `/auth/me`).
 */
export function MfaSetup({ enabled }: { enabled: boolean }) {
  const qc = useQueryClient();
  const [code, setCode] = useState('');
  const enroll = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/auth/mfa:enroll')),
  });
  const verify = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/auth/mfa:verify', { body: { otp: code } })),
    onSuccess: () => {
      enroll.reset();
      setCode('');
      return qc.invalidateQueries({ queryKey: sessionKeys.me });
    },
  });
  const qr = useQrCode(enroll.data?.provisioning_uri);
  function submit(e: FormEvent) {
    e.preventDefault();
    verify.mutate();
  }

  if (enroll.data)
    return (
      <form className="stack" onSubmit={submit}>
        <ol className="mfa-steps">
          <li>
            Scan this code with an authenticator app (FreeOTP, Aegis, Google Authenticator…):
            <div className="qr">
              {qr && (
                <img src={qr} width={200} height={200} alt="QR code of the authenticator secret" />
              )}
            </div>
            Or enter the secret by hand:
            <CopyField value={enroll.data.secret} label="Secret" />
          </li>
          <li>
            <label>
              Code from the app
              <input
                inputMode="numeric"
                autoComplete="one-time-code"
                pattern="[0-9]{6}"
                maxLength={6}
                required
                value={code}
                onChange={(e) => setCode(e.target.value.replace(/\D/g, ''))}
              />
            </label>
          </li>
        </ol>
        {verify.error && <ErrorView error={verify.error} />}
        <div className="actions">
          <button type="button" onClick={() => enroll.reset()}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={verify.isPending}>
            Turn on two-factor sign-in
          </button>
        </div>
      </form>
    );
  return (
    <div className="stack">
      {verify.isSuccess ? (
        <p role="status" className="ok-text">
          Two-factor sign-in is on: sign-in now asks for a code from your app.
        </p>
      ) : (
        <p>
          Status: <strong>{enabled ? 'on' : 'off'}</strong>
          {enabled
            ? '. Setting it up again replaces the authenticator in use.'
            : '. With it on, signing in also asks for a code from an app on your phone.'}
        </p>
      )}
      {enroll.error && <ErrorView error={enroll.error} />}
      <div>
        <button type="button" disabled={enroll.isPending} onClick={() => enroll.mutate()}>
          {enabled || verify.isSuccess ? 'Set up a new authenticator' : 'Set up an authenticator'}
        </button>
      </div>
    </div>
  );
}
