import { execFile } from 'node:child_process';
import {
  closeSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  readlinkSync,
  statSync,
} from 'node:fs';
import { statfs } from 'node:fs/promises';
import path from 'node:path';

/**
 * One file tree the collectors read (the real /proc, or a fixture copy of it). Paths are relative
 * to its root; the root is injected, never a global, so tests point it at fixtures.
 *
 * Reads are synchronous on purpose: procfs and sysfs files are generated in memory by the kernel
 * and never wait for a disk, and a synchronous read costs a fraction of an asynchronous one in
 * Node (no thread-pool round trip per open, read and close), which matters for the process list.
 */
export interface SourceTree {
  /** The root directory. */
  readonly root: string;
  /** Reads a text file; throws when it is missing or unreadable. */
  read(rel: string): string;
  /** Reads a text file, or returns undefined when it is missing or unreadable. */
  tryRead(rel: string): string | undefined;
  /** Reads a binary file, or returns undefined when it is missing or unreadable. */
  tryBytes(rel: string): Buffer | undefined;
  /** Lists a directory's entries, or returns [] when it is missing or unreadable. */
  list(rel: string): string[];
  /** Reads a symbolic link, or returns undefined. */
  link(rel: string): string | undefined;
  /** The numeric owner (uid) of a file or directory, or undefined when it is missing. */
  owner(rel: string): number | undefined;
}

/** Runs a program and returns its standard output; rejects on failure, a non-zero exit or timeout. */
export type ExecFn = (
  file: string,
  args: readonly string[],
  opts?: { timeoutMs?: number },
) => Promise<string>;

/** File-system usage of one mount point, in bytes. */
export interface FsUsage {
  total: number;
  free: number;
  available: number;
  inodesTotal: number;
  inodesFree: number;
}

/** Everything the collectors may touch on the machine, injected so tests can replace it. */
export interface Host {
  /** The procfs tree (normally /proc). */
  readonly proc: SourceTree;
  /** The sysfs tree (normally /sys). */
  readonly sys: SourceTree;
  /** The root file system (for /etc/os-release, /run/utmp, dpkg's status file …). */
  readonly rootfs: SourceTree;
  /** Runs a helper program where no file holds the data (systemctl, nvidia-smi, smartctl). */
  readonly exec: ExecFn;
  /** File-system usage of a mount point (statfs). */
  readonly usage: (mountpoint: string) => Promise<FsUsage>;
}

/** One scratch buffer for every small read: /proc files are read whole, many times a cycle. */
const scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * Reads a whole file with open/read/close into the scratch buffer: procfs files report size 0, so
 * `readFileSync` would stat, then grow a fresh buffer for each; this allocates only the string.
 */
function readText(file: string): string {
  const fd = openSync(file, 'r');
  try {
    let len = 0;
    for (;;) {
      const n = readSync(fd, scratch, len, scratch.length - len, null);
      if (n === 0) return scratch.toString('utf8', 0, len);
      len += n;
      if (len === scratch.length) {
        // Larger than the scratch buffer (a big mounts table, dpkg's status file): read the rest
        // the ordinary way.
        const rest = readFileSync(fd);
        return scratch.toString('utf8', 0, len) + rest.toString('utf8');
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** A source tree rooted at `root`. */
export function sourceTree(root: string): SourceTree {
  const abs = (rel: string) => path.join(root, rel);
  const attempt = <T>(fn: () => T, fallback: T): T => {
    try {
      return fn();
    } catch {
      return fallback;
    }
  };
  return {
    root,
    read: (rel) => readText(abs(rel)),
    tryRead: (rel) => attempt<string | undefined>(() => readText(abs(rel)), undefined),
    tryBytes: (rel) => attempt<Buffer | undefined>(() => readFileSync(abs(rel)), undefined),
    list: (rel) => attempt(() => readdirSync(abs(rel)), [] as string[]),
    link: (rel) => attempt<string | undefined>(() => readlinkSync(abs(rel)), undefined),
    owner: (rel) => statSync(abs(rel), { throwIfNoEntry: false })?.uid,
  };
}

/** The default bound on a helper program's run time. */
const EXEC_TIMEOUT_MS = 10_000;

/** Runs a program without a shell, in the C locale, bounded in time and output. */
export const execProgram: ExecFn = (file, args, opts = {}) =>
  new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        timeout: opts.timeoutMs ?? EXEC_TIMEOUT_MS,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, LC_ALL: 'C' },
        encoding: 'utf8',
      },
      // A failed run keeps what it printed: some tools (smartctl) report through exit codes.
      (err, stdout) => (err ? reject(Object.assign(err, { stdout })) : resolve(stdout)),
    );
  });

/** The machine this process runs on, or one whose /proc, /sys and / live under other roots. */
export function realHost(
  roots: { proc?: string; sys?: string; rootfs?: string } = {},
  exec: ExecFn = execProgram,
): Host {
  return {
    proc: sourceTree(roots.proc ?? '/proc'),
    sys: sourceTree(roots.sys ?? '/sys'),
    rootfs: sourceTree(roots.rootfs ?? '/'),
    exec,
    usage: async (mountpoint) => {
      const s = await statfs(mountpoint);
      return {
        total: s.blocks * s.bsize,
        free: s.bfree * s.bsize,
        available: s.bavail * s.bsize,
        inodesTotal: s.files,
        inodesFree: s.ffree,
      };
    },
  };
}
