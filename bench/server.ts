// The benchmarks' server: a built `vigil serve` on a data directory, on loopback, with the
// settings a benchmark needs, and the one HTTPS request helper they share.
import { spawn, type ChildProcess } from 'node:child_process';
import https from 'node:https';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const VIGIL_BIN = path.join(ROOT, 'packages', 'server', 'bin', 'vigil.js');

/** A running server. */
export interface Server {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

/** How to start the server. */
export interface ServerOptions {
  dataDir: string;
  port: number;
  /** The first administrator's password. */
  adminPassword: string;
  /** Settings beside the defaults (auto-approval from loopback, log level `warn`). */
  env?: Record<string, string>;
  /** Flags for the server's Node (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

/**
 * Starts the built server; resolves once it listens. The environment's own `VIGIL_*` settings
 * are not passed on, so that a benchmark measures what it sets; `VIGIL_BENCH_SERVER_ENV` adds
 * settings (`KEY=value` pairs, space-separated) over everything else.
 */
export async function startServer(opts: ServerOptions): Promise<Server> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('VIGIL_')) env[k] = v;
  Object.assign(env, {
    VIGIL_STORAGE_DATA_DIR: opts.dataDir,
    VIGIL_SERVER_LISTEN: `127.0.0.1:${opts.port}`,
    VIGIL_ADMIN_PASSWORD: opts.adminPassword,
    VIGIL_AGENTS_AUTO_APPROVE_NETWORKS: '127.0.0.0/8',
    // Request lines at `info` would be one log line per request; large fleets log at `warn`.
    VIGIL_LOG_LEVEL: 'warn',
    ...opts.env,
  });
  for (const kv of (process.env.VIGIL_BENCH_SERVER_ENV ?? '').split(' ').filter(Boolean)) {
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  // VIGIL_BENCH_SERVER_NODE_ARGS passes flags to the server's Node (e.g. --cpu-prof).
  const nodeArgs =
    opts.nodeArgs ?? (process.env.VIGIL_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, VIGIL_BIN, 'serve'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start:\n${err}`)), 60_000);
    child.stderr!.on('data', (c) => {
      err += c;
      if (/^Vigil https:/m.test(err)) {
        clearTimeout(t);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}:\n${err}`)));
  });
  return {
    child,
    port: opts.port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** An answer: status, headers and body. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  raw: Buffer;
}

/** One HTTPS request on loopback; resolves with the answer. */
export function request(
  agent: https.Agent,
  port: number,
  method: string,
  pathName: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: pathName,
        method,
        agent,
        headers: {
          ...(body
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
            : {}),
          ...headers,
        },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(parts);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: raw.toString('utf8'),
            raw,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
