import { useState } from 'react';

/**
 * A row's on/off switch: it turns at once when pressed and shows the server's answer once the
 * change is done (a refused change turns it back). `name` labels it for screen readers.
 */
export function EnabledToggle(props: {
  name: string;
  enabled: boolean;
  onToggle: (enabled: boolean) => Promise<unknown>;
}) {
  const [pending, setPending] = useState<boolean | null>(null);
  const checked = pending ?? props.enabled;
  return (
    <label className="inline">
      <input
        type="checkbox"
        checked={checked}
        disabled={pending !== null}
        onChange={(e) => {
          const next = e.target.checked;
          setPending(next);
          props
            .onToggle(next)
            // The failure is the mutation's to show.
            .catch(() => undefined)
            .finally(() => setPending(null));
        }}
      />
      <span className="visually-hidden">Enabled: {props.name}</span>
      <span aria-hidden="true">{checked ? 'on' : 'off'}</span>
    </label>
  );
}
