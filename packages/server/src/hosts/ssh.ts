import { createHash } from 'node:crypto';
import net from 'node:net';
import ssh2 from 'ssh2';

/** Where a host's SSH server listens. */
export interface SshTarget {
  host: string;
  port: number;
}

/** How to log in: a user with a key (and its passphrase), a password, or both. */
export interface SshAuth {
  username: string;
  privateKey?: string;
  passphrase?: string;
  password?: string;
}

/** Why a connection failed, as a closed set. */
export type SshFailure = 'refused' | 'timeout' | 'unreachable' | 'auth_failed' | 'ssh_error';

/** A failed connection: its kind and the library's or the kernel's words. */
export class SshError extends Error {
  constructor(
    readonly failure: SshFailure,
    message: string,
  ) {
    super(message);
    this.name = 'SshError';
  }
}

/** The output of one command. */
export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** An authenticated SSH connection. */
export interface SshSession {
  /** The server's host key, as `ssh-keygen -l` shows it (`SHA256:…`). */
  readonly hostKeyFingerprint: string | null;
  /** Runs one command (no terminal); output is cut at 1 MiB a stream. */
  exec(command: string, timeoutMs: number): Promise<ExecResult>;
  close(): void;
}

const MAX_OUTPUT = 1 << 20;

const failureOfSocket = (err: NodeJS.ErrnoException): SshFailure =>
  err.code === 'ECONNREFUSED'
    ? 'refused'
    : err.code === 'ETIMEDOUT'
      ? 'timeout'
      : err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH' || err.code === 'ENOTFOUND'
        ? 'unreachable'
        : 'ssh_error';

/**
 * Opens a TCP connection and closes it: whether the port accepts connections, and how long the
 * handshake took (ms).
 */
export function tcpProbe(
  target: SshTarget,
  timeoutMs: number,
): Promise<{ ok: true; ms: number } | { ok: false; failure: SshFailure; error: string }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.host, port: target.port });
    const done = (
      r: { ok: true; ms: number } | { ok: false; failure: SshFailure; error: string },
    ) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () => done({ ok: false, failure: 'timeout', error: `no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.once('connect', () =>
      done({ ok: true, ms: Math.max(0, Math.round(performance.now() - started)) }),
    );
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done({ ok: false, failure: failureOfSocket(err), error: err.message }),
    );
  });
}

/**
 * Connects, completes the SSH handshake and authenticates. The host key is recorded, not
 * verified: Vigil keeps no known-hosts list yet, so the answer names the key for the operator.
 * @throws SshError with `auth_failed` when the server refused every method offered.
 */
export function sshConnect(
  target: SshTarget,
  auth: SshAuth,
  timeoutMs: number,
): Promise<SshSession> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let hostKeyFingerprint: string | null = null;
    let settled = false;
    client.once('ready', () => {
      settled = true;
      resolve({
        hostKeyFingerprint,
        exec: (command, execTimeoutMs) => run(client, command, execTimeoutMs),
        close: () => client.end(),
      });
    });
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (settled) return;
      settled = true;
      client.end();
      const failure: SshFailure =
        err.level === 'client-authentication'
          ? 'auth_failed'
          : err.level === 'client-timeout'
            ? 'timeout'
            : err.level === 'client-socket'
              ? failureOfSocket(err)
              : 'ssh_error';
      reject(new SshError(failure, err.message));
    });
    client.connect({
      host: target.host,
      port: target.port,
      username: auth.username,
      privateKey: auth.privateKey,
      passphrase: auth.passphrase,
      password: auth.password,
      readyTimeout: timeoutMs,
      tryKeyboard: false,
      hostVerifier: (key: Buffer) => {
        hostKeyFingerprint = `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
        return true;
      },
    });
  });
}

function run(client: ssh2.Client, command: string, timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(new SshError('ssh_error', err.message));
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => {
        stream.close();
        reject(new SshError('timeout', `${command}: no end within ${timeoutMs} ms`));
      }, timeoutMs);
      stream.on('data', (b: Buffer) => {
        if (stdout.length < MAX_OUTPUT) stdout += b.toString('utf8');
      });
      stream.stderr.on('data', (b: Buffer) => {
        if (stderr.length < MAX_OUTPUT) stderr += b.toString('utf8');
      });
      stream.on('close', (code: number | null) => {
        clearTimeout(timer);
        resolve({ code: code ?? null, stdout, stderr });
      });
    });
  });
}
