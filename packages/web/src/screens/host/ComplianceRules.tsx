import { useMemo, useState } from 'react';
import type { Answer } from '../../api/types';
import { ago, dateTime } from '../../ui/format';
import { ComplianceStatusBadge, RuleSeverityBadge } from '../health/badges';

/** One rule of a host's assigned packs, with its state there. */
type HostRule = Answer<'/api/v1/hosts/{id}/compliance'>['rules'][number];

const STATUS_ORDER: Record<string, number> = { fail: 0, error: 1, pass: 2, not_applicable: 3 };
const SEVERITY_ORDER: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3 };
const FILTERS = [
  ['', 'Every status'],
  ['fail', 'Failing'],
  ['error', 'Errors'],
  ['pass', 'Passing'],
  ['not_applicable', 'Not applicable'],
  ['none', 'Not reported'],
] as const;

/**
 * The rules of a host's packs, failing ones first (worst severity first), filterable by status;
 * each row opens to what the probe found, why the rule matters, how to fix it, and where it comes
 * from.
 */
export function ComplianceRules({ rules }: { rules: readonly HostRule[] }) {
  const [status, setStatus] = useState('');
  const shown = useMemo(
    () =>
      rules
        .filter((r) => !status || (r.status ?? 'none') === status)
        .sort(
          (a, b) =>
            (STATUS_ORDER[a.status ?? ''] ?? 4) - (STATUS_ORDER[b.status ?? ''] ?? 4) ||
            (SEVERITY_ORDER[a.severity] ?? 4) - (SEVERITY_ORDER[b.severity] ?? 4) ||
            a.title.localeCompare(b.title),
        ),
    [rules, status],
  );
  return (
    <section aria-labelledby="host-compliance-rules">
      <div className="host-tab-bar">
        <h2 id="host-compliance-rules">Rules</h2>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            {FILTERS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <p className="muted small" role="status">
        {shown.length} of {rules.length} rules
      </p>
      {shown.length === 0 ? (
        <p className="card muted">No rule has this status.</p>
      ) : (
        <ul className="rule-list" aria-label="Compliance rules">
          {shown.map((r) => (
            <li key={`${r.pack}/${r.id}`}>
              <details className="rule-row">
                <summary>
                  <ComplianceStatusBadge status={r.status} />
                  <RuleSeverityBadge severity={r.severity} />
                  <span className="rule-title">{r.title}</span>
                </summary>
                <RuleBody rule={r} />
              </details>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** What an opened rule shows. */
function RuleBody({ rule: r }: { rule: HostRule }) {
  return (
    <div className="rule-body">
      <p className="muted small">
        <code>{r.id}</code> · pack {r.pack}
        {r.since && (
          <>
            {' '}
            · {r.status ?? 'state'} since{' '}
            <time dateTime={r.since} title={dateTime(r.since)}>
              {ago(r.since)}
            </time>
          </>
        )}
      </p>
      {r.detail && (
        <>
          <h3>Found</h3>
          <p className="wrap-anywhere">{r.detail}</p>
        </>
      )}
      <h3>Rationale</h3>
      <p>{r.rationale}</p>
      <h3>Remediation</h3>
      <pre>{r.remediation}</pre>
      {r.references.length > 0 && (
        <>
          <h3>References</h3>
          <ul>
            {r.references.map((ref) => (
              <li key={`${ref.framework} ${ref.section}`}>
                {ref.framework}, section {ref.section}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
