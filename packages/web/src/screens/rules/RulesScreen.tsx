import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { Link, navigate } from '../../app/router';
import { useCan } from '../../app/session';
import { ErrorView } from '../../ui/ErrorView';
import { EnabledToggle } from './EnabledToggle';
import { logFilterOf, logsLink } from './log-rule';
import { duration } from '../../ui/format';
import { Loading, Page, StatusBadge } from '../../ui/Page';
import { conditionText, KIND_TEXT, RULES_KEY, ruleKey, useRules, type Rule } from './queries';
import { ThresholdsCard } from './ThresholdsCard';
import '../config/config.css';
import './rules.css';

/** A rule's scope in words: `hosts a, b · tags web`; `every host` when nothing restricts it. */
function scopeText(r: Rule): string {
  const parts = (
    [
      ['hosts', r.scope.host_ids],
      ['tags', r.scope.tags],
      ['environments', r.scope.environments],
      ['templates', r.scope.templates],
    ] as const
  )
    .filter(([, list]) => list && list.length > 0)
    .map(([name, list]) => `${name} ${list!.join(', ')}`);
  return parts.length ? parts.join(' · ') : 'every host';
}

/**
 * The alert rules (`/alerts/rules`): what the evaluator checks, built-in rules first, each with
 * its condition, `for`, scope and whether it is enabled; with `alerts:write` a rule is turned on
 * and off here and created or changed in its editor. Tyto's global thresholds sit below.
 */
export function RulesScreen() {
  const can = useCan();
  const qc = useQueryClient();
  const write = can('alerts:write');
  const list = useRules();
  const put = (rule: Rule) =>
    qc.setQueryData(RULES_KEY, (old: typeof list.data) =>
      old ? { ...old, items: old.items.map((x) => (x.id === rule.id ? rule : x)) } : old,
    );
  const toggle = useMutation({
    mutationFn: (v: { id: string; enabled: boolean }) =>
      unwrap(
        api.PATCH('/api/v1/alerts/rules/{id}', {
          params: { path: { id: v.id } },
          body: { enabled: v.enabled },
        }),
      ),
    onSuccess: (rule) => {
      put(rule);
      qc.setQueryData(ruleKey(rule.id), rule);
    },
  });

  return (
    <Page
      title="Alert rules"
      subtitle="What the server checks on every push. Built-in rules can be tuned and turned off, never deleted."
      actions={
        write && (
          <button type="button" className="primary" onClick={() => navigate('/alerts/rules/new')}>
            Create rule
          </button>
        )
      }
    >
      {toggle.error && <ErrorView error={toggle.error} />}
      {list.error ? (
        <ErrorView error={list.error} onRetry={() => void list.refetch()} />
      ) : !list.data ? (
        <Loading height={320} />
      ) : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Alert rules table">
          <table aria-label="Alert rules">
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col">Kind</th>
                <th scope="col">Condition</th>
                <th scope="col">For</th>
                <th scope="col">Scope</th>
                <th scope="col">Enabled</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((r) => (
                <tr key={r.id}>
                  <td>
                    <Link to={`/alerts/rules/${encodeURIComponent(r.id)}`}>{r.name}</Link>{' '}
                    {r.builtin && <span className="badge">built-in</span>}
                    {r.description && <div className="muted small">{r.description}</div>}
                  </td>
                  <td>{KIND_TEXT[r.kind]}</td>
                  <td>
                    <code className="rule-condition">{conditionText(r)}</code>
                    {r.kind === 'log_count' && (
                      <div className="small">
                        <Link
                          to={logsLink(logFilterOf(r.params))}
                          aria-label={`Log lines of ${r.name}`}
                        >
                          Show lines
                        </Link>
                      </div>
                    )}
                  </td>
                  <td className="nowrap">{r.for_seconds ? duration(r.for_seconds) : '—'}</td>
                  <td>{scopeText(r)}</td>
                  <td>
                    {write ? (
                      <EnabledToggle
                        name={r.name}
                        enabled={r.enabled}
                        onToggle={(enabled) => toggle.mutateAsync({ id: r.id, enabled })}
                      />
                    ) : (
                      <StatusBadge status={r.enabled ? 'active' : 'disabled'} />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ThresholdsCard />
    </Page>
  );
}
