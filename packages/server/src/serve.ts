import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { ownerOnly } from './files.js';
import path from 'node:path';
import { createVigil } from './app.js';
import { systemContext } from './audit/service.js';
import { parseListen, type Config } from './config/config.js';
import { createLogger } from './log.js';
import {
  ensureAutoTls,
  loadTlsFiles,
  openCertificateAuthority,
  type TlsMaterial,
} from './tls/pki.js';

/** The CA whose certificates agents present (the Vigil CA, also under certificate files). */
const agentCa = async (dataDir: string): Promise<string> =>
  (await openCertificateAuthority(path.join(dataDir, 'tls'))).caPem;

/** Where `serve` writes human-readable start-up notes (the JSON log goes to stdout). */
export interface ServeIo {
  note(line: string): void;
}

const displayHost = (host: string): string =>
  host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;

/**
 * The lines `vigil serve` prints first: the web console's URL and, while the admin still has the
 * generated initial password, the file that holds it (never the password itself).
 */
export function consoleNotes(url: string, initialPasswordFile: string | undefined): string[] {
  const lines = [`Vigil console: ${url}/`];
  if (initialPasswordFile) lines.push(`Initial admin password: ${initialPasswordFile}`);
  return lines;
}

/**
 * Creates the data directory, or tightens an existing one, to owner-only access (0700): it holds
 * the database, the keys and the initial admin password, and earlier versions left it 0755.
 * Returns its absolute path.
 */
export function prepareDataDir(dir: string): string {
  const dataDir = path.resolve(dir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  ownerOnly(dataDir, 0o700);
  ownerOnly(path.join(dataDir, 'initial-admin-password'));
  return dataDir;
}

/**
 * Runs the server until SIGTERM or SIGINT: prepares TLS, the store and the first admin, listens,
 * then shuts down gracefully — stops accepting, lets in-flight requests finish (bounded by
 * `server.shutdown_timeout_seconds`), closes the database and resolves.
 */
export async function serve(
  config: Config,
  io: ServeIo = { note: (l) => process.stderr.write(`${l}\n`) },
): Promise<void> {
  const logger = createLogger(config.log.level, { format: config.log.format });
  // Listen for the stop signals first: one that arrives during start-up stops the server as soon
  // as it is up, instead of killing the process half-way through.
  const stopSignal = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  const dataDir = prepareDataDir(config.storage.data_dir);

  let tls: TlsMaterial | undefined;
  if (config.server.tls === 'auto') tls = await ensureAutoTls(path.join(dataDir, 'tls'));
  else if (config.server.tls === 'files')
    tls = loadTlsFiles(config.server.tls_cert, config.server.tls_key);

  const vigil = await createVigil({
    config,
    logger,
    https: tls ? { cert: tls.cert, key: tls.key, ca: await agentCa(dataDir) } : undefined,
  });
  const admin = await vigil.identity.ensureFirstAdmin(
    config.admin.password || undefined,
    systemContext('bootstrap'),
  );
  const passwordFile = path.join(dataDir, 'initial-admin-password');
  const adminNotes: string[] = [];
  if (admin?.generated) {
    writeFileSync(passwordFile, `${admin.password}\n`, { mode: 0o600 });
    chmodSync(passwordFile, 0o600);
    adminNotes.push(`Created user 'admin' with password: ${admin.password}`);
    adminNotes.push(`  (also written to ${passwordFile}; change it after the first login)`);
  } else if (admin) {
    adminNotes.push(
      "Created user 'admin' with the password from admin.password (VIGIL_ADMIN_PASSWORD).",
    );
  }
  // The file is worth pointing to while it still opens the admin account.
  const initialPassword =
    existsSync(passwordFile) &&
    (await vigil.identity.passwordStillIs(
      'admin',
      readFileSync(passwordFile, 'utf8').replace(/\r?\n$/, ''),
    ))
      ? passwordFile
      : undefined;

  const { host, port } = parseListen(config.server.listen);
  await vigil.http.listen({ host, port });
  const address = vigil.http.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const url = `${tls ? 'https' : 'http'}://${displayHost(host)}:${boundPort}`;
  // One write, so that the banner reaches a pipe whole; the console first, before any log line.
  const banner = [
    ...consoleNotes(url, initialPassword),
    ...adminNotes,
    `Vigil ${url} (listening on ${host}:${boundPort})`,
  ];
  if (tls?.caFile) {
    banner.push(`  CA certificate: ${tls.caFile}`);
    banner.push(`  CA SHA-256 fingerprint: ${tls.fingerprint}`);
  } else if (tls) {
    banner.push(`  certificate SHA-256 fingerprint: ${tls.fingerprint}`);
  } else {
    banner.push(
      '  WARNING: TLS is off (server.tls = "off"): credentials and data travel in clear text.',
    );
  }
  io.note(banner.join('\n'));
  if (!tls) logger.warn('TLS is off: credentials and data travel in clear text');
  logger.info(
    { database: vigil.db.description, applied: vigil.migration.applied.map((m) => m.name) },
    'store ready',
  );
  logger.info(
    { url, port: boundPort, tls: tls?.origin ?? 'off', ca_fingerprint: tls?.fingerprint },
    'listening',
  );

  const signal = await stopSignal;
  logger.info({ signal }, 'shutting down: finishing in-flight requests');
  const force = setTimeout(() => {
    logger.warn('shutdown timeout reached: closing remaining connections');
    vigil.http.server.closeAllConnections();
  }, config.server.shutdown_timeout_seconds * 1000);
  force.unref();
  try {
    await vigil.close();
  } catch (err) {
    logger.error({ err }, 'error during shutdown');
  } finally {
    clearTimeout(force);
    logger.info('stopped');
    logger.flush();
  }
}

/**
 * Runs job workers until SIGTERM or SIGINT, without serving HTTP (`vigil worker`): builds the
 * same services as `serve` (so every handler the domains register exists here too), runs queued
 * jobs, and takes part in the leadership of periodic cluster work on the same database. On a
 * signal it stops claiming, waits for running jobs (bounded), gives leadership up and closes the
 * database.
 */
export async function worker(
  config: Config,
  io: ServeIo = { note: (l) => process.stderr.write(`${l}\n`) },
): Promise<void> {
  const logger = createLogger(config.log.level, { format: config.log.format });
  const stopSignal = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  prepareDataDir(config.storage.data_dir);
  const vigil = await createVigil({ config, logger, workers: true });
  // One line on standard error, as `serve` prints its banner: the worker is up.
  io.note(`Vigil worker ${vigil.jobs.workerId} on ${vigil.db.description}`);
  logger.info({ database: vigil.db.description, worker_id: vigil.jobs.workerId }, 'worker started');
  const signal = await stopSignal;
  logger.info({ signal }, 'worker stopping: finishing running jobs');
  try {
    await vigil.close();
  } catch (err) {
    logger.error({ err }, 'error during shutdown');
  } finally {
    logger.info('stopped');
    logger.flush();
  }
}
