import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

/** Runs the agent's entry point (from source) with its standard output on a pipe. */
function runAgent(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, '..', 'src', 'main.ts'), ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('collect --once writes a document larger than a pipe buffer whole before it exits', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-cli-'));
  try {
    const config = path.join(dir, 'config.ini');
    writeFileSync(
      config,
      '[default]\nprocessstats = False\nsystemdservices = False\nntp = False\n' +
        'gpustats = False\nsmartstats = False\n[vigil]\ncheck-output-bytes = 300000\n',
    );
    // A custom check whose output alone is larger than the 64 KiB a pipe holds.
    writeFileSync(
      path.join(dir, 'customchecks.ini'),
      "[big]\ncommand = head -c 200000 /dev/zero | tr '\\\\0' a\nshell = /bin/sh\n",
    );
    const r = await runAgent(['collect', '--once', '--config', config]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.length > 200_000, `${r.stdout.length} characters`);
    const doc = JSON.parse(r.stdout) as { customchecks: { big: { stdout: string } } };
    assert.equal(doc.customchecks.big.stdout.length, 200_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
