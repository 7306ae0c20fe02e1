import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { CheckData } from '@vigil/protocol';
import { realHost, type ExecFn, type Host } from '../src/host.js';

/** The fixture trees' folder. */
export const FIXTURES = path.join(import.meta.dirname, 'fixtures');

/** A host whose /proc, /sys and / are a fixture tree; helper programs are refused by default. */
export function fixtureHost(name: string, exec?: ExecFn): Host {
  const dir = path.join(FIXTURES, name);
  return realHost(
    { proc: path.join(dir, 'proc'), sys: path.join(dir, 'sys'), rootfs: path.join(dir, 'root') },
    exec ??
      (async (file) => {
        throw Object.assign(new Error(`spawn ${file} ENOENT`), { code: 'ENOENT' });
      }),
  );
}

/** The first schema violations of a document, as readable lines (empty when it validates). */
export function schemaErrors(doc: unknown): string[] {
  return [...Value.Errors(CheckData, doc)].slice(0, 10).map((e) => `${e.path}: ${e.message}`);
}
