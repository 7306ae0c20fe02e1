import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { ExecFn } from '../host.js';

/**
 * What the probes may read and ask, injected so that tests point them at fixture trees. Every
 * probe is read-only. Files are read under `root` (`/` in production); the two questions no file
 * answers on every system, whether a unit is active and whether an rpm package is installed, are
 * functions: production asks systemctl and rpm (only when `root` is `/`), tests answer from the
 * fixture.
 */
export interface ProbeContext {
  /** The root the probes' absolute paths are read under. */
  readonly root: string;
  /** Where procfs is mounted (normally `<root>/proc`). */
  readonly procRoot: string;
  /**
   * Whether a systemd unit is active (`systemctl is-active`); undefined when that cannot be asked
   * here. Throws with a reason (systemctl missing, timed out).
   */
  readonly isActive?: (unit: string) => Promise<boolean>;
  /**
   * Whether an rpm package is installed (`rpm -q`), used where dpkg's status file is missing;
   * undefined when there is no rpm database to ask. Throws with a reason.
   */
  readonly rpmInstalled?: (name: string) => Promise<boolean>;
  /**
   * Pending security updates from the agent's last package scan, or why that number is not
   * known (`no package inventory yet`, the update check is off or failed).
   */
  readonly securityUpdates: () => number | string;
}

/** The most bytes read of one file (configuration files are small; more is not looked at). */
export const MAX_FILE_BYTES = 1024 * 1024;
/** The most bytes read of dpkg's status file (several MiB on a large system). */
export const MAX_DPKG_STATUS_BYTES = 64 * 1024 * 1024;
/** The longest a helper program may run, in milliseconds. */
export const COMMAND_TIMEOUT_MS = 10_000;

/** A file read under the root: its text, or why there is none. */
export type ReadResult =
  | { readonly ok: true; readonly text: string; readonly truncated: boolean }
  | { readonly ok: false; readonly missing: boolean; readonly reason: string };

/** The path of `abs` (absolute on the agent's machine) under `root`. */
export const under = (root: string, abs: string): string =>
  root === '/' ? path.normalize(abs) : path.join(root, abs);

/** Why a file operation failed, in words, with the path as the probe named it. */
export function reasonOf(err: unknown, shown: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return `permission denied reading ${shown}`;
  if (code === 'ENOENT' || code === 'ENOTDIR') return `${shown} does not exist`;
  return `cannot read ${shown}: ${code ?? (err as Error).message}`;
}

/** Reads at most `maxBytes` of a regular file; never throws. */
export async function readBounded(
  file: string,
  shown: string,
  maxBytes = MAX_FILE_BYTES,
): Promise<ReadResult> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      ok: false,
      missing: code === 'ENOENT' || code === 'ENOTDIR',
      reason: reasonOf(err, shown),
    };
  }
  try {
    const st = await fh.stat();
    if (!st.isFile())
      return { ok: false, missing: false, reason: `${shown} is not a regular file` };
    // procfs files report size 0: read in chunks until the end or the bound.
    const chunks: Buffer[] = [];
    let len = 0;
    while (len < maxBytes) {
      const chunk = Buffer.alloc(Math.min(maxBytes - len, Math.max(st.size - len, 64 * 1024)));
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead));
      len += bytesRead;
    }
    const buf = Buffer.concat(chunks, len);
    return { ok: true, text: buf.toString('utf8'), truncated: len === maxBytes };
  } catch (err) {
    return { ok: false, missing: false, reason: reasonOf(err, shown) };
  } finally {
    await fh.close();
  }
}

/**
 * The files a path names: itself, or with a `*` in its last segment, the matching entries of its
 * directory (sorted). Paths are absolute on the agent's machine, not under the root.
 */
export async function expandPath(root: string, pattern: string): Promise<string[]> {
  const base = path.posix.basename(pattern);
  if (!base.includes('*')) return [pattern];
  const dir = path.posix.dirname(pattern);
  const re = new RegExp(
    `^${base
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]*')}$`,
  );
  let names: string[];
  try {
    names = await readdir(under(root, dir));
  } catch {
    return [];
  }
  return names
    .filter((n) => re.test(n) && !n.startsWith('.'))
    .sort()
    .map((n) => path.posix.join(dir, n));
}

/**
 * What a failed program said on its standard error (the lines after execFile's `Command failed`),
 * as `: <first line>`, or '' when it said nothing.
 */
function whyFailed(err: unknown): string {
  const said = String((err as Error).message ?? '')
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .find((l) => l !== '');
  return said ? `: ${said.slice(0, 160)}` : '';
}

/** The states `systemctl is-active` prints for a unit that runs (or is about to). */
const ACTIVE = new Set(['active', 'reloading', 'activating', 'refreshing']);

/**
 * The probe context of this machine: files under `root` and `procRoot`; systemctl and rpm asked
 * only when `root` is `/` (under another root they would answer for the wrong system).
 */
export function systemProbeContext(opts: {
  root: string;
  procRoot: string;
  exec: ExecFn;
  securityUpdates: () => number | string;
}): ProbeContext {
  const { exec } = opts;
  const missing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';
  const timedOut = (err: unknown) => (err as { killed?: boolean }).killed === true;
  const local = path.resolve(opts.root) === '/';
  return {
    root: opts.root,
    procRoot: opts.procRoot,
    securityUpdates: opts.securityUpdates,
    ...(local
      ? {
          isActive: async (unit: string) => {
            try {
              const out = await exec('systemctl', ['is-active', '--', unit], {
                timeoutMs: COMMAND_TIMEOUT_MS,
              });
              return ACTIVE.has(out.trim());
            } catch (err) {
              if (missing(err)) throw new Error('systemctl is not installed', { cause: err });
              if (timedOut(err)) throw new Error('systemctl is-active timed out', { cause: err });
              // A non-zero exit is the answer for an inactive, failed or unknown unit.
              const out = String((err as { stdout?: unknown }).stdout ?? '').trim();
              if (out === '')
                throw new Error(`systemctl is-active ${unit} failed${whyFailed(err)}`, {
                  cause: err,
                });
              return ACTIVE.has(out);
            }
          },
          rpmInstalled: async (name: string) => {
            try {
              await exec('rpm', ['-q', '--quiet', '--', name], { timeoutMs: COMMAND_TIMEOUT_MS });
              return true;
            } catch (err) {
              if (missing(err))
                throw new Error('neither dpkg nor rpm is installed', { cause: err });
              if (timedOut(err)) throw new Error('rpm -q timed out', { cause: err });
              return false;
            }
          },
        }
      : {}),
  };
}
