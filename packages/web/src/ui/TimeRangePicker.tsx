import { useEffect, useId, useState } from 'react';
import './time-range.css';

/** The ranges an operator picks from: live (the last 15 minutes, appended as data arrives). */
export type RangeChoice = 'live' | '1h' | '6h' | '24h' | '7d' | '30d' | 'custom';

/** A chosen range: a preset, or `custom` with its bounds (epoch milliseconds). */
export interface RangeValue {
  choice: RangeChoice;
  from?: number;
  to?: number;
}

/** How long each preset reaches back, in milliseconds (live: 15 minutes). */
export const RANGE_SPAN: Record<Exclude<RangeChoice, 'custom'>, number> = {
  live: 15 * 60_000,
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 24 * 3_600_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
};

const CHOICES: { id: RangeChoice; label: string }[] = [
  { id: 'live', label: 'Live' },
  { id: '1h', label: '1h' },
  { id: '6h', label: '6h' },
  { id: '24h', label: '24h' },
  { id: '7d', label: '7d' },
  { id: '30d', label: '30d' },
  { id: 'custom', label: 'Custom' },
];

/** Whether a text names a choice (from a URL, say). */
export const isRangeChoice = (s: string | null): s is RangeChoice =>
  CHOICES.some((c) => c.id === s);

/**
 * The bounds of a range as of `now` (epoch milliseconds): a preset reaches back from now; a
 * custom range without valid bounds is the last hour.
 */
export function resolveRange(v: RangeValue, now = Date.now()): { from: number; to: number } {
  if (v.choice === 'custom') {
    if (v.from !== undefined && v.to !== undefined && v.from < v.to)
      return { from: v.from, to: v.to };
    return { from: now - RANGE_SPAN['1h'], to: now };
  }
  return { from: now - RANGE_SPAN[v.choice], to: now };
}

/** `Date` → the local `YYYY-MM-DDTHH:mm` a datetime-local input takes. */
function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

/**
 * The time-range picker of charts: presets as toggle buttons, and a custom range with from/to
 * inputs (a drag-zoom on a chart sets one too, and shows it here).
 */
export function TimeRangePicker(props: { value: RangeValue; onChange: (v: RangeValue) => void }) {
  const { value, onChange } = props;
  const id = useId();
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    // Shows the custom range in effect (a drag-zoom's, say) in the inputs.
    if (value.choice === 'custom') {
      const r = resolveRange(value);
      setFrom(toLocalInput(r.from));
      setTo(toLocalInput(r.to));
    }
  }, [value]);
  const apply = () => {
    const f = Date.parse(from);
    const t = Date.parse(to);
    if (!Number.isFinite(f) || !Number.isFinite(t)) return setError('Enter both times.');
    if (f >= t) return setError('“From” must be before “To”.');
    setError(null);
    onChange({ choice: 'custom', from: f, to: t });
  };
  return (
    <div className="time-range">
      <div className="time-range-choices" role="group" aria-label="Time range">
        {CHOICES.map((c) => (
          <button
            key={c.id}
            type="button"
            aria-pressed={value.choice === c.id}
            onClick={() => {
              if (c.id !== 'custom') return onChange({ choice: c.id });
              const r = resolveRange(value);
              onChange({ choice: 'custom', from: r.from, to: r.to });
            }}
          >
            {c.label}
          </button>
        ))}
      </div>
      {value.choice === 'custom' && (
        <form
          className="time-range-custom"
          aria-describedby={error ? `${id}-err` : undefined}
          onSubmit={(e) => {
            e.preventDefault();
            apply();
          }}
        >
          <label>
            From
            <input type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />
          </label>
          <label>
            To
            <input type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />
          </label>
          <button type="submit">Apply</button>
          {error && (
            <p id={`${id}-err`} className="field-error" role="alert">
              {error}
            </p>
          )}
        </form>
      )}
    </div>
  );
}
