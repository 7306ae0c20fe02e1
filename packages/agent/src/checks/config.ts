import { parseIni, parseIniBool, splitCommand } from '../ini.js';

/** One plugin check from `customchecks.ini`. */
export interface CustomCheck {
  /** The section name: the key of its result under `customchecks`. */
  readonly name: string;
  /** The command as written. */
  readonly command: string;
  /** The command split into words (used when no shell is set). */
  readonly argv: readonly string[];
  /** A shell to run the command with (`shell -c command`), or undefined to run it directly. */
  readonly shell: string | undefined;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly enabled: boolean;
}

/** The plugin checks of a `customchecks.ini`, and its `[default]` settings. */
export interface CustomChecksConfig {
  readonly checks: readonly CustomCheck[];
  /**
   * How many checks may run at the same time (`max_worker_threads` in `[default]`), or undefined
   * when the file does not say (the agent's `[vigil] check-concurrency` applies then).
   */
  readonly concurrency: number | undefined;
}

/** Defaults of a check's settings, as in the openITCOCKPIT agent. */
export const CHECK_DEFAULTS = { intervalSeconds: 60, timeoutSeconds: 60, enabled: true } as const;

/** A problem in a `customchecks.ini`, naming the check and the line. */
export class CustomChecksError extends Error {
  override name = 'CustomChecksError';
}

/** Keys a check section may hold. */
const CHECK_KEYS = new Set(['command', 'interval', 'timeout', 'enabled', 'shell']);

/**
 * Parses and validates a `customchecks.ini`. Throws `CustomChecksError` with a message naming the
 * check, the key and the line for: malformed INI, an unknown key, a missing command, a bad number
 * or boolean, a timeout longer than the interval, a command with an open quote.
 */
export function parseCustomChecks(text: string): CustomChecksConfig {
  let doc;
  try {
    doc = parseIni(text);
  } catch (err) {
    throw new CustomChecksError((err as Error).message);
  }
  let concurrency: number | undefined;
  const checks: CustomCheck[] = [];
  for (const section of doc.values()) {
    if (section.name === 'default') {
      const w = section.values.get('max_worker_threads');
      if (w) concurrency = positiveInt('[default]', 'max_worker_threads', w.value, w.line, 1, 256);
      continue;
    }
    const where = `check [${section.name}]`;
    for (const [key, { line }] of section.values)
      if (!CHECK_KEYS.has(key))
        throw new CustomChecksError(`${where}, line ${line}: unknown key "${key}"`);
    const get = (k: string) => section.values.get(k);
    const command = get('command');
    if (!command || command.value.trim() === '')
      throw new CustomChecksError(`${where}, line ${section.line}: "command" is missing or empty`);
    const interval = get('interval');
    const timeout = get('timeout');
    const enabled = get('enabled');
    const intervalSeconds = interval
      ? positiveInt(where, 'interval', interval.value, interval.line, 1, 86_400)
      : CHECK_DEFAULTS.intervalSeconds;
    const timeoutSeconds = timeout
      ? positiveInt(where, 'timeout', timeout.value, timeout.line, 1, 86_400)
      : Math.min(CHECK_DEFAULTS.timeoutSeconds, intervalSeconds);
    let isEnabled: boolean = CHECK_DEFAULTS.enabled;
    if (enabled) {
      const b = parseIniBool(enabled.value);
      if (b === undefined)
        throw new CustomChecksError(
          `${where}, line ${enabled.line}: "enabled" must be true or false, got "${enabled.value}"`,
        );
      isEnabled = b;
    }
    if (timeoutSeconds > intervalSeconds)
      throw new CustomChecksError(
        `${where}, line ${timeout?.line ?? section.line}: timeout (${timeoutSeconds} s) is longer than ` +
          `the interval (${intervalSeconds} s); a check must finish before its next run is due`,
      );
    const shell = get('shell')?.value.trim() || undefined;
    let argv: string[];
    try {
      argv = splitCommand(command.value);
    } catch (err) {
      throw new CustomChecksError(
        `${where}, line ${command.line}: cannot split "command": ${(err as Error).message}`,
      );
    }
    if (argv.length === 0)
      throw new CustomChecksError(`${where}, line ${command.line}: "command" is empty`);
    checks.push({
      name: section.name,
      command: command.value,
      argv,
      shell,
      intervalSeconds,
      timeoutSeconds,
      enabled: isEnabled,
    });
  }
  return { checks, concurrency };
}

/** Parses a whole number in [min, max] or throws naming the key and line. */
function positiveInt(
  where: string,
  key: string,
  raw: string,
  line: number,
  min: number,
  max: number,
): number {
  const v = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(v) || v < min || v > max)
    throw new CustomChecksError(
      `${where}, line ${line}: "${key}" must be a whole number from ${min} to ${max}, got "${raw}"`,
    );
  return v;
}
