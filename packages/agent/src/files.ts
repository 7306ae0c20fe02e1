import {
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  closeSync,
  renameSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

/**
 * Writes a file atomically: a temporary file beside it, flushed, then renamed over it, so a crash
 * leaves the old or the new content, never half of one. With `backup`, the previous file is kept
 * as `<file>.bak`.
 */
export function writeFileAtomic(
  file: string,
  content: string,
  opts: { mode?: number; backup?: boolean } = {},
): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', opts.mode ?? 0o640);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (opts.backup && existsSync(file)) copyFileSync(file, `${file}.bak`);
  renameSync(tmp, file);
}
