import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DatabaseKind } from './databases.js';
import { httpsJson, type JsonAnswer } from './https.js';
import { freePort } from './postgres.js';
import { runAgent, startServe, type Served } from './process.js';

/** A real `vigil serve` on a fresh database, and one native agent enrolled to it. */
export interface ServedAgent {
  server: Served;
  /** `https://127.0.0.1:<port>`. */
  base: string;
  /** The server's CA certificate (PEM). */
  ca: string;
  /** The admin's access token. */
  token: string;
  /** The agent's config.ini (enrolled: its certificate lies beside it). */
  config: string;
  /** A temporary folder for the test's own files, removed by `stop`. */
  tmp: string;
  /** Calls the API as the admin: a body makes it a POST unless `method` says otherwise. */
  api(p: string, body?: unknown, method?: string): Promise<JsonAnswer>;
  /** Stops the server and removes the database and the folders. */
  stop(): Promise<void>;
}

/**
 * Starts `vigil serve` on a fresh database of `kind` (an admin with `password`), adds agent
 * `agentId` and enrolls it with a config.ini made of `configLines` (given the temporary folder),
 * through the real `vigil-agent enroll`. The agent is not started.
 */
export async function serveWithEnrolledAgent(
  kind: DatabaseKind,
  opts: {
    password: string;
    agentId: string;
    agentName: string;
    configLines: (tmp: string) => string[] | Promise<string[]>;
  },
): Promise<ServedAgent> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), `vigil-${opts.agentId}-`));
  const dataDir = path.join(tmp, 'data');
  const created = await kind.create();
  await created.db.close();
  const port = await freePort();
  const env: Record<string, string> = {
    VIGIL_STORAGE_DATA_DIR: dataDir,
    VIGIL_SERVER_LISTEN: `127.0.0.1:${port}`,
    VIGIL_ADMIN_PASSWORD: opts.password,
  };
  if (created.url) env.VIGIL_DATABASE_URL = created.url;
  const server = await startServe(env);
  const stop = async () => {
    await server.stop();
    await created.drop();
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    const base = `https://127.0.0.1:${port}`;
    const ca = readFileSync(path.join(dataDir, 'tls', 'ca.crt'), 'utf8');
    const login = await httpsJson(`${base}/api/v1/auth/login`, {
      ca,
      body: { username: 'admin', password: opts.password },
    });
    const token = login.body.access_token as string;
    const api = (p: string, body?: unknown, method?: string) =>
      httpsJson(`${base}${p}`, { ca, token, body, ...(method ? { method } : {}) });
    const fingerprint = /CA SHA-256 fingerprint: ([0-9A-F:]{95})/.exec(server.stderr())![1]!;

    const agentDir = path.join(tmp, 'agent');
    mkdirSync(agentDir);
    const config = path.join(agentDir, 'config.ini');
    writeFileSync(config, [...(await opts.configLines(tmp)), ''].join('\n'));
    const made = await api('/api/v1/agents', { id: opts.agentId, name: opts.agentName });
    assert.equal(made.status, 201, made.text);
    const enrolled = await runAgent([
      'enroll',
      '--server',
      base,
      '--token',
      made.body.enrollment_token,
      '--ca-fingerprint',
      fingerprint,
      '--config',
      config,
    ]);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    return { server, base, ca, token, config, tmp, api, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
