import { useQuery } from '@tanstack/react-query';
import { api, ApiError, unwrap } from '../../../api/client';
import { Link } from '../../../app/router';
import { useCan } from '../../../app/session';
import { ErrorView } from '../../../ui/ErrorView';
import { Loading } from '../../../ui/Page';
import { keyText, METHOD_TEXT } from '../../credentials/queries';

/**
 * Which credential the server signs in to the host with (`POST
 * /api/v1/hosts/{host_id}/credentials:resolve`): the host's own before the system default; never a
 * secret. Shown to who holds `credentials:read`.
 */
export function CredentialCard({ hostId }: { hostId: string }) {
  const can = useCan();
  const allowed = can('credentials:read');
  const resolved = useQuery({
    queryKey: ['hosts', hostId, 'credentials:resolve'],
    enabled: allowed,
    retry: false,
    queryFn: () =>
      unwrap(
        api.POST('/api/v1/hosts/{host_id}/credentials:resolve', {
          params: { path: { host_id: hostId } },
        }),
      ),
  });
  if (!allowed) return null;
  const none = resolved.error instanceof ApiError && resolved.error.status === 404;
  const r = resolved.data;
  return (
    <section className="card stack" aria-labelledby="credential-title">
      <h2 id="credential-title">Credential</h2>
      {none ? (
        <p>
          No credential resolves for this host: connectivity checks stop at TCP.{' '}
          <Link to="/credentials">Credentials</Link>
        </p>
      ) : resolved.error ? (
        <ErrorView error={resolved.error} onRetry={() => void resolved.refetch()} />
      ) : !r ? (
        <Loading height={60} />
      ) : (
        <p>
          <strong>{r.credential.name}</strong> (
          {r.source === 'host' ? "the host's own" : 'the system default'}
          ): user <code>{r.credential.username}</code>, {METHOD_TEXT[r.credential.auth_method]}
          {keyText(r.credential) ? (
            <>
              , key <code>{keyText(r.credential)}</code>
            </>
          ) : null}
          .
        </p>
      )}
    </section>
  );
}
