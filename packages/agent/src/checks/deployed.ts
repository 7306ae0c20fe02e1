import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { CustomCheckResult, DeployedCheck } from '@vigil/protocol';
import { isRecord } from '@vigil/protocol/guards';
import { CHECK_DEFAULTS, type CustomCheck } from './config.js';

/** The checks a Vigil server deployed to this host, as its push answer named them. */
export interface DeployedSet {
  /** Identifies the set: the same checksum, the same checks ('' with no deployment). */
  readonly checksum: string;
  readonly checks: readonly DeployedCheck[];
}

/** What this agent allows of deployed checks (`[vigil] remote-checks` and `plugin-dirs`). */
export interface RemoteChecksPolicy {
  readonly enabled: boolean;
  /** Absolute directories the executables must lie in, after every symbolic link is resolved. */
  readonly pluginDirs: readonly string[];
}

/** A deployed check this agent will run, or one it refuses with the reason why. */
export type Admission =
  | { readonly ok: true; readonly check: CustomCheck }
  | { readonly ok: false; readonly name: string; readonly reason: string };

/**
 * Reads the `checks` and `checks_checksum` of a push answer; undefined when the answer has no
 * such fields (a server from before remote checks) or they are not of the documented shape.
 * Entries without a usable name or command are left out: they cannot be reported by name.
 */
export function deployedSetOf(answer: unknown): DeployedSet | undefined {
  if (!isRecord(answer)) return undefined;
  const { checks, checks_checksum: checksum } = answer;
  if (!Array.isArray(checks) || typeof checksum !== 'string') return undefined;
  const valid: DeployedCheck[] = [];
  for (const c of checks) {
    if (!isRecord(c) || typeof c.name !== 'string' || c.name === '') continue;
    if (!Array.isArray(c.command) || c.command.length === 0) continue;
    if (!c.command.every((a) => typeof a === 'string')) continue;
    const seconds = (v: unknown) =>
      typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 86_400 ? v : undefined;
    const interval = seconds(c.interval_seconds);
    const timeout = seconds(c.timeout_seconds);
    valid.push({
      name: c.name,
      command: c.command as string[],
      ...(interval === undefined ? {} : { interval_seconds: interval }),
      ...(timeout === undefined ? {} : { timeout_seconds: timeout }),
    });
  }
  return { checksum, checks: valid };
}

/** The real path of each plugin directory that exists; the others allow nothing. */
function realDirs(dirs: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of dirs) {
    try {
      out.push(realpathSync(d));
    } catch {
      // A directory that does not exist holds no plugin.
    }
  }
  return out;
}

/**
 * Decides whether a deployed check may run here. It may only when remote checks are on, its
 * executable (`command[0]`) is an absolute path without `..`, and that path, once every symbolic
 * link is resolved, names an executable regular file inside one of the plugin directories (also
 * resolved). The admitted check runs the resolved path directly, never through a shell: the
 * arguments reach the plugin as they are, whatever characters they hold.
 */
export function admitDeployedCheck(
  check: DeployedCheck,
  policy: RemoteChecksPolicy,
  dirs: readonly string[] = realDirs(policy.pluginDirs),
): Admission {
  const refuse = (reason: string): Admission => ({ ok: false, name: check.name, reason });
  if (!policy.enabled)
    return refuse('remote checks are off on this agent ([vigil] remote-checks = false)');
  const [file, ...args] = check.command;
  if (file === undefined || !path.isAbsolute(file))
    return refuse(`the executable must be an absolute path, got "${file ?? ''}"`);
  if (file.split('/').includes('..')) return refuse(`the executable path ${file} contains ".."`);
  let real: string;
  try {
    real = realpathSync(file);
  } catch (err) {
    return refuse(`cannot resolve ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const inside = dirs.find((d) => real.startsWith(d.endsWith('/') ? d : `${d}/`));
  if (!inside)
    return refuse(
      `${file}${real === file ? '' : ` (${real})`} is not inside the plugin directories ` +
        `([vigil] plugin-dirs: ${policy.pluginDirs.join(', ') || 'none'})`,
    );
  try {
    if (!statSync(real).isFile()) return refuse(`${file} is not a regular file`);
    accessSync(real, constants.X_OK);
  } catch {
    return refuse(`${file} is not executable`);
  }
  const intervalSeconds = check.interval_seconds ?? CHECK_DEFAULTS.intervalSeconds;
  const timeoutSeconds = Math.min(
    check.timeout_seconds ?? CHECK_DEFAULTS.timeoutSeconds,
    intervalSeconds,
  );
  return {
    ok: true,
    check: {
      name: check.name,
      command: [real, ...args].join(' '),
      argv: [real, ...args],
      shell: undefined,
      intervalSeconds,
      timeoutSeconds,
      enabled: true,
    },
  };
}

/**
 * Admits every check of a set, leaving out those named like a custom check (`customchecks.ini`
 * wins a name clash: its result keeps the name).
 */
export function admitDeployedSet(
  set: DeployedSet,
  policy: RemoteChecksPolicy,
  customNames: ReadonlySet<string>,
): Admission[] {
  const dirs = realDirs(policy.pluginDirs);
  const seen = new Set<string>();
  const out: Admission[] = [];
  for (const c of set.checks) {
    if (customNames.has(c.name) || seen.has(c.name)) continue;
    seen.add(c.name);
    out.push(admitDeployedCheck(c, policy, dirs));
  }
  return out;
}

/** The UNKNOWN result that reports a refused check, at `nowMs` (epoch ms). */
export function refusedResult(reason: string, nowMs: number): CustomCheckResult {
  const text = `UNKNOWN - deployed check refused by the agent: ${reason}`;
  return {
    stdout: text,
    rc: 3,
    execution_unix_timestamp_sec: Math.floor(nowMs / 1000),
    state: 'UNKNOWN',
    output: text,
    long_output: '',
    perfdata: [],
    duration_seconds: 0,
    timed_out: false,
    truncated: false,
  };
}
