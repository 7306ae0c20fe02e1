import { ErrorView } from '../../ui/ErrorView';
import { Loading } from '../../ui/Page';
import { useRoles } from './queries';

/**
 * Checkboxes for the roles to hold, with each role's description, in a labelled group. `value`
 * and `onChange` carry role names.
 */
export function RolePicker(props: {
  legend: string;
  value: readonly string[];
  onChange: (names: string[]) => void;
}) {
  const roles = useRoles();
  if (roles.error) return <ErrorView error={roles.error} />;
  if (!roles.data) return <Loading label="Loading roles…" height={96} />;
  const toggle = (name: string, on: boolean) =>
    props.onChange(on ? [...props.value, name] : props.value.filter((n) => n !== name));
  return (
    <fieldset className="pick-list">
      <legend>{props.legend}</legend>
      {roles.data.map((r) => (
        <label key={r.id} className="inline pick">
          <input
            type="checkbox"
            checked={props.value.includes(r.name)}
            onChange={(e) => toggle(r.name, e.target.checked)}
          />
          <span>
            <strong>{r.name}</strong>
            {r.description && <span className="muted small"> — {r.description}</span>}
          </span>
        </label>
      ))}
    </fieldset>
  );
}
