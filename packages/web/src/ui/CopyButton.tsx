import { useEffect, useState } from 'react';
import './copy.css';

/**
 * Copies `text` to the clipboard and says so for two seconds ("Copied"), in a live region so a
 * screen reader hears it. Where the clipboard is refused (an insecure origin, a denied
 * permission), it says to copy by hand instead of failing silently.
 */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const t = setTimeout(() => setState('idle'), 2500);
    return () => clearTimeout(t);
  }, [state]);
  return (
    <span className="copy">
      <button
        type="button"
        onClick={() => {
          navigator.clipboard
            .writeText(text)
            .then(() => setState('copied'))
            .catch(() => setState('failed'));
        }}
      >
        {label}
      </button>
      <span role="status" className="small muted copy-state">
        {state === 'copied' ? 'Copied' : state === 'failed' ? 'Select and copy by hand' : ''}
      </span>
    </span>
  );
}

/**
 * A value to copy: shown in a monospace box (selectable in one click) beside its Copy button.
 * `label` names it for screen readers and for the button ("Copy command").
 */
export function CopyField({ value, label }: { value: string; label: string }) {
  return (
    <div className="copy-field">
      <pre tabIndex={0} aria-label={label} className="copy-value">
        {value}
      </pre>
      <CopyButton text={value} label={`Copy ${label.toLowerCase()}`} />
    </div>
  );
}
