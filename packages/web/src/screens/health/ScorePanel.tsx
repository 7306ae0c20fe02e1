import { ErrorView } from '../../ui/ErrorView';
import { Loading } from '../../ui/Page';
import { scoreText } from './badges';
import { useFleetScore } from './queries';

/** How packs are assigned: the host template variable, shown wherever no result is there yet. */
export function AssignPacksHint() {
  return (
    <p className="small">
      Assign rule packs to hosts through their host template: set the variable{' '}
      <code>compliance_packs = [&quot;linux-baseline&quot;]</code> (under Configuration → Host
      templates). The hosts&apos; agents then evaluate the packs and report the results with their
      next pushes.
    </p>
  );
}

/** The fleet's compliance score: one big figure and what it is made of. */
export function ScorePanel() {
  const q = useFleetScore();
  return (
    <section className="card health-panel" aria-labelledby="health-score">
      <h2 id="health-score">Compliance score</h2>
      {q.isError ? (
        <ErrorView error={q.error} onRetry={() => void q.refetch()} />
      ) : !q.data ? (
        <Loading label="Loading the score…" height={104} />
      ) : q.data.passing_fraction === null ? (
        <div className="health-empty">
          <p>
            <strong>No compliance results yet.</strong>
          </p>
          <AssignPacksHint />
        </div>
      ) : (
        <>
          <p className="big-figure">
            {scoreText(q.data.passing_fraction)}
            <span className="visually-hidden"> passing</span>
          </p>
          <p className="muted">
            {q.data.passing} of {q.data.total_evaluations} rule evaluations pass on{' '}
            {q.data.hosts_evaluated} {q.data.hosts_evaluated === 1 ? 'host' : 'hosts'}.
          </p>
        </>
      )}
    </section>
  );
}
