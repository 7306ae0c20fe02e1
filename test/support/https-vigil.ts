import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { DeployedChecks } from '../../packages/server/src/agents/push-routes.js';
import { createVigil, type Vigil } from '../../packages/server/src/app.js';
import { systemContext } from '../../packages/server/src/audit/service.js';
import { loadConfig } from '../../packages/server/src/config/config.js';
import { ensureAutoTls, openCertificateAuthority } from '../../packages/server/src/tls/pki.js';
import type { DatabaseKind } from './databases.js';

/** A server of the test's own, listening on HTTPS on loopback, as agents reach it. */
export interface HttpsVigil {
  vigil: Vigil;
  /** `https://127.0.0.1:<port>`. */
  url: string;
  /** The SHA-256 fingerprint of its CA, as `vigil-agent enroll` is given it. */
  fingerprint: string;
  /** A bearer token of the first administrator. */
  admin: string;
  dataDir: string;
  /** Closes the server, drops its database and removes its data directory. */
  close(): Promise<void>;
}

/**
 * Starts a real server in this process on a database of `kind`, with automatic TLS and agents
 * reporting every second, listening on a free loopback port; `env` adds settings.
 */
export async function startHttpsVigil(
  kind: DatabaseKind,
  opts: { password: string; env?: Record<string, string>; deployedChecks?: DeployedChecks },
): Promise<HttpsVigil> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-https-'));
  const config = loadConfig({
    file: path.join(dataDir, 'absent.toml'),
    fileRequired: false,
    env: {
      VIGIL_STORAGE_DATA_DIR: dataDir,
      VIGIL_SERVER_TLS: 'auto',
      VIGIL_AGENTS_DEFAULT_INTERVAL_SECONDS: '1',
      ...opts.env,
    },
  });
  const tls = await ensureAutoTls(path.join(dataDir, 'tls'));
  const ca = await openCertificateAuthority(path.join(dataDir, 'tls'));
  const created = await kind.create();
  const vigil = await createVigil({
    config,
    logger: pino({ level: 'silent' }),
    db: created.db,
    https: { cert: tls.cert, key: tls.key, ca: ca.caPem },
    ...(opts.deployedChecks ? { deployedChecks: opts.deployedChecks } : {}),
  });
  await vigil.identity.ensureFirstAdmin(opts.password, systemContext('test'));
  await vigil.http.listen({ host: '127.0.0.1', port: 0 });
  const address = vigil.http.server.address();
  const login = await vigil.http.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username: 'admin', password: opts.password },
  });
  return {
    vigil,
    url: `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    fingerprint: new X509Certificate(ca.caPem).fingerprint256,
    admin: (login.json() as { access_token: string }).access_token,
    dataDir,
    async close() {
      await vigil.close();
      await created.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
