import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Debian's icinga2 binary. */
export const ICINGA2 = '/usr/sbin/icinga2';

/** What `icinga2 daemon -C` said of a configuration. */
export interface Icinga2Validation {
  ok: boolean;
  /** True when icinga2 is not installed (never under CI=true: then the call throws). */
  skipped: boolean;
  reason?: string;
  /** Its output: the errors when the configuration is invalid. */
  output: string;
}

/**
 * Why Icinga 2 cannot be used here, or null when it can. Under CI=true a missing binary is an
 * error: CI installs it, so its absence must fail the run rather than skip checks.
 */
export function icinga2Missing(): string | null {
  if (existsSync(ICINGA2)) return null;
  const reason = `${ICINGA2} is not installed (apt-get install icinga2)`;
  if (process.env.CI === 'true') throw new Error(reason);
  return reason;
}

/**
 * Validates Icinga 2 object definitions with `icinga2 daemon -C`, in a throwaway configuration
 * directory that includes the Icinga Template Library and the plugin check commands, with
 * `PluginDir` set to Debian's plugin directory and the cache in the throwaway directory, so
 * that nothing is left behind.
 */
export async function validateIcinga2(objects: string): Promise<Icinga2Validation> {
  const missing = icinga2Missing();
  if (missing) return { ok: false, skipped: true, reason: missing, output: '' };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-icinga2-'));
  try {
    // icinga2 drops to its own user to write its cache: the directory must let it.
    chmodSync(dir, 0o755);
    const cache = path.join(dir, 'cache');
    mkdirSync(cache);
    chmodSync(cache, 0o777);
    writeFileSync(path.join(dir, 'objects.conf'), objects);
    writeFileSync(
      path.join(dir, 'icinga2.conf'),
      [
        'const PluginDir = "/usr/lib/nagios/plugins"',
        'include <itl>',
        'include <plugins>',
        'include "objects.conf"',
        '',
      ].join('\n'),
    );
    for (const f of ['objects.conf', 'icinga2.conf']) chmodSync(path.join(dir, f), 0o644);
    return await new Promise<Icinga2Validation>((resolve) => {
      execFile(
        ICINGA2,
        ['daemon', '-C', '-c', path.join(dir, 'icinga2.conf'), `-DConfiguration.CacheDir=${cache}`],
        { timeout: 120_000, maxBuffer: 16 << 20 },
        (err, stdout, stderr) =>
          resolve({ ok: !err, skipped: false, output: `${stdout}${stderr}` }),
      );
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
