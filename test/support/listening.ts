import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createVigil, type Vigil } from '../../packages/server/src/app.js';
import { systemContext } from '../../packages/server/src/audit/service.js';
import { loadConfig } from '../../packages/server/src/config/config.js';
import { ensureAutoTls } from '../../packages/server/src/tls/pki.js';
import type { DatabaseKind } from './databases.js';
import { ADMIN_PASSWORD } from './harness.js';

/** A server listening on 127.0.0.1 over HTTPS with its Auto-TLS material, on a fresh database. */
export interface ListeningServer {
  readonly vigil: Vigil;
  readonly port: number;
  /** PEM of the CA the server certificate chains to. */
  readonly ca: string;
  close(): Promise<void>;
}

/** Starts a server as `vigil serve` does with `server.tls = "auto"`, on an ephemeral port. */
export async function startListening(
  kind: DatabaseKind,
  env: Record<string, string> = {},
): Promise<ListeningServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-l-'));
  const config = loadConfig({
    file: path.join(dir, 'absent.toml'),
    fileRequired: false,
    env: { VIGIL_STORAGE_DATA_DIR: dir, VIGIL_SERVER_TLS: 'auto', ...env },
  });
  const tls = await ensureAutoTls(path.join(dir, 'tls'));
  const created = await kind.create();
  const vigil = await createVigil({
    config,
    logger: pino({ level: 'silent' }),
    db: created.db,
    https: { cert: tls.cert, key: tls.key, ca: tls.ca },
  });
  await vigil.identity.ensureFirstAdmin(ADMIN_PASSWORD, systemContext('test'));
  await vigil.http.listen({ host: '127.0.0.1', port: 0 });
  const { port } = vigil.http.server.address() as { port: number };
  return {
    vigil,
    port,
    ca: tls.ca!,
    async close() {
      await vigil.close().catch(() => undefined);
      await created.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
