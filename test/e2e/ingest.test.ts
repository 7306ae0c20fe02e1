import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import { freePort } from '../support/postgres.js';
import { ROOT, startServe } from '../support/process.js';

const doc = JSON.parse(
  readFileSync(path.join(ROOT, 'test', 'fixtures', 'checkdata', 'debian12.json'), 'utf8'),
) as Record<string, Record<string, unknown>>;

function post(agent: https.Agent, port: number, url: string, body: unknown) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: url,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

test('kill -9 during ingest, then restart: every push that got a 200 is there', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-kill9-'));
  const port = await freePort();
  const env = {
    VIGIL_STORAGE_DATA_DIR: dataDir,
    VIGIL_SERVER_LISTEN: `127.0.0.1:${port}`,
    VIGIL_ADMIN_PASSWORD: 'kill nine test password',
    VIGIL_AGENTS_AUTO_APPROVE_NETWORKS: '127.0.0.0/8',
  };
  let server = await startServe(env);
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 16,
    ca: readFileSync(path.join(dataDir, 'tls', 'ca.crt')),
  });
  try {
    const agents: { uuid: string; password: string }[] = [];
    for (let i = 0; i < 8; i++) {
      const uuid = `00000000-0000-4000-8000-00000000000${i}`;
      const r = await post(agent, port, '/agentconnector/register_agent.json', {
        agentuuid: uuid,
        password: '',
        hostname: `kill9-${i}`,
      });
      assert.equal(r.status, 201, r.text);
      agents.push({ uuid, password: JSON.parse(r.text).password });
    }
    // Eight agents push as fast as they can, each with increasing time stamps; the server is
    // killed with SIGKILL in the middle of it.
    const acknowledged: { uuid: string; ts: number }[] = [];
    let stop = false;
    const base = Math.floor(Date.now() / 1000) - 100_000;
    const loops = agents.map(async (a, i) => {
      for (let n = 0; !stop; n++) {
        const ts = base + n;
        const checkdata = {
          ...doc,
          agent: { ...doc.agent, hostname: `kill9-${i}`, last_updated_timestamp: ts },
        };
        try {
          const r = await post(agent, port, '/agentconnector/submit_checkdata.json', {
            agentuuid: a.uuid,
            password: a.password,
            checkdata,
          });
          if (r.status === 200) acknowledged.push({ uuid: a.uuid, ts: ts * 1000 });
        } catch {
          return; // The server is gone.
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    server.child.kill('SIGKILL');
    await server.exited;
    stop = true;
    await Promise.all(loops);
    assert.ok(acknowledged.length > 20, `${acknowledged.length} pushes acknowledged`);

    server = await startServe(env);
    const db = new SQLite(path.join(dataDir, 'vigil.db'), { readonly: true });
    try {
      const has = db.prepare(
        `select 1 from samples s join host_keys k on k.id = s.host_key
          join agents a on a.host_id = k.host_id where a.id = ? and s.ts = ?`,
      );
      const missing = acknowledged.filter((p) => !has.get(p.uuid, p.ts));
      assert.deepEqual(missing, [], 'acknowledged pushes missing after the crash');
    } finally {
      db.close();
    }
  } finally {
    agent.destroy();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
