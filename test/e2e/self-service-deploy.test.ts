// The whole configuration path with real parts only: an operator makes an agent host template
// with a service and gives it an API key; a real agent enrolls with `--template-key` (it
// registers its host through the Director self-service API, fetches its Icinga ticket and
// enrolls its CSR with it); the operator deploys; the agent runs the deployed check with a real
// Nagios plugin and its result reaches the host.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startAgent, type Agent } from '../../packages/agent/src/agent.js';
import { enroll } from '../../packages/agent/src/push/native.js';
import { HOST_KEY_FILE } from '../../packages/agent/src/push/self-service.js';
import type { Vigil } from '../../packages/server/src/app.js';
import { databaseKinds } from '../support/databases.js';
import { eventually } from '../support/https.js';
import { startHttpsVigil, type HttpsVigil } from '../support/https-vigil.js';
import { freePort } from '../support/postgres.js';

const PLUGINS = '/usr/lib/nagios/plugins';
const havePlugins = existsSync(path.join(PLUGINS, 'check_dummy'));
if (!havePlugins && process.env.CI === 'true')
  throw new Error(`${PLUGINS} is missing: install Debian's monitoring-plugins`);
const PASSWORD = 'self-service end to end';

for (const kind of await databaseKinds()) {
  describe(
    `self-service enrollment and deployed checks on ${kind.name}`,
    { skip: !havePlugins && 'monitoring-plugins not installed' },
    () => {
      // The agent registers under this machine's name.
      const hostname = os.hostname();
      let server: HttpsVigil;
      let vigil: Vigil;
      let agentDir: string;
      let agent: Agent | undefined;

      const api = async (method: 'GET' | 'POST' | 'PATCH', target: string, payload?: object) => {
        const res = await vigil.http.inject({
          method,
          url: target,
          headers: { authorization: `Bearer ${server.admin}` },
          ...(payload ? { payload } : {}),
        });
        assert.ok(res.statusCode < 300, `${method} ${target}: ${res.statusCode} ${res.body}`);
        return res.json();
      };

      before(async () => {
        agentDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-selfservice-agent-'));
        server = await startHttpsVigil(kind, { password: PASSWORD });
        vigil = server.vigil;
      });
      after(async () => {
        await agent?.stop();
        await server?.close();
        rmSync(agentDir, { recursive: true, force: true });
      });

      test('a template key enrolls the agent; a deploy gives it the check it runs', async () => {
        // The operator's configuration: a command, an agent template with a service, its key.
        await api('POST', '/api/v1/commands', {
          object_name: 'dummy',
          properties: {
            command: 'check_dummy',
            arguments: {
              state: { value: '$dummy_state$', skip_key: true, order: 1 },
              text: { value: '$dummy_text$', skip_key: true, order: 2 },
            },
          },
        });
        await api('POST', '/api/v1/host-templates', {
          object_name: 'vigil-agents',
          properties: { has_agent: true },
          vars: { dummy_state: 0, dummy_text: 'from the deployment' },
        });
        await api('POST', '/api/v1/services', {
          object_name: 'deployed-dummy',
          host: 'vigil-agents',
          properties: { check_command: 'dummy' },
        });
        const { api_key: templateKey } = await api(
          'POST',
          '/api/v1/host-templates/vigil-agents/api-key',
        );
        assert.match(templateKey, /^[0-9a-f]{40}$/);

        // The agent registers its host, fetches its ticket and enrolls: approved at once.
        const state = await enroll({
          server: server.url,
          caFingerprint: server.fingerprint,
          dir: agentDir,
          waitSeconds: 0,
          templateKey,
          log: () => undefined,
        });
        assert.equal(state.status, 'approved');
        assert.match(readFileSync(path.join(agentDir, HOST_KEY_FILE), 'utf8'), /^[0-9a-f]{40}/);
        const resolved = await vigil.objects.resolved(
          await vigil.objects.get({ kind: 'host', name: hostname }),
        );
        assert.deepEqual(resolved.object.imports, ['vigil-agents']);
        assert.equal(resolved.properties.has_agent, true);

        // Deploy, then the agent (remote checks on) runs what the deployment gives its host.
        const deployed = await api('POST', '/api/v1/deployments');
        assert.match(deployed.checksum, /^[0-9a-f]{40}$/);
        const configFile = path.join(agentDir, 'config.ini');
        writeFileSync(
          configFile,
          `[default]\ninterval = 1\naddress = 127.0.0.1\nport = ${await freePort()}\n` +
            `[packagemanager]\nenabled = false\n[vigil]\nremote-checks = true\n`,
        );
        agent = await startAgent(configFile, { log: () => undefined });
        const host = await vigil.objects.agentHost(hostname);
        type View = { name: string; state: string; output: string };
        const checkNamed = async (name: string, output?: RegExp) => {
          const res = await vigil.http.inject({
            url: `/api/v1/hosts/${host!.id}/checks`,
            headers: { authorization: `Bearer ${server.admin}` },
          });
          const found = ((res.json().checks ?? []) as View[]).find((c) => c.name === name);
          return found && (!output || output.test(found.output)) ? found : undefined;
        };
        const check = await eventually('the deployed check in the host checks', () =>
          checkNamed('deployed-dummy'),
        );
        assert.equal(check.state, 'OK');
        assert.equal(check.output, 'OK: from the deployment');

        // A change deployed reaches the agent within an interval.
        await api('PATCH', '/api/v1/host-templates/vigil-agents', {
          vars: { dummy_state: 1, dummy_text: 'changed' },
        });
        await api('POST', '/api/v1/deployments');
        const changed = await eventually('the changed check', () =>
          checkNamed('deployed-dummy', /changed/),
        );
        assert.equal(changed.state, 'WARNING');
      });
    },
  );
}
