import { useId, type InputHTMLAttributes } from 'react';
import { concerns, type FieldError } from './field-errors';

/** The element id of a field's error message, for `aria-describedby`. */
export const fieldErrorId = (field: string): string => `field-error-${field.replace(/\W/g, '-')}`;

/**
 * The attributes an input takes for the server's refusal of its field: `aria-invalid`, and
 * `aria-describedby` pointing at the message `FieldMessage` shows.
 */
export function invalidProps(error: FieldError | null, field: string) {
  return concerns(error, field)
    ? { 'aria-invalid': true as const, 'aria-describedby': fieldErrorId(field) }
    : {};
}

/** The server's refusal of one field, shown under it; nothing when the field is fine. */
export function FieldMessage({ error, field }: { error: FieldError | null; field: string }) {
  if (!concerns(error, field)) return null;
  return (
    <p id={fieldErrorId(field)} className="field-error" role="alert">
      {error!.field === field ? error!.message : `${error!.field}: ${error!.message}`}
    </p>
  );
}

/**
 * One labelled input of an editor with the server's refusal of its `field` under it. The
 * label text is the input's accessible name.
 */
export function Field(
  props: { label: string; field: string; error: FieldError | null; hint?: string } & Omit<
    InputHTMLAttributes<HTMLInputElement>,
    'onChange'
  > & { onValue: (v: string) => void },
) {
  const { label, field, error, hint, onValue, ...input } = props;
  const hintId = useId();
  const invalid = invalidProps(error, field);
  const describedBy =
    [invalid['aria-describedby'], hint ? hintId : undefined].filter(Boolean).join(' ') || undefined;
  return (
    <div>
      <label>
        {label}
        <input
          {...input}
          {...invalid}
          aria-describedby={describedBy}
          onChange={(e) => onValue(e.target.value)}
        />
      </label>
      {hint && (
        <p id={hintId} className="muted small field-hint">
          {hint}
        </p>
      )}
      <FieldMessage error={error} field={field} />
    </div>
  );
}
