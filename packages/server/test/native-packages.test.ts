import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

// The package inventory a native agent pushes over mutual TLS (`POST /api/v1/agents/{id}/packages`)
// is what `GET /api/v1/hosts/{id}/packages` answers.

const INVENTORY = path.join(
  import.meta.dirname,
  '..',
  '..',
  'agent',
  'test',
  'fixtures',
  'oitc-packages',
  'ubuntu2404.json',
);
const LIMIT = 400_000;

for (const kind of await databaseKinds()) {
  describe(`native package inventory pushes on ${kind.name}`, () => {
    let vigil: Vigil;
    let dir: string;
    let drop: () => Promise<void>;
    let base: string;
    let token: string;
    let client: { ca: string; cert: string; key: string };
    const inventory = () =>
      JSON.parse(readFileSync(INVENTORY, 'utf8')) as Record<string, unknown> & {
        LinuxPackages: { Name: string; Version: string; Description: string }[];
        LinuxUpdates: { Name: string; CurrentVersion: string; AvailableVersion: string }[];
      };
    const pushTo = (id: string, route: 'packages' | 'checkdata', body: unknown) =>
      httpsJson(`${base}/api/v1/agents/${id}/${route}`, { ...client, body });
    const push = (body: unknown) => pushTo('pkg-01', 'packages', body);
    const hostPackages = async () => {
      const row = (await vigil.agents.row('pkg-01'))!;
      const res = await vigil.http.inject({
        method: 'GET',
        url: `/api/v1/hosts/${ingestTarget(row).hostId}/packages`,
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.statusCode, 200, res.body);
      return res.json();
    };

    before(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-pkg-'));
      const config = loadConfig({
        file: path.join(dir, 'absent.toml'),
        fileRequired: false,
        env: {
          VIGIL_STORAGE_DATA_DIR: dir,
          VIGIL_SERVER_TLS: 'auto',
          VIGIL_AGENTS_MAX_DOCUMENT_BYTES: String(LIMIT),
        },
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
      await vigil.identity.ensureFirstAdmin(ADMIN_PASSWORD, systemContext('test'));
      const login = await vigil.http.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'admin', password: ADMIN_PASSWORD },
      });
      token = login.json().access_token as string;
      const agent = await vigil.http.inject({
        method: 'POST',
        url: '/api/v1/agents',
        headers: { authorization: `Bearer ${token}` },
        payload: { id: 'pkg-01', name: 'pkg-01' },
      });
      assert.equal(agent.statusCode, 201, agent.body);
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const enrolled = await vigil.http.inject({
        method: 'POST',
        url: '/api/v1/agents/enroll',
        payload: {
          token: agent.json().enrollment_token,
          csr: buildCsr(privateKey, 'pkg-01'),
          hostname: 'pkg-01',
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
      const doc = {
        agent: { last_updated_timestamp: Math.floor(Date.now() / 1000), agent_version: '3.4.0' },
        memory: { total: 1000, used: 400, free: 600, percent: 40 },
      };
      const first = await pushTo('pkg-01', 'checkdata', {
        collected_at: Date.now(),
        checkdata: doc,
      });
      assert.equal(first.status, 200, first.text);
    });
    after(async () => {
      await vigil?.close();
      await drop?.();
      rmSync(dir, { recursive: true, force: true });
    });

    test('a pushed scan is the host inventory: installed list, updates and summary', async () => {
      const before = await hostPackages();
      assert.deepEqual(before.installed, []);
      assert.equal(before.agent_id, null);

      const inv = inventory();
      const res = await push(inv);
      assert.equal(res.status, 204, res.text);
      assert.equal(res.text, '');
      const after = await hostPackages();
      assert.equal(after.agent_id, 'pkg-01');
      assert.equal(after.installed.length, inv.LinuxPackages.length);
      assert.deepEqual(after.installed[0], {
        name: inv.LinuxPackages[0]!.Name,
        version: inv.LinuxPackages[0]!.Version,
        description: inv.LinuxPackages[0]!.Description,
      });
      assert.deepEqual(
        after.updates.map((u: { name: string; new_version: string }) => [u.name, u.new_version]),
        inv.LinuxUpdates.map((u) => [u.Name, u.AvailableVersion]),
      );
      assert.equal(after.summary.installed, 795);
      assert.equal(after.summary.upgradable, 2);
      assert.equal(after.summary.security_updates, 0);
      assert.equal(after.summary.reboot_required, false);
      assert.equal(after.summary.last_update, new Date(1768296076 * 1000).toISOString());

      // A scan not finished yet (the agent has just started) keeps the stored one.
      const pending = await push({
        ...inv,
        Pending: true,
        LastUpdate: 0,
        LinuxPackages: [],
        LinuxUpdates: [],
      });
      assert.equal(pending.status, 204, pending.text);
      assert.equal((await hostPackages()).installed.length, inv.LinuxPackages.length);

      // The next scan replaces it.
      const next = await push({ ...inv, LinuxPackages: inv.LinuxPackages.slice(0, 3) });
      assert.equal(next.status, 204, next.text);
      assert.equal((await hostPackages()).installed.length, 3);
    });

    test('a body that is not an inventory is 400 with a code; nothing is stored', async () => {
      const stored = (await hostPackages()).installed.length;
      for (const body of [
        [],
        'packages',
        42,
        null,
        {},
        { ...inventory(), LinuxPackages: 'none' },
      ]) {
        const res = await push(body);
        assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
        assert.equal(res.body.error.code, 'validation_failed');
        assert.match(res.body.error.human_message, /^body/);
      }
      const res = await httpsJson(`${base}/api/v1/agents/pkg-01/packages`, {
        ...client,
        body: undefined,
        method: 'POST',
      });
      assert.ok(res.status === 400 || res.status === 415, res.text);
      assert.equal((await hostPackages()).installed.length, stored);
    });

    test('another agent id than the certificate is refused as check data is', async () => {
      const inv = inventory();
      const packages = await pushTo('pkg-02', 'packages', inv);
      const checkdata = await pushTo('pkg-02', 'checkdata', {
        collected_at: Date.now(),
        checkdata: { memory: { total: 1, used: 1, free: 0, percent: 100 } },
      });
      assert.ok(packages.status >= 400 && packages.status < 500, packages.text);
      assert.equal(packages.status, checkdata.status);
      assert.deepEqual(packages.body.error.code, checkdata.body.error.code);
      // Without a client certificate at all.
      const anonymous = await httpsJson(`${base}/api/v1/agents/pkg-01/packages`, {
        ca: client.ca,
        body: inv,
      });
      assert.equal(anonymous.status, 401, anonymous.text);
    });

    test('a body over agents.max_document_bytes is 413 request.too_large', async () => {
      const big = await push({ ...inventory(), vendor_blob: 'x'.repeat(LIMIT) });
      assert.equal(big.status, 413, big.text);
      assert.equal(big.body.error.code, 'request.too_large');
    });
  });
}
