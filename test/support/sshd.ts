import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Where Debian's OpenSSH server lives. */
const SSHD = '/usr/sbin/sshd';

/** A real OpenSSH server on a loopback port, with a throwaway user to log in as. */
export interface Sshd {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The throwaway user (created with `useradd`, removed by `stop`). */
  readonly username: string;
  /** The user's password (set with `chpasswd`). */
  readonly password: string;
  /** An unencrypted ed25519 private key the server accepts (OpenSSH format). */
  readonly privateKey: string;
  /** An RSA private key the server accepts, encrypted with `passphrase`. */
  readonly encryptedKey: string;
  readonly passphrase: string;
  /** Kills the server by its PID, removes the user and the temporary files. */
  stop(): Promise<void>;
}

/**
 * Why an OpenSSH server cannot be started here, or undefined when it can: it needs Debian's
 * `openssh-server` and root (to create the user and to let sshd switch to it).
 */
export function sshdUnavailable(): string | undefined {
  if (!existsSync(SSHD)) return `${SSHD} is not installed (Debian package openssh-server)`;
  if (process.getuid?.() !== 0) return 'starting sshd with a test user needs root';
  return undefined;
}

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const keygen = (dir: string, name: string, type: string, passphrase = ''): string => {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', name, '-f', file]);
  return file;
};

/**
 * Starts `sshd -D -e -f <config>` on a free loopback port with its own host key, password and
 * public-key authentication, and a new user whose authorized keys are the two test keys. Resolves
 * once the port accepts connections. Under `CI=true` a missing sshd is an error for the caller to
 * raise (see `sshdUnavailable`), never a skip.
 */
export async function startSshd(): Promise<Sshd> {
  const why = sshdUnavailable();
  if (why) throw new Error(why);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-sshd-'));
  const username = `vt${randomBytes(5).toString('hex')}`;
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  const passphrase = `pp-${randomBytes(6).toString('hex')}`;
  const hostKey = keygen(dir, 'host_ed25519', 'ed25519');
  const userKey = keygen(dir, 'id_ed25519', 'ed25519');
  const rsaKey = keygen(dir, 'id_rsa', 'rsa', passphrase);
  const authorized = path.join(dir, 'authorized_keys');
  writeFileSync(
    authorized,
    readFileSync(`${userKey}.pub`, 'utf8') + readFileSync(`${rsaKey}.pub`, 'utf8'),
    { mode: 0o644 },
  );
  // sshd reads the authorized keys as the user: the directory must let it in.
  chmodSync(dir, 0o755);
  execFileSync('useradd', ['-M', '-d', dir, '-s', '/bin/sh', username]);
  execFileSync('chpasswd', { input: `${username}:${password}\n` });
  // Privilege separation needs this directory; Debian creates it only when the service starts.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const config = path.join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorized}`,
      'StrictModes no',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'UsePAM no',
      'PermitRootLogin no',
      `AllowUsers ${username}`,
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString('utf8')).slice(-8000);
  });
  const cleanup = () => {
    try {
      execFileSync('userdel', [username], { stdio: 'ignore' });
    } catch {
      // Already gone.
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const onExit = () => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    cleanup();
  };
  process.once('exit', onExit);
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`sshd exited: ${stderr}`);
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`sshd did not listen on ${port}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    process.removeListener('exit', onExit);
    onExit();
    throw err;
  }
  return {
    host: '127.0.0.1',
    port,
    username,
    password,
    privateKey: readFileSync(userKey, 'utf8'),
    encryptedKey: readFileSync(rsaKey, 'utf8'),
    passphrase,
    async stop() {
      process.removeListener('exit', onExit);
      if (child.pid !== undefined && child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        process.kill(child.pid, 'SIGTERM');
        await exited;
      }
      cleanup();
    },
  };
}
