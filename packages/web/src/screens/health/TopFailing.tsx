import { useMemo } from 'react';
import { Link } from '../../app/router';
import { ErrorView } from '../../ui/ErrorView';
import { Loading } from '../../ui/Page';
import { RuleSeverityBadge, scoreText } from './badges';
import { usePackRules, useTopFailingHosts, useTopFailingRules } from './queries';

/** The rules failing on the most hosts; each title opens its rationale. */
export function TopFailingRules() {
  const q = useTopFailingRules();
  const rules = usePackRules();
  const rationale = useMemo(
    () => new Map((rules.data?.rules ?? []).map((r) => [`${r.pack}/${r.id}`, r.rationale])),
    [rules.data],
  );
  return (
    <section className="health-section" aria-labelledby="health-rules">
      <h2 id="health-rules">Top failing rules</h2>
      {q.isError ? (
        <ErrorView error={q.error} onRetry={() => void q.refetch()} />
      ) : !q.data ? (
        <Loading label="Loading failing rules…" height={160} />
      ) : q.data.rules.length === 0 ? (
        <p className="card muted">No rule fails on any host.</p>
      ) : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Top failing rules table">
          <table>
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col">Severity</th>
                <th scope="col" className="num">
                  Failing hosts
                </th>
              </tr>
            </thead>
            <tbody>
              {q.data.rules.map((r) => (
                <tr key={`${r.pack}/${r.rule_id}`}>
                  <td>
                    <details className="rule-more">
                      <summary>{r.title}</summary>
                      <p className="small">
                        {rationale.get(`${r.pack}/${r.rule_id}`) ?? ''}{' '}
                        <span className="muted">
                          ({r.pack} · <code>{r.rule_id}</code>)
                        </span>
                      </p>
                    </details>
                  </td>
                  <td>
                    <RuleSeverityBadge severity={r.severity} />
                  </td>
                  <td className="num">
                    {r.failing_hosts} / {r.hosts_evaluated}
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

/** The hosts failing the most rules, each a link to its compliance tab. */
export function TopFailingHosts() {
  const q = useTopFailingHosts();
  return (
    <section className="health-section" aria-labelledby="health-hosts">
      <h2 id="health-hosts">Top failing hosts</h2>
      {q.isError ? (
        <ErrorView error={q.error} onRetry={() => void q.refetch()} />
      ) : !q.data ? (
        <Loading label="Loading failing hosts…" height={160} />
      ) : q.data.hosts.length === 0 ? (
        <p className="card muted">No host fails a rule.</p>
      ) : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Top failing hosts table">
          <table>
            <thead>
              <tr>
                <th scope="col">Host</th>
                <th scope="col" className="num">
                  Failing rules
                </th>
                <th scope="col" className="num">
                  Score
                </th>
              </tr>
            </thead>
            <tbody>
              {q.data.hosts.map((h) => (
                <tr key={h.host_id}>
                  <td className="wrap-anywhere">
                    <Link to={`/hosts/${encodeURIComponent(h.host_id)}?tab=compliance`}>
                      {h.host_name}
                    </Link>
                  </td>
                  <td className="num">
                    {h.failing_rules} / {h.evaluated_rules}
                  </td>
                  <td className="num">{scoreText(h.score)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
