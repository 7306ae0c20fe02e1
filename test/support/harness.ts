import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TokenPair } from '@vigil/protocol';
import pino from 'pino';
import { createVigil, type Vigil } from '../../packages/server/src/app.js';
import { systemContext } from '../../packages/server/src/audit/service.js';
import { loadConfig, type Config } from '../../packages/server/src/config/config.js';
import type { DatabaseKind } from './databases.js';

/** The password of the `admin` user every harness starts with. */
export const ADMIN_PASSWORD = 'correct horse battery staple';

/** A server assembled in-process on a fresh database, driven with `inject`. */
export interface Harness {
  readonly vigil: Vigil;
  readonly config: Config;
  /** Every JSON log line written so far, parsed. */
  readonly logs: Record<string, unknown>[];
  inject: Vigil['http']['inject'];
  /** Logs in and returns the whole answer: access and refresh tokens, expiry, user. */
  loginPair(username?: string, password?: string): Promise<TokenPair>;
  /** Logs in and returns the access token. */
  login(username?: string, password?: string): Promise<string>;
  /** Creates a user holding the given roles and returns an access token for them. */
  userWithRoles(username: string, roles: string[]): Promise<string>;
  close(): Promise<void>;
}

/**
 * Builds a harness; `env` holds VIGIL_* overrides, `now` a clock to control token expiry,
 * `pullTickMs` how often pull agents are polled on schedule.
 */
export async function startHarness(
  kind: DatabaseKind,
  opts: { env?: Record<string, string>; now?: () => number; pullTickMs?: number } = {},
): Promise<Harness> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-h-'));
  const config = loadConfig({
    file: path.join(dir, 'absent.toml'),
    fileRequired: false,
    env: { VIGIL_STORAGE_DATA_DIR: dir, VIGIL_SERVER_TLS: 'off', ...opts.env },
  });
  const logs: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info', redact: ['req.headers.authorization'] },
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const created = await kind.create();
  const vigil = await createVigil({
    config,
    logger,
    db: created.db,
    now: opts.now,
    pullTickMs: opts.pullTickMs,
  });
  await vigil.identity.ensureFirstAdmin(ADMIN_PASSWORD, systemContext('test'));
  const inject = vigil.http.inject.bind(vigil.http) as Vigil['http']['inject'];

  const loginPair = async (username = 'admin', password = ADMIN_PASSWORD) => {
    const res = await inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username, password },
    });
    if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
    return res.json() as TokenPair;
  };
  const login = async (username?: string, password?: string) =>
    (await loginPair(username, password)).access_token;
  return {
    vigil,
    config,
    logs,
    inject,
    loginPair,
    login,
    async userWithRoles(username, roles) {
      await vigil.identity.createUser(
        { username, password: ADMIN_PASSWORD, roles },
        systemContext('test'),
      );
      return login(username);
    },
    async close() {
      await vigil.close().catch(() => undefined);
      await created.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
