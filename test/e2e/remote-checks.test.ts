// A real server listening on HTTPS and a real agent in this process: the agent enrolls with its
// host's Icinga 2 ticket, pushes, receives the checks the deployment gives its host, runs them
// with real Nagios plugins, and their results reach the host's checks.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DeployedCheck } from '@vigil/protocol';
import { startAgent, type Agent } from '../../packages/agent/src/agent.js';
import { EnrollError, enroll } from '../../packages/agent/src/push/native.js';
import { HOST_KEY_FILE } from '../../packages/agent/src/push/self-service.js';
import type { Vigil } from '../../packages/server/src/app.js';
import type { DeployedChecks } from '../../packages/server/src/agents/push-routes.js';
import { systemContext } from '../../packages/server/src/audit/service.js';
import { icingaTicket } from '../../packages/server/src/secrets/ticket.js';
import { databaseKinds } from '../support/databases.js';
import { eventually } from '../support/https.js';
import { startHttpsVigil, type HttpsVigil } from '../support/https-vigil.js';
import { freePort } from '../support/postgres.js';

const PLUGINS = '/usr/lib/nagios/plugins';
const DUMMY = path.join(PLUGINS, 'check_dummy');
const havePlugins = existsSync(DUMMY);
if (!havePlugins && process.env.CI === 'true')
  throw new Error(`${PLUGINS} is missing: install Debian's monitoring-plugins`);
const PASSWORD = 'remote checks end to end';

/**
 * The deployed checks of this test: a fixed set for one host, which the test replaces to play a
 * new deployment. A real implementation of the interface, over a list the test holds.
 */
function fixedDeployment(): DeployedChecks & {
  set(hostId: string, checksum: string, checks: DeployedCheck[]): void;
} {
  let current: { hostId: string; checksum: string; checks: DeployedCheck[] } | undefined;
  return {
    set: (hostId, checksum, checks) => (current = { hostId, checksum, checks }),
    forHost: (hostId) =>
      Promise.resolve(
        current && current.hostId === hostId
          ? { checksum: current.checksum, checks: current.checks }
          : null,
      ),
  };
}

