import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { CheckData } from '@vigil/protocol';
import { realHost, type ExecFn, type Host } from '../src/host.js';

/** The fixture trees' folder. */
export const FIXTURES = path.join(import.meta.dirname, 'fixtures');

/**
 * A host whose /proc, /sys and / are a fixture tree; helper programs are refused by default. A
 * checkout does not keep the owners of the captured /proc/<pid> folders, so a process's owner is
 * taken from the `Uid:` line of its captured `status` file instead.
 */
export function fixtureHost(name: string, exec?: ExecFn): Host {
  const dir = path.join(FIXTURES, name);
  const host = realHost(
    { proc: path.join(dir, 'proc'), sys: path.join(dir, 'sys'), rootfs: path.join(dir, 'root') },
    exec ??
      (async (file) => {
        throw Object.assign(new Error(`spawn ${file} ENOENT`), { code: 'ENOENT' });
      }),
  );
  const owner = (rel: string): number | undefined => {
    const m = /^Uid:\s+(\d+)/m.exec(host.proc.tryRead(`${rel}/status`) ?? '');
    return m ? Number(m[1]) : undefined;
  };
  return { ...host, proc: { ...host.proc, owner } };
}

/** The first schema violations of a document, as readable lines (empty when it validates). */
export function schemaErrors(doc: unknown): string[] {
  return [...Value.Errors(CheckData, doc)].slice(0, 10).map((e) => `${e.path}: ${e.message}`);
}
