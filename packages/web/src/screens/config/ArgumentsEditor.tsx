import { useState } from 'react';
import type { Json } from './json';

interface Row {
  id: number;
  name: string;
  value: string;
  order: string;
  setIf: string;
}

let nextRow = 1;

function rowsOf(args: Record<string, Json> | undefined): Row[] {
  return Object.entries(args ?? {}).map(([name, a]) => {
    const o = a && typeof a === 'object' && !Array.isArray(a) ? a : { value: a };
    const s = (v: Json | undefined) => (v === undefined || v === null ? '' : String(v));
    return { id: nextRow++, name, value: s(o.value), order: s(o.order), setIf: s(o.set_if) };
  });
}

/** The arguments the rows describe, in the server's argument fields; empty names left out. */
function argsOf(rows: readonly Row[]): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const r of rows) {
    if (r.name.trim() === '') continue;
    const a: Record<string, Json> = {};
    if (r.value !== '') a.value = r.value;
    if (r.order.trim() !== '' && Number.isFinite(Number(r.order))) a.order = Number(r.order);
    if (r.setIf !== '') a.set_if = r.setIf;
    out[r.name.trim()] = a;
  }
  return out;
}

/**
 * Edits a command's arguments: each a key (`-H`, `--warning`), its value (with macros such as
 * `$address$`), its order and an optional `set_if` condition. The parent receives the arguments
 * after every change; mount it again (a new `key`) to show other arguments.
 */
export function ArgumentsEditor(props: {
  value: Record<string, Json> | undefined;
  onChange: (args: Record<string, Json>) => void;
  readOnly?: boolean;
}) {
  const [rows, setRows] = useState<Row[]>(() => rowsOf(props.value));
  const update = (next: Row[]) => {
    setRows(next);
    props.onChange(argsOf(next));
  };
  const set = (id: number, patch: Partial<Row>) =>
    update(rows.map((r) => (r.id === id ? { ...r, ...patch } : r)));
  return (
    <fieldset className="config-fieldset">
      <legend>Arguments</legend>
      <p className="muted small">
        Macros such as <code>$address$</code> or <code>$warning$</code> take the host&apos;s and
        service&apos;s variables. Lower orders come first.
      </p>
      {rows.length === 0 && <p className="muted">No arguments.</p>}
      <ul className="kv-rows">
        {rows.map((r, i) => (
          <li key={r.id} className="arg-row">
            <input
              aria-label={`Argument ${i + 1}`}
              placeholder="-H"
              readOnly={props.readOnly}
              value={r.name}
              onChange={(e) => set(r.id, { name: e.target.value })}
            />
            <input
              aria-label={`Value of argument ${r.name || i + 1}`}
              placeholder="$address$"
              readOnly={props.readOnly}
              value={r.value}
              onChange={(e) => set(r.id, { value: e.target.value })}
            />
            <input
              aria-label={`Order of argument ${r.name || i + 1}`}
              placeholder="order"
              inputMode="numeric"
              readOnly={props.readOnly}
              value={r.order}
              onChange={(e) => set(r.id, { order: e.target.value })}
            />
            <input
              aria-label={`Condition of argument ${r.name || i + 1}`}
              placeholder="set_if"
              readOnly={props.readOnly}
              value={r.setIf}
              onChange={(e) => set(r.id, { setIf: e.target.value })}
            />
            {!props.readOnly && (
              <button
                type="button"
                className="small-button"
                aria-label={`Remove argument ${r.name || i + 1}`}
                onClick={() => update(rows.filter((x) => x.id !== r.id))}
              >
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      {!props.readOnly && (
        <div>
          <button
            type="button"
            className="small-button"
            onClick={() =>
              setRows([...rows, { id: nextRow++, name: '', value: '', order: '', setIf: '' }])
            }
          >
            Add argument
          </button>
        </div>
      )}
    </fieldset>
  );
}
