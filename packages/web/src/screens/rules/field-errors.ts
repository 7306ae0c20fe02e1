import { ApiError } from '../../api/client';

/** A refusal of the server that names the field at fault, as its editor shows it. */
export interface FieldError {
  /** The field's path in the request body, dotted: `metric`, `settings.url`, `matchers.mount`. */
  field: string;
  /** What is wrong with it, as the server says. */
  message: string;
}

/**
 * The field a 400 `validation_failed` names, or null for any other failure. The services name
 * their field first (`critical: must be at least as far past the warning threshold`); the schema
 * check names it by its JSON path (`body/for_seconds must be >= 0`).
 */
export function fieldErrorOf(error: unknown): FieldError | null {
  if (!(error instanceof ApiError) || error.status !== 400) return null;
  const text = error.humanMessage;
  const named = /^([A-Za-z_][\w.-]*): (.+)$/s.exec(text);
  if (named) return { field: named[1]!, message: named[2]! };
  const path = /^body\/([\w/.-]+) (.+)$/s.exec(text);
  if (path) return { field: path[1]!.replaceAll('/', '.'), message: path[2]! };
  return null;
}

/**
 * Whether a field error concerns `field` or a part of it (`matchers` takes in `matchers.mount`;
 * `settings.url` only itself).
 */
export function concerns(error: FieldError | null, field: string): boolean {
  if (!error) return false;
  return error.field === field || error.field.startsWith(`${field}.`);
}
