import { ErrorView } from '../../ui/ErrorView';
import { Loading } from '../../ui/Page';
import { CountBar } from './CountBar';
import { useBreakdown, useFleetLiveness } from './queries';

/** Live hosts by what the connectivity worker's last probe found: a bar and its figures. */
export function LivenessPanel() {
  const q = useFleetLiveness();
  return (
    <section className="card health-panel" aria-labelledby="health-liveness">
      <h2 id="health-liveness">Liveness</h2>
      {q.isError ? (
        <ErrorView error={q.error} onRetry={() => void q.refetch()} />
      ) : !q.data ? (
        <Loading label="Loading liveness…" height={104} />
      ) : (
        <CountBar
          label="Hosts by liveness"
          parts={[
            { key: 'reachable', label: 'reachable', count: q.data.reachable, tone: 'ok' },
            { key: 'unreachable', label: 'unreachable', count: q.data.unreachable, tone: 'crit' },
            { key: 'unknown', label: 'unknown', count: q.data.unknown, tone: 'unknown' },
            { key: 'never', label: 'never probed', count: q.data.never_probed, tone: 'idle' },
          ]}
        />
      )}
      <p className="muted small">
        Unknown: the last probe is older than three connectivity intervals.
      </p>
    </section>
  );
}

/** The connectivity worker's SSH outcomes over the fleet and its commonest errors. */
export function ConnectivityPanel() {
  const q = useBreakdown();
  const d = q.data;
  return (
    <section className="card health-panel" aria-labelledby="health-connectivity">
      <h2 id="health-connectivity">Connectivity</h2>
      {q.isError ? (
        <ErrorView error={q.error} onRetry={() => void q.refetch()} />
      ) : !d ? (
        <Loading label="Loading connectivity…" height={104} />
      ) : (
        <>
          <p className="muted small">
            Of {d.total} live {d.total === 1 ? 'host' : 'hosts'}: {d.statuses.reachable} reachable,{' '}
            {d.statuses.unreachable} unreachable, {d.statuses.unknown} unknown,{' '}
            {d.statuses.never_probed} never probed.
          </p>
          <CountBar
            label="Hosts by SSH outcome"
            parts={[
              { key: 'ok', label: 'SSH ok', count: d.ssh.ok, tone: 'ok' },
              { key: 'failed', label: 'SSH failed', count: d.ssh.failed, tone: 'crit' },
              { key: 'none', label: 'not attempted', count: d.ssh.not_attempted, tone: 'idle' },
            ]}
          />
          {d.errors.length === 0 ? (
            <p className="muted small">No probe errors.</p>
          ) : (
            <table className="health-errors">
              <caption>Commonest probe errors</caption>
              <thead>
                <tr>
                  <th scope="col">Error</th>
                  <th scope="col" className="num">
                    Hosts
                  </th>
                </tr>
              </thead>
              <tbody>
                {d.errors.map((e) => (
                  <tr key={e.error}>
                    <td className="wrap-anywhere">{e.error}</td>
                    <td className="num">{e.hosts}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
