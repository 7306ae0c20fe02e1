import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** The repository root. */
export const ROOT = path.resolve(import.meta.dirname, '..', '..');
/** The built `vigil` command. */
export const VIGIL_BIN = path.join(ROOT, 'packages', 'server', 'bin', 'vigil.js');

/** Servers started by this test process; any still running when it exits are killed. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** The parent environment without any VIGIL_* variable, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('VIGIL_')) env[k] = v;
  return { ...env, ...extra };
}

/** The bundled agent, `dist/vigil-agent.js`. */
export const AGENT_BUNDLE = path.join(ROOT, 'dist', 'vigil-agent.js');

/** How `runVigil` and `runAgent` run a command. */
export interface RunOptions {
  env?: Record<string, string>;
  stdin?: string;
  cwd?: string;
  timeoutMs?: number;
}

/** Runs `vigil ARGS` to completion. */
export function runVigil(
  args: string[],
  opts: RunOptions = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runNode(VIGIL_BIN, args, opts);
}

/** Runs the bundled `vigil-agent ARGS` (or another copy of the bundle) to completion. */
export function runAgent(
  args: string[],
  opts: RunOptions & { bundle?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runNode(opts.bundle ?? AGENT_BUNDLE, args, opts);
}

/** Runs `node SCRIPT ARGS` to completion. */
function runNode(
  script: string,
  args: string[],
  opts: RunOptions,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      env: cleanEnv(opts.env),
      cwd: opts.cwd ?? ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

/** A running `vigil serve`. */
export interface Served {
  readonly child: ChildProcess;
  readonly url: string;
  readonly port: number;
  /** Everything written to stderr so far (the human-readable notes). */
  stderr(): string;
  stdout(): string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  /** Sends SIGTERM, waits for the exit, and SIGKILLs after `ms`. */
  stop(ms?: number): Promise<number | null>;
}

/**
 * Starts `node SCRIPT ARGS`, tracked so that it is killed if the test process ends first, and
 * waits until `banner` matches its standard error (or fails after `timeoutMs`, or when it exits).
 */
function startLongRunning(
  name: string,
  script: string,
  args: string[],
  env: Record<string, string>,
  banner: RegExp,
  timeoutMs: number,
): Promise<{
  child: ChildProcess;
  match: RegExpExecArray;
  stderr: () => string;
  stdout: () => string;
  exited: Promise<number | null>;
  stop: (ms?: number) => Promise<number | null>;
}> {
  const child = spawn(process.execPath, [script, ...args], {
    env: cleanEnv(env),
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start:\n${err}\n${out}`));
    }, timeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${err}\n${out}`));
    });
    child.stderr!.on('data', (c) => {
      err += c;
      const match = banner.exec(err);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        child,
        match,
        stderr: () => err,
        stdout: () => out,
        exited,
        async stop(ms = 15_000) {
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), ms);
          const code = await exited;
          clearTimeout(t);
          return code;
        },
      });
    });
  });
}

/** Starts `vigil serve` and waits until it listens (it must print its URL within 60 s). */
export async function startServe(
  env: Record<string, string>,
  args: string[] = [],
): Promise<Served> {
  const s = await startLongRunning(
    'vigil serve',
    VIGIL_BIN,
    ['serve', ...args],
    env,
    /^Vigil (https?:\/\/\S+) \(listening on \S+:(\d+)\)$/m,
    60_000,
  );
  const port = Number(s.match[2]);
  return { ...s, port, url: s.match[1]!.replace(/:\d+$/, `:${port}`) };
}

/** A running `vigil worker`. */
export interface WorkerRun {
  readonly child: ChildProcess;
  /** Its worker id (`locked_by` of its jobs, `last_holder` of its periodic runs). */
  readonly workerId: string;
  stderr(): string;
  stdout(): string;
  /** Sends SIGTERM, waits for the exit, and SIGKILLs after `ms`. */
  stop(ms?: number): Promise<number | null>;
}

/** Starts `vigil worker` and waits for its banner (within 60 s). */
export async function startWorker(env: Record<string, string>): Promise<WorkerRun> {
  const s = await startLongRunning(
    'vigil worker',
    VIGIL_BIN,
    ['worker'],
    env,
    /^Vigil worker (\S+) on /m,
    60_000,
  );
  return { ...s, workerId: s.match[1]! };
}

/** A running `vigil-agent run`. */
export interface AgentRun {
  readonly child: ChildProcess;
  /** The URL its banner printed (`http://address:port/`). */
  readonly url: string;
  stderr(): string;
  /** Sends SIGTERM and resolves with the exit code (SIGKILL after `ms`). */
  stop(ms?: number): Promise<number | null>;
}

/**
 * Starts `vigil-agent run ARGS` and waits for its banner (within 30 s). With `webServer: false`
 * (openITCOCKPIT push mode) the banner names no URL and `url` is empty.
 */
export async function startAgentRun(
  args: string[],
  opts: { webServer?: boolean } = {},
): Promise<AgentRun> {
  const s = await startLongRunning(
    'vigil-agent run',
    AGENT_BUNDLE,
    ['run', ...args],
    {},
    opts.webServer === false
      ? /collecting every .*; (web server off)/m
      : /serving (https?:\/\/\S+\/)$/m,
    30_000,
  );
  return {
    child: s.child,
    url: opts.webServer === false ? '' : s.match[1]!,
    stderr: s.stderr,
    stop: s.stop,
  };
}
