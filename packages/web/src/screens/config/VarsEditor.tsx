import { useId, useState } from 'react';
import { parseValue, valueText, type Json } from './json';

interface Row {
  id: number;
  key: string;
  text: string;
}

let nextRow = 1;
const rowsOf = (vars: Record<string, Json>): Row[] =>
  Object.entries(vars).map(([key, v]) => ({ id: nextRow++, key, text: valueText(v) }));

/** The variables the rows describe: rows without a name are left out; a later name wins. */
function varsOf(rows: readonly Row[]): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const r of rows) if (r.key.trim() !== '') out[r.key.trim()] = parseValue(r.text);
  return out;
}

/**
 * Edits custom variables as rows of name and value. A value is read as JSON when it parses
 * (`80`, `true`, `["a","b"]`), otherwise as a string; each row says which. Rows can be added and
 * removed; the parent receives the variables after every change. The editor keeps its own rows
 * (a half-typed or repeated name stays on screen), so mount it again (a new `key`) to show other
 * variables.
 */
export function VarsEditor(props: {
  value: Record<string, Json>;
  onChange: (vars: Record<string, Json>) => void;
  readOnly?: boolean;
  legend?: string;
}) {
  const [rows, setRows] = useState<Row[]>(() => rowsOf(props.value));
  const hint = useId();
  const update = (next: Row[]) => {
    setRows(next);
    props.onChange(varsOf(next));
  };
  const names = rows.map((r) => r.key.trim());
  return (
    <fieldset className="config-fieldset">
      <legend>{props.legend ?? 'Custom variables'}</legend>
      <p id={hint} className="muted small">
        Values are JSON when they parse (<code>80</code>, <code>true</code>, <code>["a","b"]</code>
        ), otherwise text.
      </p>
      {rows.length === 0 && <p className="muted">No variables.</p>}
      <ul className="kv-rows">
        {rows.map((r, i) => {
          const parsed = parseValue(r.text);
          const type = Array.isArray(parsed) ? 'list' : parsed === null ? 'null' : typeof parsed;
          const repeated = r.key.trim() !== '' && names.indexOf(r.key.trim()) !== i;
          return (
            <li key={r.id} className="kv-row">
              <input
                value={r.key}
                readOnly={props.readOnly}
                placeholder="name"
                aria-label={`Variable name ${i + 1}`}
                aria-invalid={repeated || undefined}
                onChange={(e) =>
                  update(rows.map((x) => (x.id === r.id ? { ...x, key: e.target.value } : x)))
                }
              />
              <input
                value={r.text}
                readOnly={props.readOnly}
                placeholder="value"
                aria-describedby={hint}
                aria-label={`Value of ${r.key || `variable ${i + 1}`}`}
                onChange={(e) =>
                  update(rows.map((x) => (x.id === r.id ? { ...x, text: e.target.value } : x)))
                }
              />
              <span className="kv-type muted small">{repeated ? 'repeated' : type}</span>
              {!props.readOnly && (
                <button
                  type="button"
                  className="small-button"
                  aria-label={`Remove variable ${r.key || i + 1}`}
                  onClick={() => update(rows.filter((x) => x.id !== r.id))}
                >
                  Remove
                </button>
              )}
            </li>
          );
        })}
      </ul>
      {!props.readOnly && (
        <div>
          <button
            type="button"
            className="small-button"
            onClick={() => setRows([...rows, { id: nextRow++, key: '', text: '' }])}
          >
            Add variable
          </button>
        </div>
      )}
    </fieldset>
  );
}
