// A real server and a real agent process: the agent follows log files through rotation and a
// restart, and the server's log search shows every line exactly once.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../support/databases.js';
import { eventually } from '../support/https.js';
import { freePort } from '../support/postgres.js';
import { startAgentRun, type AgentRun } from '../support/process.js';
import { serveWithEnrolledAgent, type ServedAgent } from '../support/served-agent.js';

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
    let served: ServedAgent;
    let logDir: string;
    let file: string;
    let agent: AgentRun | undefined;

    const api = (p: string, body?: unknown) => served.api(p, body);
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
      served = await serveWithEnrolledAgent(kind, {
        password: PASSWORD,
        agentId: AGENT_ID,
        agentName: 'Logs end to end',
        configLines: async (tmp) => {
          logDir = path.join(tmp, 'log');
          file = path.join(logDir, 'app.log');
          mkdirSync(logDir);
          return [
            '[default]',
            'interval = 1',
            'address = 127.0.0.1',
            `port = ${await freePort()}`,
            '[packagemanager]',
            'enabled = false',
            '[logs]',
            `files = ${logDir}/*.log`,
            'batch-delay-ms = 200',
          ];
        },
      });
    });
    after(async () => {
      await agent?.stop();
      await served?.stop();
    });

    test('lines appended, rotated and written across a restart are stored exactly once', async () => {
      agent = await startAgentRun(['--config', served.config]);
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
      agent = await startAgentRun(['--config', served.config]);
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
