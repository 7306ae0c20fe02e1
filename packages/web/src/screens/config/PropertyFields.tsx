import type { Json } from './json';
import type { Field } from './kinds';

/**
 * The form fields of a kind's common properties. An empty field leaves the property unset, so
 * that it is inherited; booleans offer "inherit", yes and no. The check command is picked from
 * `commands`, host groups from `groups`.
 */
export function PropertyFields(props: {
  fields: readonly Field[];
  value: Record<string, Json>;
  onChange: (properties: Record<string, Json>) => void;
  commands: readonly string[];
  groups: readonly string[];
  readOnly?: boolean;
}) {
  const set = (key: string, v: Json | undefined) => {
    const next = { ...props.value };
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) delete next[key];
    else next[key] = v;
    props.onChange(next);
  };
  const text = (key: string) => {
    const v = props.value[key];
    return v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  };
  return (
    <div className="config-grid">
      {props.fields.map((f) => {
        const hint = f.hint ? <span className="muted small">{f.hint}</span> : null;
        switch (f.type) {
          case 'boolean': {
            const v = props.value[f.key];
            return (
              <label key={f.key}>
                {f.label}
                <select
                  disabled={props.readOnly}
                  value={v === true ? 'y' : v === false ? 'n' : ''}
                  onChange={(e) =>
                    set(f.key, e.target.value === '' ? undefined : e.target.value === 'y')
                  }
                >
                  <option value="">Inherit</option>
                  <option value="y">Yes</option>
                  <option value="n">No</option>
                </select>
              </label>
            );
          }
          case 'command': {
            const v = text(f.key);
            const choices =
              v && !props.commands.includes(v) ? [v, ...props.commands] : props.commands;
            return (
              <label key={f.key}>
                {f.label}
                <select
                  disabled={props.readOnly}
                  value={v}
                  onChange={(e) => set(f.key, e.target.value)}
                >
                  <option value="">Inherit (none set here)</option>
                  {choices.map((c) => (
                    <option key={c} value={c}>
                      {c}
                    </option>
                  ))}
                </select>
              </label>
            );
          }
          case 'groups': {
            const chosen = Array.isArray(props.value[f.key])
              ? (props.value[f.key] as string[])
              : [];
            return (
              <fieldset key={f.key} className="config-fieldset">
                <legend>{f.label}</legend>
                {props.groups.length === 0 && <p className="muted small">No host group yet.</p>}
                {props.groups.map((g) => (
                  <label key={g} className="inline">
                    <input
                      type="checkbox"
                      disabled={props.readOnly}
                      checked={chosen.includes(g)}
                      onChange={(e) =>
                        set(
                          f.key,
                          e.target.checked ? [...chosen, g] : chosen.filter((x) => x !== g),
                        )
                      }
                    />
                    {g}
                  </label>
                ))}
              </fieldset>
            );
          }
          case 'textarea':
            return (
              <label key={f.key}>
                {f.label}
                <textarea
                  rows={2}
                  readOnly={props.readOnly}
                  value={text(f.key)}
                  onChange={(e) => set(f.key, e.target.value)}
                />
                {hint}
              </label>
            );
          default:
            return (
              <label key={f.key}>
                {f.label}
                <input
                  readOnly={props.readOnly}
                  inputMode={f.type === 'number' ? 'numeric' : undefined}
                  value={text(f.key)}
                  onChange={(e) => set(f.key, e.target.value)}
                />
                {hint}
              </label>
            );
        }
      })}
    </div>
  );
}
