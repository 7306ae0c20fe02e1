import { spawn } from 'node:child_process';
import type { CustomCheckResult } from '@vigil/protocol';
import { PLUGIN_STATES, parsePluginOutput } from '@vigil/protocol/perfdata';
import type { CustomCheck } from './config.js';

/** How one plugin run is bounded. */
export interface RunLimits {
  /** Bytes of standard output kept; the rest is dropped and the result marked truncated. */
  readonly maxOutputBytes: number;
}

/** The default bound on a plugin's kept output: 64 KiB, far more than any status line needs. */
export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;

/** How long to wait for a plugin's pipes to close after it exited (a child it left may hold them). */
const PIPE_GRACE_MS = 200;

/**
 * Runs one plugin once, following the Nagios plugin protocol: exit codes 0–3 are OK, WARNING,
 * CRITICAL and UNKNOWN; any other exit code, a signal, a failure to start or the timeout is
 * UNKNOWN. The plugin runs in its own process group, and on timeout the whole group is killed, so
 * that a shell's children die with it. The command is split into words and run without a shell
 * unless the check names one. Never rejects.
 */
export function runCheck(
  check: CustomCheck,
  limits: RunLimits = { maxOutputBytes: DEFAULT_MAX_OUTPUT_BYTES },
  now: () => number = Date.now,
  signal?: AbortSignal,
): Promise<CustomCheckResult> {
  const startedMs = now();
  const started = process.hrtime.bigint();
  const [file, ...args] = check.shell ? [check.shell, '-c', check.command] : check.argv;
  return new Promise((resolve) => {
    const finish = (rc: number, stdout: string, extra: Partial<CustomCheckResult> = {}) => {
      const parsed = parsePluginOutput(stdout);
      resolve({
        stdout,
        rc,
        execution_unix_timestamp_sec: Math.floor(startedMs / 1000),
        state: PLUGIN_STATES[rc] ?? 'UNKNOWN',
        output: parsed.output,
        long_output: parsed.longOutput,
        perfdata: parsed.perfdata,
        duration_seconds: Number(process.hrtime.bigint() - started) / 1e9,
        timed_out: false,
        truncated: false,
        ...extra,
      });
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file!, args, {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LC_ALL: 'C' },
      });
    } catch (err) {
      finish(3, `UNKNOWN - cannot run ${file}: ${(err as Error).message}`);
      return;
    }
    const chunks: Buffer[] = [];
    let kept = 0;
    let truncated = false;
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => {
      if (kept >= limits.maxOutputBytes) {
        truncated = true;
        return;
      }
      const room = limits.maxOutputBytes - kept;
      if (c.length > room) truncated = true;
      const part = c.length > room ? c.subarray(0, room) : c;
      chunks.push(part);
      kept += part.length;
    });
    child.stderr!.on('data', (c: Buffer) => {
      if (stderr.length < 4096) stderr += c.toString('utf8');
    });
    let timedOut = false;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, check.timeoutSeconds * 1000);
    // Stopping the agent kills a run in progress instead of waiting for its timeout.
    signal?.addEventListener('abort', killGroup, { once: true });
    let done = false;
    const settle = (rc: number, extraText?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', killGroup);
      let stdout = Buffer.concat(chunks).toString('utf8');
      if (extraText) stdout = stdout === '' ? extraText : stdout;
      finish(rc, stdout, { timed_out: timedOut, truncated });
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      settle(3, `UNKNOWN - cannot run ${file}: ${err.code ?? err.message}`);
    });
    child.once('exit', (code, signal) => {
      const result = (): [number, string | undefined] => {
        if (timedOut) return [3, `UNKNOWN - check timed out after ${check.timeoutSeconds} seconds`];
        if (signal) return [3, `UNKNOWN - plugin was killed by ${signal}`];
        if (code !== null && code >= 0 && code <= 3) return [code, stderr.trim() || undefined];
        return [
          3,
          `UNKNOWN - plugin exited with code ${code}${stderr ? `: ${stderr.trim()}` : ''}`,
        ];
      };
      const [rc, text] = result();
      // Output still in the pipes arrives before 'close'; a child the plugin left behind may keep
      // them open, so do not wait for it longer than a moment.
      const grace = setTimeout(() => {
        child.stdout!.destroy();
        child.stderr!.destroy();
        settle(rc, timedOut ? text : (text ?? undefined));
      }, PIPE_GRACE_MS);
      child.once('close', () => {
        clearTimeout(grace);
        settle(rc, text);
      });
      if (timedOut) {
        clearTimeout(grace);
        child.stdout!.destroy();
        child.stderr!.destroy();
        // The timeout message replaces whatever partial output there was.
        chunks.length = 0;
        settle(rc, text);
      }
    });
  });
}
