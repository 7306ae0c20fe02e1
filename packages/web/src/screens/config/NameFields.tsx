import { useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { HOSTS_KEY, fetchFleet } from '../fleet/live';
import type { KindInfo } from './kinds';
import { useObjects, type Draft } from './queries';

/** Suggestions for a service's host: every host template and host by name. */
function HostChoices({ id }: { id: string }) {
  const templates = useObjects('host-templates');
  const hosts = useQuery({ queryKey: HOSTS_KEY, queryFn: fetchFleet });
  const names = [
    ...(templates.data ?? []).map((t) => t.object_name),
    ...(hosts.data?.items ?? []).map((h) => h.name),
  ];
  return (
    <datalist id={id}>
      {[...new Set(names)].map((n) => (
        <option key={n} value={n} />
      ))}
    </datalist>
  );
}

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
  const listId = useId();
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
            list={listId}
            value={d.host ?? ''}
            onChange={(e) => set({ host: e.target.value || null })}
          />
          {props.isNew && <HostChoices id={listId} />}
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
