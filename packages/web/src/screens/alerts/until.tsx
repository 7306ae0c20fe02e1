/** `epoch ms` → the local `YYYY-MM-DDTHH:mm` a datetime-local input takes. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

/** A `datetime-local` value (local time) as RFC 3339, or null when empty or invalid. */
export function fromLocalInput(local: string): string | null {
  if (!local) return null;
  const t = new Date(local);
  return Number.isNaN(t.getTime()) ? null : t.toISOString();
}

const PRESETS = [
  { label: '1 h', ms: 3_600_000 },
  { label: '4 h', ms: 4 * 3_600_000 },
  { label: '24 h', ms: 24 * 3_600_000 },
  { label: '7 days', ms: 7 * 86_400_000 },
];

/**
 * An end time: a date-time input (local time) and presets that set it to that long from now.
 * `value` is the input's local text.
 */
export function UntilField(props: { label: string; value: string; onChange: (v: string) => void }) {
  return (
    <fieldset className="stack">
      <legend>{props.label}</legend>
      <div className="silence-presets">
        {PRESETS.map((p) => (
          <button
            key={p.label}
            type="button"
            aria-label={`For ${p.label}`}
            onClick={() => props.onChange(toLocalInput(Date.now() + p.ms))}
          >
            {p.label}
          </button>
        ))}
      </div>
      <label>
        Until (local time)
        <input
          type="datetime-local"
          required
          value={props.value}
          min={toLocalInput(Date.now())}
          onChange={(e) => props.onChange(e.target.value)}
        />
      </label>
    </fieldset>
  );
}
