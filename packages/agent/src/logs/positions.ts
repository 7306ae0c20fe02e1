import { readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../files.js';

/**
 * A source's persisted reading position (file offsets, the journal cursor, container times): one
 * JSON document in the state folder, replaced atomically (a temporary file, flushed, renamed), so
 * a crash leaves the previous position or the new one, never a torn file.
 */
export interface PositionFile<T> {
  /** The file's path. */
  readonly file: string;
  /** The saved position, or undefined when none is saved or the file is unreadable or malformed. */
  load(): T | undefined;
  /** Replaces the saved position. Throws when the state folder cannot be written. */
  save(value: T): void;
}

/**
 * The position file `<stateDir>/<name>.json`. `decode` turns the parsed JSON into the position,
 * or returns undefined for a document of the wrong shape (which then counts as no position).
 */
export function positionFile<T>(
  stateDir: string,
  name: string,
  decode: (json: unknown) => T | undefined,
): PositionFile<T> {
  const file = path.join(stateDir, `${name}.json`);
  return {
    file,
    load() {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        return undefined;
      }
      try {
        return decode(JSON.parse(text));
      } catch {
        return undefined;
      }
    },
    save(value) {
      writeFileAtomic(file, `${JSON.stringify(value)}\n`, { mode: 0o600 });
    },
  };
}
