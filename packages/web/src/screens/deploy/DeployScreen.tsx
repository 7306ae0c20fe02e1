import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { useCan } from '../../app/session';
import { ErrorView } from '../../ui/ErrorView';
import { Loading, Page } from '../../ui/Page';
import { DeploymentHistory } from './DeploymentHistory';
import { HOSTS_KEY, fetchFleet } from '../fleet/live';
import { DiffView, isEmptyDiff } from './DiffView';
import { deployKeys, usePendingDiff } from './queries';
import '../config/config.css';
import './deploy.css';

/**
 * Deploy (`/deploy`): what the current configuration changes against the active deployment,
 * **Deploy** (`config:deploy`) to make it active, and the history of deployments with the
 * active one marked and each one's Icinga 2 rendering.
 */
export function DeployScreen() {
  const can = useCan();
  const qc = useQueryClient();
  const pending = usePendingDiff();
  const hosts = useQuery({
    queryKey: HOSTS_KEY,
    queryFn: fetchFleet,
    enabled: can('host:read'),
  });
  const hostPath = (name: string) => {
    const h = hosts.data?.items.find((x) => x.name === name);
    return h ? `/hosts/${encodeURIComponent(h.id)}` : undefined;
  };
  const deploy = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/deployments')),
    onSuccess: async () => {
      await Promise.all([
        qc.invalidateQueries({ queryKey: deployKeys.pending }),
        qc.invalidateQueries({ queryKey: deployKeys.list }),
      ]);
    },
  });
  const d = pending.data;
  const nothing = d ? d.from !== null && isEmptyDiff(d) : false;

  return (
    <Page
      title="Deploy"
      subtitle="Make the current configuration active: agents run what the active deployment gives them."
      actions={
        can('config:deploy') && (
          <button
            type="button"
            className="primary"
            disabled={deploy.isPending || !d}
            onClick={() => deploy.mutate()}
          >
            {deploy.isPending ? 'Deploying…' : 'Deploy'}
          </button>
        )
      }
    >
      <div className="deploy-result" role="status" aria-live="polite">
        {deploy.data &&
          (deploy.data.created ? (
            <p className="card ok-text">
              Deployed: <code>{deploy.data.checksum}</code>, {deploy.data.objects} objects.
            </p>
          ) : (
            <p className="card">
              No change: <code>{deploy.data.checksum}</code> was already deployed, and is active.
            </p>
          ))}
      </div>
      {deploy.error && <ErrorView error={deploy.error} />}
      <section className="card deploy-pending" aria-labelledby="pending-title">
        <h2 id="pending-title">Pending changes</h2>
        {pending.error ? (
          <ErrorView error={pending.error} onRetry={() => void pending.refetch()} />
        ) : !d ? (
          <Loading height={140} />
        ) : (
          <>
            <p className="muted small">
              {d.from === null ? (
                'Nothing is deployed yet: everything is new.'
              ) : (
                <>
                  Against the active deployment <code>{d.from.slice(0, 12)}</code>
                  {nothing ? ': nothing to deploy.' : '.'}
                </>
              )}
            </p>
            {!nothing && <DiffView diff={d} hostPath={hostPath} />}
          </>
        )}
      </section>
      <section aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        <DeploymentHistory />
      </section>
    </Page>
  );
}