for (const kind of await databaseKinds()) {
  describe(
    `remote checks end to end on ${kind.name}`,
    { skip: !havePlugins && 'monitoring-plugins not installed' },
    () => {
      const hostname = os.hostname();
      const salt = randomBytes(16).toString('hex');
      const deployment = fixedDeployment();
      let server: HttpsVigil;
      let agentDir: string;
      let vigil: Vigil;
      let url: string;
      let fingerprint: string;
      let admin: string;
      let hostId: string;
      let agent: Agent | undefined;

      const api = async (method: 'GET' | 'POST', target: string) =>
        vigil.http.inject({ method, url: target, headers: { authorization: `Bearer ${admin}` } });

      before(async () => {
        agentDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-remote-agent-'));
        server = await startHttpsVigil(kind, {
          password: PASSWORD,
          env: { VIGIL_DIRECTOR_TICKET_SALT: salt },
          deployedChecks: deployment,
        });
        ({ vigil, url, fingerprint, admin } = server);
        // The agent's host, configured with an agent.
        await vigil.objects.create(systemContext('test'), 'host', {
          object_name: hostname,
          object_type: 'object',
          has_agent: true,
        });
        hostId = (await vigil.objects.agentHost(hostname))!.id;
      });
      after(async () => {
        await agent?.stop();
        await server?.close();
        rmSync(agentDir, { recursive: true, force: true });
      });

      const enrollWith = (extra: { ticket?: string; templateKey?: string }) =>
        enroll({
          server: url,
          caFingerprint: fingerprint,
          dir: agentDir,
          waitSeconds: 0,
          log: () => undefined,
          ...extra,
        });

      test("--template-key: a refused self-service step stops with the server's reason", async () => {
        await assert.rejects(
          enrollWith({ templateKey: `unknown-${randomUUID()}` }),
          (err: unknown) =>
            err instanceof EnrollError &&
            /^registering host \S+ was refused \(HTTP (400|403|404)\): .+/.test(err.message),
        );
        assert.ok(!existsSync(path.join(agentDir, HOST_KEY_FILE)), 'no host key kept');
        // A host key kept from an earlier run skips the registration; a bad one is refused.
        writeFileSync(path.join(agentDir, HOST_KEY_FILE), 'not-a-host-key\n', { mode: 0o600 });
        await assert.rejects(
          enrollWith({ templateKey: 'unused' }),
          (err: unknown) =>
            err instanceof EnrollError &&
            /^fetching the ticket was refused \(HTTP (400|403|404)\): .+/.test(err.message),
        );
        rmSync(path.join(agentDir, HOST_KEY_FILE));
        const agents = await vigil.db.kysely.selectFrom('agents').select('id').execute();
        assert.deepEqual(agents, [], 'no agent enrolled');
      });

      test("a wrong ticket is refused with the server's reason", async () => {
        await assert.rejects(
          enrollWith({ ticket: await icingaTicket(hostname, 'another salt') }),
          (err: unknown) =>
            err instanceof EnrollError && /HTTP 403\): the ticket is not valid/.test(err.message),
        );
      });

      test('the CSR and the ticket enroll the agent, approved, on its host', async () => {
        const state = await enrollWith({ ticket: await icingaTicket(hostname, salt) });
        assert.equal(state.status, 'approved');
        const row = await vigil.db.kysely
          .selectFrom('agents')
          .select(['host_id', 'approval'])
          .where('id', '=', state.agent_id)
          .executeTakeFirstOrThrow();
        assert.deepEqual(row, { host_id: hostId, approval: 'approved' });
      });

      test('the deployed checks run on the agent and their results reach the host', async () => {
        deployment.set(hostId, 'deploy-1', [
          { name: 'deployed_ok', command: [DUMMY, '0', 'deployed and run'] },
          { name: 'deployed_outside', command: ['/bin/sh', '-c', 'true'] },
          { name: 'clash', command: [DUMMY, '2', 'the deployed one'] },
        ]);
        const configFile = path.join(agentDir, 'config.ini');
        writeFileSync(
          configFile,
          `[default]\ninterval = 1\naddress = 127.0.0.1\nport = ${await freePort()}\n` +
            `[packagemanager]\nenabled = false\n[vigil]\nremote-checks = true\n`,
        );
        writeFileSync(
          path.join(agentDir, 'customchecks.ini'),
          `[clash]\ncommand = ${DUMMY} 0 "the custom one"\ninterval = 1\n`,
        );
        agent = await startAgent(configFile, { log: () => undefined });
        type View = { name: string; state: string; output: string };
        const checksOf = async () =>
          ((await api('GET', `/api/v1/hosts/${hostId}/checks`)).json().checks ?? []) as View[];
        const byName = async (names: string[]) => {
          const list = await checksOf();
          return names.every((n) => list.some((c) => c.name === n))
            ? new Map(list.map((c) => [c.name, c]))
            : undefined;
        };
        const seen = await eventually('the deployed checks in the host checks', () =>
          byName(['deployed_ok', 'deployed_outside', 'clash']),
        );
        assert.equal(seen.get('deployed_ok')!.state, 'OK');
        assert.equal(seen.get('deployed_ok')!.output, 'OK: deployed and run');
        assert.equal(seen.get('deployed_outside')!.state, 'UNKNOWN');
        assert.match(seen.get('deployed_outside')!.output, /refused by the agent: .*not inside/);
        assert.equal(seen.get('clash')!.output, 'OK: the custom one', 'custom wins');

        // A new deployment reaches the agent at its next push, and its checks run.
        deployment.set(hostId, 'deploy-2', [
          { name: 'deployed_next', command: [DUMMY, '1', 'the next deployment'] },
        ]);
        const next = await eventually('the next deployment', () => byName(['deployed_next']));
        assert.equal(next.get('deployed_next')!.state, 'WARNING');
      });
    },
  );
}
