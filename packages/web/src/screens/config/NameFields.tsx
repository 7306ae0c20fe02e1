import type { KindInfo } from './kinds';
import type { Draft } from './queries';

/**
 * An object's identity in its editor: its name (set when created, fixed after), a service's host
 * (the host or host template it is attached to), a command's type, and whether it is disabled.
 */
export function NameFields(props: {
  info: KindInfo;
  draft: Draft;
  isNew: boolean;
  readOnly: boolean;
  onChange: (d: Draft) => void;
}) {
  const { info, draft: d } = props;
  const set = (patch: Partial<Draft>) => props.onChange({ ...d, ...patch });
  return (
    <div className="config-grid">
      <label>
        Name
        <input
          required
          readOnly={!props.isNew || props.readOnly}
          value={d.object_name ?? ''}
          onChange={(e) => set({ object_name: e.target.value })}
        />
      </label>
      {info.id === 'services' && (
        <label>
          Host or host template
          <input
            required
            readOnly={!props.isNew || props.readOnly}
            value={d.host ?? ''}
            onChange={(e) => set({ host: e.target.value || null })}
          />
        </label>
      )}
      {info.id === 'commands' && (
        <label>
          Type
          <select
            disabled={!props.isNew || props.readOnly}
            value={d.object_type ?? 'object'}
            onChange={(e) => set({ object_type: e.target.value as 'object' | 'template' })}
          >
            <option value="object">Command</option>
            <option value="template">Command template</option>
          </select>
        </label>
      )}
      <label className="inline">
        <input
          type="checkbox"
          disabled={props.readOnly}
          checked={d.disabled ?? false}
          onChange={(e) => set({ disabled: e.target.checked })}
        />
        Disabled (kept, but left out of deployments)
      </label>
    </div>
  );
}
