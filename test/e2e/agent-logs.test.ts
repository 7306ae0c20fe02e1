// A real server and a real agent process: the agent follows log files through rotation and a
// restart, and the server's log search shows every line exactly once.
import assert from 'node:assert/strict';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../support/databases.js';
import { eventually, httpsJson } from '../support/https.js';
import { freePort } from '../support/postgres.js';
import {
  runAgent,
  startAgentRun,
  startServe,
  type AgentRun,
  type Served,
} from '../support/process.js';

const PASSWORD = 'agent logs end to end';

/** A line as `GET /api/v1/logs` lists it. */
interface StoredLine {
  agent_id: string;
  source: string;
  source_name: string;
  level: string;
  message: string;
}
const AGENT_ID = 'e2e-logs';

const lines = (from: number, to: number) =>
  Array.from(
    { length: to - from },
    (_, i) => `${new Date().toISOString()} INFO e2e line ${from + i}\n`,
  ).join('');

for (const kind of await databaseKinds()) {
  describe(`agent logs end to end on ${kind.name}`, () => {
    const dirs: string[] = [];
    let server: Served;
    let base: string;
    let ca: string;
    let token: string;
    let config: string;
    let logDir: string;
    let file: string;
    let agent: AgentRun | undefined;
    let dropDb: () => Promise<void> = async () => undefined;

    const api = (p: string, body?: unknown) => httpsJson(`${base}${p}`, { ca, token, body });
    /** The agent's stored lines of `name` (app.log), oldest first, and their messages. */
    const stored = async (name = file) => {
      const r = await api(
        `/api/v1/logs?agent_id=${AGENT_ID}&source=file&source_name=${encodeURIComponent(name)}&limit=1000`,
      );
      assert.equal(r.status, 200, r.text);
      const entries = [...(r.body.entries as StoredLine[])].reverse();
      return {
        total: r.body.total as number,
        messages: entries.map((e) => e.message),
        entries,
      };
    };
    const numbers = (messages: string[]) =>
      messages.map((m) => Number(/e2e line (\d+)$/.exec(m)?.[1] ?? -1));

    before(async () => {
      const tmp = mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-logs-e2e-'));
      dirs.push(tmp);
      const dataDir = path.join(tmp, 'data');
      const created = await kind.create();
      await created.db.close();
      dropDb = created.drop;
      const port = await freePort();
      const env: Record<string, string> = {
        VIGIL_STORAGE_DATA_DIR: dataDir,
        VIGIL_SERVER_LISTEN: `127.0.0.1:${port}`,
        VIGIL_ADMIN_PASSWORD: PASSWORD,
      };
      if (created.url) env.VIGIL_DATABASE_URL = created.url;
      server = await startServe(env);
      base = `https://127.0.0.1:${port}`;
      ca = readFileSync(path.join(dataDir, 'tls', 'ca.crt'), 'utf8');
      const login = await httpsJson(`${base}/api/v1/auth/login`, {
        ca,
        body: { username: 'admin', password: PASSWORD },
      });
      token = login.body.access_token;
      const fingerprint = /CA SHA-256 fingerprint: ([0-9A-F:]{95})/.exec(server.stderr())![1]!;

      logDir = path.join(tmp, 'log');
      file = path.join(logDir, 'app.log');
      const agentDir = path.join(tmp, 'agent');
      for (const d of [logDir, agentDir]) mkdirSync(d);
      config = path.join(agentDir, 'config.ini');
      writeFileSync(
        config,
        [
          '[default]',
          'interval = 1',
          'address = 127.0.0.1',
          `port = ${await freePort()}`,
          '[packagemanager]',
          'enabled = false',
          '[logs]',
          `files = ${logDir}/*.log`,
          'batch-delay-ms = 200',
          '',
        ].join('\n'),
      );
      const created2 = await api('/api/v1/agents', { id: AGENT_ID, name: 'Logs end to end' });
      assert.equal(created2.status, 201, created2.text);
      const enrolled = await runAgent([
        'enroll',
        '--server',
        base,
        '--token',
        created2.body.enrollment_token,
        '--ca-fingerprint',
        fingerprint,
        '--config',
        config,
      ]);
      assert.equal(enrolled.code, 0, enrolled.stderr);
    });
    after(async () => {
      await agent?.stop();
      await server?.stop();
      await dropDb();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    test('lines appended, rotated and written across a restart are stored exactly once', async () => {
      agent = await startAgentRun(['--config', config]);
      // Files found by the source's first scan are read from their end, later ones from their
      // start: a probe line stored shows that the first scan is over.
      const probe = path.join(logDir, 'probe.log');
      let n = 0;
      await eventually(
        'a probe line',
        async () => {
          appendFileSync(probe, `probe ${n++}\n`);
          return (await stored(probe)).total > 0;
        },
        30_000,
        300,
      );
      writeFileSync(file, lines(0, 50));
      await eventually('the first lines', async () => (await stored()).total >= 50);

      // logrotate: rename, then create; the writer still finishes a few lines in the old file.
      renameSync(file, path.join(logDir, 'app.log.1'));
      writeFileSync(file, lines(50, 100));
      appendFileSync(path.join(logDir, 'app.log.1'), lines(100, 105));
      await eventually('the rotated lines', async () => (await stored()).total >= 105);

      // A restart: lines written while the agent is down arrive after it starts again.
      assert.equal(await agent.stop(), 0);
      appendFileSync(file, lines(105, 120));
      agent = await startAgentRun(['--config', config]);
      appendFileSync(file, lines(120, 130));
      await eventually('the lines across the restart', async () => (await stored()).total >= 130);
      // Nothing arrives twice, even a while later.
      await new Promise((r) => setTimeout(r, 1500));
      const { total, messages, entries } = await stored();
      assert.equal(total, 130);
      assert.deepEqual(
        numbers(messages).sort((a, b) => a - b),
        Array.from({ length: 130 }, (_, i) => i),
      );
      // Each file's lines keep their order; the rotated file's lines go under the name it was
      // followed as.
      const order = numbers(messages);
      const span = (from: number, to: number) =>
        Array.from({ length: to - from }, (_, i) => from + i);
      const rotated = new Set([...span(0, 50), ...span(100, 105)]);
      assert.deepEqual(
        order.filter((n) => rotated.has(n)),
        [...span(0, 50), ...span(100, 105)],
      );
      assert.deepEqual(
        order.filter((n) => !rotated.has(n)),
        [...span(50, 100), ...span(105, 130)],
      );
      assert.ok(entries.every((e) => e.source_name === file));
      const first = entries.find((e) => e.message.endsWith('e2e line 0'))!;
      assert.equal(first.agent_id, AGENT_ID);
      assert.equal(first.source, 'file');
      assert.equal(first.level, 'info');
    });
  });
}
