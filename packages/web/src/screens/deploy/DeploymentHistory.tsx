import { useState } from 'react';
import { Dialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';
import { dateTime } from '../../ui/format';
import { Loading } from '../../ui/Page';
import { DiffView } from './DiffView';
import { useDeploymentDiff, useDeployments, useIcinga2, type Deployment } from './queries';

/**
 * Every deployment, newest first, the active one marked; each can be seen as Icinga 2 text, and
 * what it changed from the one before.
 */
export function DeploymentHistory() {
  const list = useDeployments();
  const [viewing, setViewing] = useState<Deployment | null>(null);
  const [comparing, setComparing] = useState<{ to: Deployment; from: Deployment } | null>(null);
  if (list.error) return <ErrorView error={list.error} onRetry={() => void list.refetch()} />;
  if (!list.data) return <Loading height={160} />;
  const items = list.data.pages.flatMap((p) => p.items);
  return (
    <>
      <div className="table-wrap" tabIndex={0} role="region" aria-label="Deployments table">
        <table aria-label="Deployments">
          <thead>
            <tr>
              <th scope="col">Deployed</th>
              <th scope="col">Checksum</th>
              <th scope="col" className="num">
                Objects
              </th>
              <th scope="col">By</th>
              <th scope="col">State</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.length === 0 && (
              <tr>
                <td colSpan={6} className="muted">
                  Nothing deployed yet.
                </td>
              </tr>
            )}
            {items.map((d, i) => (
              <tr key={d.id} aria-current={d.active ? 'true' : undefined}>
                <td>{dateTime(d.activated_at ?? d.created_at)}</td>
                <td>
                  <code title={d.checksum}>{d.checksum.slice(0, 12)}</code>
                </td>
                <td className="num">{d.objects}</td>
                <td>{d.created_by ?? '—'}</td>
                <td>{d.active ? <span className="badge status-active">active</span> : ''}</td>
                <td className="row-actions">
                  {items[i + 1] && (
                    <button
                      type="button"
                      className="small-button"
                      onClick={() => setComparing({ to: d, from: items[i + 1]! })}
                    >
                      Changes
                      <span className="visually-hidden"> of {d.checksum}</span>
                    </button>
                  )}
                  <button type="button" className="small-button" onClick={() => setViewing(d)}>
                    Icinga 2<span className="visually-hidden"> configuration of {d.checksum}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.hasNextPage && (
        <div className="actions">
          <button
            type="button"
            disabled={list.isFetchingNextPage}
            onClick={() => void list.fetchNextPage()}
          >
            Load more
          </button>
        </div>
      )}
      <Dialog
        open={viewing !== null}
        title={`Icinga 2 configuration ${viewing?.checksum.slice(0, 12) ?? ''}`}
        onClose={() => setViewing(null)}
        wide
      >
        {viewing && <Icinga2Text id={viewing.id} />}
      </Dialog>
      <Dialog
        open={comparing !== null}
        title={`Changes of ${comparing?.to.checksum.slice(0, 12) ?? ''}`}
        onClose={() => setComparing(null)}
        wide
      >
        {comparing && <Changes to={comparing.to} from={comparing.from} />}
      </Dialog>
    </>
  );
}

function Changes({ to, from }: { to: Deployment; from: Deployment }) {
  const diff = useDeploymentDiff({ id: to.id, against: from.id });
  if (diff.error) return <ErrorView error={diff.error} onRetry={() => void diff.refetch()} />;
  if (!diff.data) return <Loading height={160} />;
  return (
    <div className="stack">
      <p className="muted small">
        From <code>{from.checksum.slice(0, 12)}</code> to <code>{to.checksum.slice(0, 12)}</code>.
      </p>
      <DiffView diff={diff.data} />
    </div>
  );
}

function Icinga2Text({ id }: { id: string }) {
  const text = useIcinga2(id);
  if (text.error) return <ErrorView error={text.error} onRetry={() => void text.refetch()} />;
  if (text.data === undefined) return <Loading height={300} />;
  return (
    <pre className="icinga2-text" tabIndex={0} aria-label="Icinga 2 configuration">
      {text.data}
    </pre>
  );
}
