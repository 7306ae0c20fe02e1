import type { FieldError } from './field-errors';
import { FieldMessage, invalidProps } from './FieldMessage';
import type { MatcherDraft } from './draft';

const OPS: readonly MatcherDraft['op'][] = ['=', '!=', '=~', '!~'];

/**
 * The label matchers of a threshold rule: one row per label (`mount = /`, `device =~ sd.*`),
 * added and removed by button. A regex is anchored at both ends, as PromQL's.
 */
export function MatchersEditor(props: {
  matchers: MatcherDraft[];
  onChange: (m: MatcherDraft[]) => void;
  error: FieldError | null;
  readOnly: boolean;
}) {
  const { matchers, onChange, error, readOnly } = props;
  const set = (i: number, patch: Partial<MatcherDraft>) =>
    onChange(matchers.map((m, j) => (j === i ? { ...m, ...patch } : m)));
  return (
    <fieldset className="config-fieldset">
      <legend>Label matchers</legend>
      {matchers.length === 0 && <p className="muted">Every series of the metric.</p>}
      {matchers.map((m, i) => {
        const field = `matchers.${m.label.trim()}`;
        return (
          <div key={i}>
            <div className="matcher-row">
              <label>
                Label
                <input
                  value={m.label}
                  readOnly={readOnly}
                  spellCheck={false}
                  aria-label={`Label of matcher ${i + 1}`}
                  {...invalidProps(error, field)}
                  onChange={(e) => set(i, { label: e.target.value })}
                />
              </label>
              <label>
                Match
                <select
                  value={m.op}
                  disabled={readOnly}
                  aria-label={`Operator of matcher ${i + 1}`}
                  onChange={(e) => set(i, { op: e.target.value as MatcherDraft['op'] })}
                >
                  {OPS.map((op) => (
                    <option key={op} value={op}>
                      {op}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                Value
                <input
                  value={m.value}
                  readOnly={readOnly}
                  spellCheck={false}
                  aria-label={`Value of matcher ${i + 1}`}
                  onChange={(e) => set(i, { value: e.target.value })}
                />
              </label>
              {!readOnly && (
                <button
                  type="button"
                  className="small-button"
                  onClick={() => onChange(matchers.filter((_, j) => j !== i))}
                >
                  Remove<span className="visually-hidden"> matcher {i + 1}</span>
                </button>
              )}
            </div>
            {m.label.trim() !== '' && <FieldMessage error={error} field={field} />}
          </div>
        );
      })}
      {error?.field === 'matchers' && <FieldMessage error={error} field="matchers" />}
      {!readOnly && (
        <div>
          <button
            type="button"
            className="small-button"
            onClick={() => onChange([...matchers, { label: '', op: '=', value: '' }])}
          >
            Add matcher
          </button>
        </div>
      )}
    </fieldset>
  );
}
