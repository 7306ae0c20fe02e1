import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LogLine, LogSink } from '../src/logs/model.js';

/** A fresh temporary folder. */
export const tempDir = (prefix: string): string =>
  mkdtempSync(path.join(os.tmpdir(), `vigil-${prefix}-`));

/**
 * A sink that keeps what it takes. `reject` makes calls fail (the lines are not taken);
 * `delayMs` makes each call slow. `calls` counts the calls, failed ones included.
 */
export function collectingSink(): {
  lines: LogLine[];
  sink: LogSink;
  calls: number;
  reject: boolean;
  delayMs: number;
} {
  const state = {
    lines: [] as LogLine[],
    calls: 0,
    reject: false,
    delayMs: 0,
    sink: (async (batch: LogLine[]) => {
      state.calls += 1;
      if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
      if (state.reject) throw new Error('buffer unavailable');
      state.lines.push(...batch);
    }) as LogSink,
  };
  return state;
}

/** Waits until `cond` holds, polling; fails with `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
