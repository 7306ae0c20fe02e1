import { useMemo } from 'react';
import { ErrorView } from '../../ui/ErrorView';
import { Loading } from '../../ui/Page';
import { useRegistry } from './queries';

/** Whether `pattern` (`*`, `domain:*`, `*:action` or a name) grants `name`. */
export function grants(pattern: string, name: string): boolean {
  if (pattern === '*' || pattern === name) return true;
  const [pd, pa] = pattern.split(':');
  const [nd, na] = name.split(':');
  return (pd === '*' && pa === na) || (pa === '*' && pd === nd);
}

/** Draws the `code` spans of a registry description as code. */
function withCode(text: string) {
  return text.split('`').map((part, i) => (i % 2 ? <code key={i}>{part}</code> : part));
}

/**
 * Picks a role's permissions from the registry: patterns that grant many (`*`, `*:read`,
 * `domain:*`) and each permission with its description, grouped by domain. A permission a chosen
 * pattern already grants shows as granted and cannot be unticked on its own. Entries the
 * registry does not know are kept as they are.
 */
export function PermissionPicker(props: {
  value: readonly string[];
  onChange: (v: string[]) => void;
  disabled?: boolean;
}) {
  const registry = useRegistry();
  const groups = useMemo(() => {
    const out = new Map<string, { name: string; description: string }[]>();
    for (const p of registry.data?.permissions ?? []) {
      const d = p.name.split(':')[0]!;
      out.set(d, [...(out.get(d) ?? []), p]);
    }
    return [...out.entries()].sort(([a], [b]) => a.localeCompare(b));
  }, [registry.data]);
  const actions = useMemo(
    () => [...new Set((registry.data?.permissions ?? []).map((p) => p.name.split(':')[1]!))].sort(),
    [registry.data],
  );
  if (registry.error) return <ErrorView error={registry.error} />;
  if (!registry.data) return <Loading label="Loading permissions…" height={200} />;

  const chosen = new Set(props.value);
  const set = (name: string, on: boolean) =>
    props.onChange(on ? [...props.value, name] : props.value.filter((v) => v !== name));
  const coveredBy = (name: string) => props.value.find((p) => p !== name && grants(p, name));
  const box = (name: string, label: React.ReactNode, description?: string) => {
    const by = coveredBy(name);
    return (
      <label key={name} className="inline pick">
        <input
          type="checkbox"
          disabled={props.disabled || (by !== undefined && !chosen.has(name))}
          checked={chosen.has(name) || by !== undefined}
          onChange={(e) => set(name, e.target.checked)}
        />
        <span>
          {label}
          {description && <span className="muted small"> — {withCode(description)}</span>}
          {by !== undefined && !chosen.has(name) && (
            <span className="muted small">
              {' '}
              (granted by <code>{by}</code>)
            </span>
          )}
        </span>
      </label>
    );
  };
  const known = new Set([
    '*',
    ...actions.map((a) => `*:${a}`),
    ...groups.map(([d]) => `${d}:*`),
    ...registry.data.permissions.map((p) => p.name),
  ]);
  const other = props.value.filter((v) => !known.has(v));

  return (
    <div className="permission-picker">
      <fieldset className="pick-list">
        <legend>Patterns</legend>
        {box('*', <code>*</code>, 'Everything, including permissions added later.')}
        {actions.map((a) =>
          box(`*:${a}`, <code>*:{a}</code>, `Every “${a}” permission of every area.`),
        )}
      </fieldset>
      {groups.map(([domain, perms]) => (
        <fieldset key={domain} className="pick-list">
          <legend>{domain}</legend>
          {box(`${domain}:*`, <code>{domain}:*</code>, `All of ${domain}.`)}
          {perms.map((p) => box(p.name, <code>{p.name}</code>, p.description))}
        </fieldset>
      ))}
      {other.length > 0 && (
        <fieldset className="pick-list">
          <legend>Other entries</legend>
          {other.map((o) => box(o, <code>{o}</code>))}
        </fieldset>
      )}
    </div>
  );
}
