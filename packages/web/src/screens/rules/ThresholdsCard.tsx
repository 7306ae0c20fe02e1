import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { useCan } from '../../app/session';
import { ErrorView } from '../../ui/ErrorView';
import { Loading } from '../../ui/Page';
import { fieldErrorOf } from './field-errors';
import { FieldMessage, invalidProps } from './FieldMessage';
import { THRESHOLDS_KEY, useThresholds, type Thresholds } from './queries';

const FAMILIES = [
  ['cpu', 'CPU'],
  ['memory', 'Memory'],
  ['disk', 'Disk'],
] as const;
type Family = (typeof FAMILIES)[number][0];
type Draft = Record<Family, { warning: string; critical: string }>;

const draftOf = (t: Thresholds): Draft => ({
  cpu: { warning: String(t.cpu.warning), critical: String(t.cpu.critical) },
  memory: { warning: String(t.memory.warning), critical: String(t.memory.critical) },
  disk: { warning: String(t.disk.warning), critical: String(t.disk.critical) },
});

/**
 * Tyto's global thresholds (percent), which the built-in cpu, memory and disk rules read when
 * their own thresholds are empty: shown to `alerts:read`, changed with `alerts:write`
 * (`POST /api/v1/alerts/config`).
 */
export function ThresholdsCard() {
  const q = useThresholds();
  return (
    <section className="card rules-thresholds" aria-labelledby="thresholds-title">
      <h2 id="thresholds-title">Global thresholds</h2>
      <p className="muted">
        Percent used. The built-in CPU, memory and disk rules read these unless a rule, a host or a
        template sets its own.
      </p>
      {q.error ? (
        <ErrorView error={q.error} onRetry={() => void q.refetch()} />
      ) : !q.data ? (
        <Loading height={150} />
      ) : (
        <ThresholdsForm thresholds={q.data} />
      )}
    </section>
  );
}

function ThresholdsForm({ thresholds }: { thresholds: Thresholds }) {
  const write = useCan()('alerts:write');
  const qc = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => draftOf(thresholds));
  const [saved, setSaved] = useState(false);
  const save = useMutation({
    mutationFn: () => {
      const pair = (f: Family) => ({
        warning: Number(draft[f].warning),
        critical: Number(draft[f].critical),
      });
      return unwrap(
        api.POST('/api/v1/alerts/config', {
          body: { cpu: pair('cpu'), memory: pair('memory'), disk: pair('disk') },
        }),
      );
    },
    onSuccess: (t) => {
      qc.setQueryData(THRESHOLDS_KEY, t);
      setDraft(draftOf(t));
      setSaved(true);
    },
  });
  const fieldError = fieldErrorOf(save.error);
  function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    save.mutate();
  }
  return (
    <form className="stack" onSubmit={submit}>
      <div className="thresholds-grid">
        {FAMILIES.map(([f, label]) => (
          <fieldset key={f} className="config-fieldset">
            <legend>{label}</legend>
            {(['warning', 'critical'] as const).map((level) => {
              const field = `${f}.${level}`;
              return (
                <div key={level}>
                  <label>
                    {label} {level} (%)
                    <input
                      type="number"
                      inputMode="decimal"
                      min={0}
                      max={100}
                      step="any"
                      required
                      readOnly={!write}
                      value={draft[f][level]}
                      {...invalidProps(fieldError, field)}
                      onChange={(e) => {
                        setSaved(false);
                        setDraft({ ...draft, [f]: { ...draft[f], [level]: e.target.value } });
                      }}
                    />
                  </label>
                  <FieldMessage error={fieldError} field={field} />
                </div>
              );
            })}
          </fieldset>
        ))}
      </div>
      {save.error && !fieldError && <ErrorView error={save.error} />}
      {write && (
        <div className="actions">
          {saved && (
            <span role="status" className="ok-text">
              Thresholds saved.
            </span>
          )}
          <button type="submit" className="primary" disabled={save.isPending}>
            Save thresholds
          </button>
        </div>
      )}
    </form>
  );
}
