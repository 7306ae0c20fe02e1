import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { CopyField } from '../../ui/CopyButton';
import { ErrorView } from '../../ui/ErrorView';
import { Loading } from '../../ui/Page';
import { dateTime } from '../../ui/format';

/** The server's CA (`GET /api/v1/tls/ca`): agents pin it by its SHA-256 fingerprint. */
export function useCa() {
  return useQuery({
    queryKey: ['tls', 'ca'],
    queryFn: () => unwrap(api.GET('/api/v1/tls/ca')),
    staleTime: Infinity,
  });
}

/**
 * The one-line command that enrolls a Vigil agent with this server: its address (the console's
 * own origin), the one-time `token` and the CA fingerprint, with a Copy button; then the token's
 * expiry and the fingerprint on its own, to compare with what `vigil serve` printed.
 */
export function EnrollCommand({ token, expiresAt }: { token: string; expiresAt?: string }) {
  const ca = useCa();
  if (ca.error) return <ErrorView error={ca.error} onRetry={() => void ca.refetch()} />;
  if (!ca.data) return <Loading label="Loading the CA fingerprint…" height={180} />;
  const fp = ca.data.fingerprint_sha256;
  const command = `vigil-agent enroll --server ${window.location.origin} --token ${token} --ca-fingerprint ${fp}`;
  return (
    <div className="stack">
      <p>
        Run this on the host, as the user the agent runs as, then start it with{' '}
        <code>vigil-agent run</code>:
      </p>
      <CopyField value={command} label="Enrollment command" />
      <p className="small">
        The token works once
        {expiresAt ? (
          <>
            {' '}
            and expires <strong>{dateTime(expiresAt)}</strong>
          </>
        ) : null}
        . It is not shown again; a new one can be issued from the agent&apos;s details.
      </p>
      <div className="fingerprint">
        <h3>CA fingerprint (SHA-256)</h3>
        <code aria-label="CA fingerprint">{fp}</code>
        <p className="small muted">
          The agent trusts only the CA with this fingerprint; compare it with the one{' '}
          <code>vigil serve</code> printed at start.
        </p>
      </div>
    </div>
  );
}
