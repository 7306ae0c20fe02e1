import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { buildCsr } from '../../agent/src/serve/csr.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { ADMIN_PASSWORD } from '../../../test/support/harness.js';
import { httpsJson } from '../../../test/support/https.js';
import { createVigil, type Vigil } from '../src/app.js';
import { ingestTarget } from '../src/agents/model.js';
import { systemContext } from '../src/audit/service.js';
import { loadConfig } from '../src/config/config.js';
import { ensureAutoTls } from '../src/tls/pki.js';

// A native agent's push answer (mutual TLS) carries the checks the active deployment gives its
// host, as the deployments service resolves them: no deployment, none; a deploy, its checks; a
// changed deploy, a new checksum.

const ctx = systemContext('test');

for (const kind of await databaseKinds()) {
  describe(`deployed checks in push answers on ${kind.name}`, () => {
    let vigil: Vigil;
    let dir: string;
    let drop: () => Promise<void>;
    let base: string;
    let client: { ca: string; cert: string; key: string };
    let hostName: string;
    const push = async () => {
      const res = await httpsJson(`${base}/api/v1/agents/dep-01/checkdata`, {
        ...client,
        body: {
          collected_at: Date.now(),
          checkdata: { memory: { total: 1000, used: 400, free: 600, percent: 40 } },
        },
      });
      assert.equal(res.status, 200, res.text);
      return res.body as { checks: unknown[]; checks_checksum: string };
    };

    before(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-deployed-'));
      const config = loadConfig({
        file: path.join(dir, 'absent.toml'),
        fileRequired: false,
        env: { VIGIL_STORAGE_DATA_DIR: dir, VIGIL_SERVER_TLS: 'auto' },
      });
      const tls = await ensureAutoTls(path.join(dir, 'tls'));
      const created = await kind.create();
      drop = created.drop;
      vigil = await createVigil({
        config,
        logger: pino({ level: 'silent' }),
        db: created.db,
        https: { cert: tls.cert, key: tls.key, ca: tls.ca! },
      });
      await vigil.identity.ensureFirstAdmin(ADMIN_PASSWORD, ctx);
      const token = (
        await vigil.http.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { username: 'admin', password: ADMIN_PASSWORD },
        })
      ).json().access_token as string;
      const agent = await vigil.http.inject({
        method: 'POST',
        url: '/api/v1/agents',
        headers: { authorization: `Bearer ${token}` },
        payload: { id: 'dep-01', name: 'dep-01' },
      });
      assert.equal(agent.statusCode, 201, agent.body);
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const enrolled = await vigil.http.inject({
        method: 'POST',
        url: '/api/v1/agents/enroll',
        payload: {
          token: agent.json().enrollment_token,
          csr: buildCsr(privateKey, 'dep-01'),
          hostname: 'dep-01',
        },
      });
      assert.equal(enrolled.statusCode, 201, enrolled.body);
      client = {
        ca: tls.ca!,
        cert: enrolled.json().certificate,
        key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      };
      await vigil.http.listen({ host: '127.0.0.1', port: 0 });
      const address = vigil.http.server.address();
      base = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      const row = (await vigil.agents.row('dep-01'))!;
      const host = await vigil.objects.hostById(ingestTarget(row).hostId);
      assert.ok(host, 'the agent has a host');
      hostName = host.object_name;
      await vigil.objects.modify(
        ctx,
        { kind: 'host', name: hostName },
        { address: '127.0.0.1' },
        'merge',
      );
      await vigil.objects.create(ctx, 'command', {
        object_name: 'dummy',
        command: 'check_dummy',
        arguments: { state: { value: '$dummy_state$', skip_key: true, order: 1 } },
        vars: { dummy_state: 0 },
      });
      await vigil.objects.create(ctx, 'service', {
        object_name: 'alive',
        host: hostName,
        check_command: 'dummy',
        check_interval: 60,
      });
    });
    after(async () => {
      await vigil?.close();
      await drop?.();
      rmSync(dir, { recursive: true, force: true });
    });

    test('no deployment: no checks', async () => {
      const answer = await push();
      assert.deepEqual(answer.checks, []);
      assert.equal(answer.checks_checksum, '');
    });

    test('a deploy gives the host its checks; a changed deploy, a new checksum', async () => {
      await vigil.deployments.deploy(ctx);
      const first = await push();
      assert.deepEqual(first.checks, [
        {
          name: 'alive',
          command: ['/usr/lib/nagios/plugins/check_dummy', '0'],
          interval_seconds: 60,
        },
      ]);
      assert.match(first.checks_checksum, /^[0-9a-f]{40}$/);
      assert.equal((await push()).checks_checksum, first.checks_checksum);
      await vigil.objects.modify(
        ctx,
        { kind: 'service', name: 'alive', host: hostName },
        { 'vars.dummy_state': 1 },
        'merge',
      );
      // Not deployed yet: agents keep running the active deployment.
      assert.equal((await push()).checks_checksum, first.checks_checksum);
      await vigil.deployments.deploy(ctx);
      const second = await push();
      assert.notEqual(second.checks_checksum, first.checks_checksum);
      assert.deepEqual((second.checks[0] as { command: string[] }).command, [
        '/usr/lib/nagios/plugins/check_dummy',
        '1',
      ]);
    });
  });
}
