import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { buildCsr } from '../../agent/src/serve/csr.js';
import type { DatabaseKind } from '../../../test/support/databases.js';
import { ADMIN_PASSWORD } from '../../../test/support/harness.js';
import { httpsJson } from '../../../test/support/https.js';
import { createVigil, type Vigil } from '../src/app.js';
import { systemContext } from '../src/audit/service.js';
import { loadConfig } from '../src/config/config.js';
import { ensureAutoTls } from '../src/tls/pki.js';

/** A server over TLS with one enrolled native agent, for the log tests. */
export interface LogServer {
  vigil: Vigil;
  base: string;
  token: string;
  ca: string;
  /** The agent's client identity. */
  client: { ca: string; cert: string; key: string };
  agentId: string;
  /** Pushes a body (JSON, optionally gzipped or with another encoding) as the agent. */
  push(
    body: unknown,
    opts?: { encoding?: string; raw?: Buffer; agentId?: string },
  ): Promise<{ status: number; body: any; text: string }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** `GET /api/v1/logs` with query parameters, as the admin. */
  search(params: Record<string, string>): Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  close(): Promise<void>;
}

/** Starts a server on `kind` with TLS, an admin and one enrolled agent `log-01`. */
export async function startLogServer(
  kind: DatabaseKind,
  env: Record<string, string> = {},
): Promise<LogServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-logs-'));
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
    https: { cert: tls.cert, key: tls.key, ca: tls.ca! },
  });
  await vigil.identity.ensureFirstAdmin(ADMIN_PASSWORD, systemContext('test'));
  const login = await vigil.http.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username: 'admin', password: ADMIN_PASSWORD },
  });
  const token = login.json().access_token as string;
  const agentId = 'log-01';
  const agent = await vigil.http.inject({
    method: 'POST',
    url: '/api/v1/agents',
    headers: { authorization: `Bearer ${token}` },
    payload: { id: agentId, name: agentId },
  });
  assert.equal(agent.statusCode, 201, agent.body);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const enrolled = await vigil.http.inject({
    method: 'POST',
    url: '/api/v1/agents/enroll',
    payload: {
      token: agent.json().enrollment_token,
      csr: buildCsr(privateKey, agentId),
      hostname: agentId,
    },
  });
  assert.equal(enrolled.statusCode, 201, enrolled.body);
  const client = {
    ca: tls.ca!,
    cert: enrolled.json().certificate as string,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
  await vigil.http.listen({ host: '127.0.0.1', port: 0 });
  const address = vigil.http.server.address();
  const base = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  // A first document links the agent to its host.
  const first = await httpsJson(`${base}/api/v1/agents/${agentId}/checkdata`, {
    ...client,
    body: {
      collected_at: Date.now(),
      checkdata: {
        agent: { last_updated_timestamp: Math.floor(Date.now() / 1000), agent_version: '3.4.0' },
      },
    },
  });
  assert.equal(first.status, 200, first.text);

  return {
    vigil,
    base,
    token,
    ca: tls.ca!,
    client,
    agentId,
    push(body, opts = {}) {
      const json = () => Buffer.from(JSON.stringify(body));
      const payload =
        opts.raw ??
        (opts.encoding === 'gzip' || opts.encoding === 'x-gzip' ? gzipSync(json()) : json());
      return new Promise((resolve, reject) => {
        const req = https.request(
          `${base}/api/v1/agents/${opts.agentId ?? agentId}/logs`,
          {
            method: 'POST',
            ...client,
            agent: false,
            headers: {
              'content-type': 'application/json',
              ...(opts.encoding ? { 'content-encoding': opts.encoding } : {}),
            },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (text += c));
            res.on('end', () => {
              let parsed: unknown;
              try {
                parsed = text ? JSON.parse(text) : undefined;
              } catch {
                parsed = undefined;
              }
              resolve({ status: res.statusCode ?? 0, body: parsed, text });
            });
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    },
    async search(params) {
      const res = await vigil.http.inject({
        method: 'GET',
        url: `/api/v1/logs?${new URLSearchParams(params).toString()}`,
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: res.statusCode, body: res.json() };
    },
    async close() {
      await vigil.close();
      await created.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One log line of a push. */
export const line = (
  message: string,
  more: Partial<{
    timestamp: number;
    source: 'journal' | 'file' | 'docker';
    source_name: string;
    level: string;
    fields: Record<string, string>;
  }> = {},
) => ({
  timestamp: more.timestamp ?? Date.now(),
  source: more.source ?? 'journal',
  source_name: more.source_name ?? 'nginx.service',
  level: more.level ?? 'info',
  message,
  ...(more.fields ? { fields: more.fields } : {}),
});

let batches = 0;
/** A fresh batch id. */
export const batchId = () => `b-${process.pid}-${Date.now()}-${(batches += 1)}`;
