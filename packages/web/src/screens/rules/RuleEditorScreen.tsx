import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { Link, navigate } from '../../app/router';
import { useCan } from '../../app/session';
import { ConfirmDialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';
import { Loading, Page } from '../../ui/Page';
import { bodyOf, draftOf, NEW_RULE, type RuleDraft } from './draft';
import { fieldErrorOf } from './field-errors';
import { LogCountFields } from './LogCountFields';
import { PreviewPanel } from './PreviewPanel';
import { RULES_KEY, ruleKey, useRule, type Rule } from './queries';
import {
  GeneralFields,
  KindFields,
  ScopeFields,
  ThresholdFields,
  TimingFields,
} from './RuleFields';
import '../config/config.css';
import './rules.css';

/**
 * One alert rule's editor (`/alerts/rules/:id`, `new` for a new one): kind, series and
 * matchers, levels with hysteresis, timing, scope and the kind's parameters. A refusal of the
 * server is shown on the field it names. Preview asks which hosts would fire now; readers see
 * the rule without the controls that change it.
 */
export function RuleEditorScreen({ id }: { id: string | null }) {
  const rule = useRule(id);
  if (id === null) return <RuleEditor rule={null} />;
  if (rule.error)
    return (
      <Page title="Alert rule">
        <ErrorView error={rule.error} onRetry={() => void rule.refetch()} />
      </Page>
    );
  if (!rule.data)
    return (
      <Page title="Alert rule">
        <Loading height={480} />
      </Page>
    );
  return <RuleEditor key={rule.data.id} rule={rule.data} />;
}

function RuleEditor({ rule }: { rule: Rule | null }) {
  const can = useCan();
  const write = can('alerts:write');
  const qc = useQueryClient();
  const [draft, setDraft] = useState<RuleDraft>(() => (rule ? draftOf(rule) : NEW_RULE));
  const [deleting, setDeleting] = useState(false);
  const builtin = rule?.builtin ?? false;
  const set = (patch: Partial<RuleDraft>) => setDraft((d) => ({ ...d, ...patch }));

  const save = useMutation({
    mutationFn: () => {
      const body = bodyOf(draft, builtin);
      return rule
        ? unwrap(
            api.PATCH('/api/v1/alerts/rules/{id}', { params: { path: { id: rule.id } }, body }),
          )
        : unwrap(api.POST('/api/v1/alerts/rules', { body }));
    },
    onSuccess: async (saved) => {
      qc.setQueryData(ruleKey(saved.id), saved);
      await qc.invalidateQueries({ queryKey: RULES_KEY, exact: true });
      navigate('/alerts/rules');
    },
  });
  const preview = useMutation({
    mutationFn: () =>
      unwrap(api.POST('/api/v1/alerts/rules:preview', { body: bodyOf(draft, false) })),
  });
  const remove = useMutation({
    mutationFn: (r: Rule) =>
      unwrap(api.DELETE('/api/v1/alerts/rules/{id}', { params: { path: { id: r.id } } })),
    onSuccess: async () => {
      setDeleting(false);
      await qc.invalidateQueries({ queryKey: RULES_KEY, exact: true });
      navigate('/alerts/rules');
    },
  });
  // The last refusal that names a field is shown on it, from saving or from the preview.
  const saveField = fieldErrorOf(save.error);
  const previewField = fieldErrorOf(preview.error);
  const fieldError = saveField ?? previewField;
  const readOnly = !write;
  const parts = { draft, set, error: fieldError, readOnly };

  function submit(e: FormEvent) {
    e.preventDefault();
    preview.reset();
    save.mutate();
  }

  return (
    <Page
      title={rule ? `Alert rule ${rule.name}` : 'New alert rule'}
      subtitle={
        <>
          <Link to="/alerts/rules">All rules</Link>
          {builtin && ' · Built-in: its kind, series and parameters are fixed.'}
        </>
      }
    >
      <form className="stack" onSubmit={submit} aria-label="Alert rule">
        <GeneralFields {...parts} fixedKind={rule !== null} />
        {draft.kind === 'threshold' ? (
          <ThresholdFields {...parts} builtin={builtin} />
        ) : draft.kind === 'log_count' ? (
          <LogCountFields {...parts} />
        ) : (
          <KindFields {...parts} builtin={builtin} />
        )}
        {draft.kind !== 'log_count' && <TimingFields {...parts} />}
        <ScopeFields {...parts} />
        {save.error && !saveField && <ErrorView error={save.error} />}
        <div className="actions">
          {write && rule && !builtin && (
            <button
              type="button"
              className="danger"
              onClick={() => {
                remove.reset();
                setDeleting(true);
              }}
            >
              Delete rule
            </button>
          )}
          {draft.kind === 'threshold' && (
            <button
              type="button"
              disabled={preview.isPending}
              onClick={() => {
                save.reset();
                preview.mutate();
              }}
            >
              Preview
            </button>
          )}
          {write && (
            <button type="submit" className="primary" disabled={save.isPending}>
              {rule ? 'Save rule' : 'Create rule'}
            </button>
          )}
        </div>
      </form>
      <PreviewPanel preview={preview.data} error={preview.error} showError={!previewField} />
      {rule && (
        <ConfirmDialog
          open={deleting}
          title={`Delete alert rule ${rule.name}?`}
          confirmLabel="Delete rule"
          danger
          busy={remove.isPending}
          onClose={() => setDeleting(false)}
          onConfirm={() => remove.mutate(rule)}
        >
          <p>The server stops checking it. This cannot be undone.</p>
          {remove.error && <ErrorView error={remove.error} />}
        </ConfirmDialog>
      )}
    </Page>
  );
}
