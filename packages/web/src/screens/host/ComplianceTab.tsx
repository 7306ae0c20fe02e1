import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import type { Answer } from '../../api/types';
import { ErrorView } from '../../ui/ErrorView';
import { ago, dateTime } from '../../ui/format';
import { Loading } from '../../ui/Page';
import { scoreText, StatusChange } from '../health/badges';
import { AssignPacksHint } from '../health/ScorePanel';
import { ComplianceRules } from './ComplianceRules';
import '../health/health.css';

type HostCompliance = Answer<'/api/v1/hosts/{id}/compliance'>;

/**
 * A host's compliance: its score and counts, when its agent last evaluated which packs, the rules
 * with their state (each opening to rationale and remediation), and its newest changes.
 */
export function ComplianceTab({ hostId }: { hostId: string }) {
  const q = useQuery({
    queryKey: ['hosts', hostId, 'compliance'],
    queryFn: () =>
      unwrap(api.GET('/api/v1/hosts/{id}/compliance', { params: { path: { id: hostId } } })),
  });
  if (q.isError) return <ErrorView error={q.error} onRetry={() => void q.refetch()} />;
  if (!q.data) return <Loading label="Loading compliance…" height={320} />;
  const c = q.data;
  if (c.packs.length === 0 && c.unknown_packs.length === 0)
    return (
      <div className="card host-empty">
        <p>
          <strong>No compliance packs are assigned to this host.</strong>
        </p>
        <AssignPacksHint />
      </div>
    );
  return (
    <div className="stack compliance-tab">
      <Summary c={c} />
      {c.unknown_packs.length > 0 && (
        <p className="card tile-warn" role="note">
          <strong>Unknown packs:</strong> {c.unknown_packs.join(', ')}. No loaded pack has{' '}
          {c.unknown_packs.length === 1 ? 'this id' : 'these ids'}, so{' '}
          {c.unknown_packs.length === 1 ? 'it is' : 'they are'} ignored; check the host
          template&apos;s <code>compliance_packs</code> variable.
        </p>
      )}
      {c.evaluated_at === null && c.packs.length > 0 && (
        <p className="card muted">
          Waiting for the agent&apos;s first evaluation: it receives the packs with its next push
          and reports the results in the one after.
        </p>
      )}
      {c.rules.length > 0 && <ComplianceRules rules={c.rules} />}
      <Changes changes={c.changes} />
    </div>
  );
}

/** Score, counts by status, when and which packs. */
function Summary({ c }: { c: HostCompliance }) {
  const s = c.summary;
  return (
    <section aria-label="Compliance summary" className="stack compliance-summary">
      <dl className="summary-tiles">
        <div className="card">
          <dt>Score</dt>
          <dd>{scoreText(s.score)}</dd>
        </div>
        <div className={s.fail ? 'card tile-crit' : 'card'}>
          <dt>Failing</dt>
          <dd>{s.fail}</dd>
        </div>
        <div className="card">
          <dt>Passing</dt>
          <dd>{s.pass}</dd>
        </div>
        <div className={s.error ? 'card tile-warn' : 'card'}>
          <dt>Errors</dt>
          <dd>{s.error}</dd>
        </div>
        <div className="card">
          <dt>Not applicable</dt>
          <dd>{s.not_applicable}</dd>
        </div>
        <div className="card">
          <dt>Evaluated</dt>
          <dd className="small">
            {c.evaluated_at ? (
              <time dateTime={c.evaluated_at} title={dateTime(c.evaluated_at)}>
                {ago(c.evaluated_at)}
              </time>
            ) : (
              'not yet'
            )}
          </dd>
        </div>
      </dl>
      {c.packs.length > 0 && (
        <p className="muted small">
          Packs: {c.packs.map((p) => `${p.id} ${p.version}`).join(', ')}
        </p>
      )}
    </section>
  );
}

/** The host's newest compliance changes (as the host's answer carries them). */
function Changes({ changes }: { changes: HostCompliance['changes'] }) {
  return (
    <section aria-labelledby="host-compliance-recent">
      <h2 id="host-compliance-recent">Recent changes</h2>
      {changes.length === 0 ? (
        <p className="muted">No rule has changed status yet.</p>
      ) : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Recent changes table">
          <table>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Rule</th>
                <th scope="col">Change</th>
              </tr>
            </thead>
            <tbody>
              {changes.map((ch, i) => (
                <tr key={`${ch.pack}/${ch.rule_id}/${ch.at}/${i}`}>
                  <td className="nowrap-cell">
                    <time dateTime={ch.at} title={dateTime(ch.at)}>
                      {ago(ch.at)}
                    </time>
                  </td>
                  <td>{ch.title}</td>
                  <td className="change-cell">
                    <StatusChange from={ch.from} to={ch.to} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
