import { useState } from 'react';

/**
 * Edits an ordered list of imported templates: later imports override earlier ones, so the
 * order matters and each can move up or down. `available` lists the templates that can be
 * imported (the object itself and those already imported are left out of the picker).
 */
export function ImportsEditor(props: {
  value: readonly string[];
  available: readonly string[];
  onChange: (imports: string[]) => void;
  self?: string;
  readOnly?: boolean;
}) {
  const [pick, setPick] = useState('');
  const list = props.value;
  const choices = props.available.filter((t) => t !== props.self && !list.includes(t));
  const move = (i: number, by: number) => {
    const next = [...list];
    const [t] = next.splice(i, 1);
    next.splice(i + by, 0, t!);
    props.onChange(next);
  };
  return (
    <fieldset className="config-fieldset">
      <legend>Imports</legend>
      <p className="muted small">Templates in order: a later one overrides an earlier one.</p>
      {list.length === 0 ? (
        <p className="muted">No templates imported.</p>
      ) : (
        <ol className="import-list" aria-label="Imported templates">
          {list.map((t, i) => (
            <li key={t}>
              <code>{t}</code>
              {!props.readOnly && (
                <span className="import-actions">
                  <button
                    type="button"
                    className="small-button"
                    aria-label={`Move ${t} up`}
                    disabled={i === 0}
                    onClick={() => move(i, -1)}
                  >
                    ↑
                  </button>
                  <button
                    type="button"
                    className="small-button"
                    aria-label={`Move ${t} down`}
                    disabled={i === list.length - 1}
                    onClick={() => move(i, 1)}
                  >
                    ↓
                  </button>
                  <button
                    type="button"
                    className="small-button"
                    aria-label={`Remove import ${t}`}
                    onClick={() => props.onChange(list.filter((x) => x !== t))}
                  >
                    Remove
                  </button>
                </span>
              )}
            </li>
          ))}
        </ol>
      )}
      {!props.readOnly && (
        <div className="row">
          <label>
            Template to import
            <select value={pick} onChange={(e) => setPick(e.target.value)}>
              <option value="">
                {choices.length === 0 ? 'No other template' : 'Choose a template…'}
              </option>
              {choices.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            disabled={pick === ''}
            onClick={() => {
              props.onChange([...list, pick]);
              setPick('');
            }}
          >
            Add import
          </button>
        </div>
      )}
    </fieldset>
  );
}
