import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AgentView } from '@vigil/protocol';
import pino from 'pino';
import { buildCsr } from '../../agent/src/serve/csr.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { ADMIN_PASSWORD, startHarness, type Harness } from '../../../test/support/harness.js';
import { httpsJson } from '../../../test/support/https.js';
import { assertMatches } from '../../../test/support/schema.js';
import { createVigil, type Vigil } from '../src/app.js';
import { ingestTarget } from '../src/agents/model.js';
import { systemContext } from '../src/audit/service.js';
import { loadConfig } from '../src/config/config.js';
import { VigilError } from '../src/errors.js';
import { ensureAutoTls } from '../src/tls/pki.js';

// Check data as real openITCOCKPIT agents send it, through `/agentconnector` and the other
// ways a document comes in: every version and system is taken in, custom checks' perfdata is
// parsed on the server, bad fields cost only themselves, and bad times never get stored.

const FIXTURES = path.join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'checkdata');
const INVENTORIES = path.join(import.meta.dirname, '..', '..', 'agent', 'test', 'fixtures');
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A fixture document, with a fresh timestamp when it has an agent section with one. */
function fixture(name: string, stamp = nowSeconds()): Record<string, unknown> {
  const doc = JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as Record<
    string,
    unknown
  >;
  const agent = doc.agent as Record<string, unknown> | undefined;
  if (agent && 'last_updated_timestamp' in agent) agent.last_updated_timestamp = stamp;
  return doc;
}

/** A document from an agent that runs one custom check (openITCOCKPIT: `stdout` and `rc` only). */
const withCheck = (stdout: string, stamp = nowSeconds()) => ({
  agent: { last_updated_timestamp: stamp, agent_version: '3.1.0', goos: 'linux' },
  memory: { total: 1000, used: 400, free: 600, percent: 40 },
  customchecks: { hello: { stdout, rc: 0, execution_unix_timestamp_sec: stamp } },
});

for (const kind of await databaseKinds()) {
  describe(`check data of real agents on ${kind.name}`, () => {
    let h: Harness;
    let admin: string;
    let n = 0;
    const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
      h.inject({ method: 'POST', url, payload: payload as object, headers });
    const api = (url: string) => h.inject({ method: 'GET', url, headers: bearer(admin) });

    /** Registers a new openITCOCKPIT agent (approved at once from loopback). */
    async function register(): Promise<{ agentuuid: string; password: string; hostId: string }> {
      const agentuuid = `0c0ffee0-0000-4000-8000-${String(++n).padStart(12, '0')}`;
      const res = await post('/agentconnector/register_agent.json', {
        agentuuid,
        password: '',
        hostname: `oitc-compat-${n}`,
      });
      assert.equal(res.statusCode, 201, res.body);
      const row = (await h.vigil.agents.row(agentuuid))!;
      return { agentuuid, password: res.json().password, hostId: row.host_id! };
    }
    const submit = (a: { agentuuid: string; password: string }, checkdata: unknown) =>
      post('/agentconnector/submit_checkdata.json', { ...a, checkdata });
    const agentView = async (id: string) => {
      const res = await api(`/api/v1/agents/${id}`);
      assert.equal(res.statusCode, 200, res.body);
      assertMatches(AgentView, res.json());
      return res.json() as AgentView;
    };
    const current = async (hostId: string) =>
      new Map((await h.vigil.telemetry.current(hostId))?.values ?? []);

    before(async () => {
      h = await startHarness(kind, {
        env: {
          VIGIL_AGENTS_AUTO_APPROVE_NETWORKS: '127.0.0.0/8, ::1/128',
          VIGIL_AGENTS_MAX_DOCUMENT_BYTES: '262144',
          VIGIL_AGENTS_MAX_CLOCK_SKEW_SECONDS: '300',
        },
      });
      admin = await h.login();
    });
    after(() => h.close());

    for (const name of [
      'oitc-3.0.0-linux.json',
      'oitc-3.1.0-windows.json',
      'oitc-3.1.0-macos.json',
      'oitc-3.1.0-debian12-captured.json',
      'oitc-reference-placeholder.json',
      'debian12.json',
    ])
      test(`a push in the shape of ${name} is taken in`, async () => {
        const a = await register();
        const doc = fixture(name);
        const dropped = h.vigil.telemetry.statistics().droppedFields;
        const res = await submit(a, doc);
        assert.equal(res.statusCode, 200, res.body);
        // Only the reference's placeholder sections (`"disks": {}`) are no data.
        if (name !== 'oitc-reference-placeholder.json')
          assert.equal(
            h.vigil.telemetry.statistics().droppedFields - dropped,
            0,
            'nothing dropped',
          );
        assert.equal(typeof res.json().received_checks, 'number');
        assert.equal((await agentView(a.agentuuid)).status, 'online');
        const values = await current(a.hostId);
        if ('memory' in doc) assert.ok(values.has('memory_total_bytes'), name);
      });

    test('a Windows push keeps its processes and their Windows memory figures', async () => {
      const a = await register();
      const res = await submit(a, fixture('oitc-3.1.0-windows.json'));
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((await current(a.hostId)).get('processes'), 2);
      const stored = await h.vigil.intake.latestDocument(a.agentuuid);
      const doc = JSON.parse(stored!.document);
      assert.deepEqual(doc.processes[1].Memory, {
        working_set: 23568384,
        working_set_private: 6807552,
        private_bytes: 8036352,
      });
      assert.equal(doc.windows_services[0].Name, 'wuauserv', 'an unknown section is kept');
      // The agent never sets a Windows process's status: Go sends the nil slice as null.
      assert.equal(doc.processes[0].status, null);
    });

    test('a package scan posted to submit_checkdata.json?type=packagemanager is stored as the inventory, not as check data', async () => {
      const a = await register();
      const doc = fixture('oitc-3.1.0-debian12-captured.json');
      assert.equal((await submit(a, doc)).statusCode, 200);
      const values = await current(a.hostId);
      const document = (await h.vigil.intake.latestDocument(a.agentuuid))!.document;
      const inventory = JSON.parse(
        readFileSync(path.join(INVENTORIES, 'oitc-packages', 'ubuntu2404.json'), 'utf8'),
      );
      // The body exactly as agent 3.x marshals it (pushclient/push.go, submitCheckDataRequest).
      const payload = `{"checkdata":${JSON.stringify(inventory)},"agentuuid":${JSON.stringify(a.agentuuid)},"password":${JSON.stringify(a.password)}}`;
      const res = await h.inject({
        method: 'POST',
        url: '/agentconnector/submit_checkdata.json?type=packagemanager',
        payload,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'openITCOCKPIT Agent/3.1.0',
          authorization: 'X-OITC-API ',
        },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { success: true, received_checks: 0 });
      const rows = await h.vigil.db.kysely
        .selectFrom('agent_inventories')
        .selectAll()
        .where('agent_id', '=', a.agentuuid)
        .execute();
      assert.equal(rows.length, 1);
      assert.deepEqual(JSON.parse(rows[0]!.inventory), inventory);
      assert.deepEqual(await current(a.hostId), values, "the host's values are untouched");
      assert.equal((await h.vigil.intake.latestDocument(a.agentuuid))!.document, document);

      const postTyped = (type: string, checkdata: unknown, creds = a) =>
        post(`/agentconnector/submit_checkdata.json?type=${type}`, { ...creds, checkdata });
      // A bad inventory is 400 in the face's format; so are wrong credentials, as for check data.
      const bad = await postTyped('packagemanager', { Enabled: 'yes' });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.json().error, /package inventory/);
      const wrong = await postTyped('packagemanager', inventory, { ...a, password: 'nope' });
      assert.equal(wrong.statusCode, 400);
      assert.deepEqual(wrong.json(), { error: 'Invalid credentials or host not found' });
      // openITCOCKPIT reads no other type: anything else is check data, as there.
      const other = await postTyped('other', withCheck('OK|x=1', nowSeconds() + 1));
      assert.equal(other.statusCode, 200, other.body);
      assert.equal(typeof other.json().received_checks, 'number');
      assert.equal((await current(a.hostId)).get('check_perfdata{check="hello",label="x"}'), 1);
    });

    test('perfdata of a check that sends only stdout and rc is parsed by the server', async () => {
      const a = await register();
      const res = await submit(a, withCheck('OK - hello|val=1;2;3\n'));
      assert.equal(res.statusCode, 200, res.body);
      const values = await current(a.hostId);
      assert.equal(values.get('check_perfdata{check="hello",label="val"}'), 1);
      const checks = (await api(`/api/v1/hosts/${a.hostId}/checks`)).json();
      const hello = checks.checks.find((c: { name: string }) => c.name === 'hello');
      assert.equal(hello.output, 'OK - hello');
      assert.deepEqual(hello.perfdata, [
        { label: 'val', value: 1, uom: '', warn: '2', crit: '3', min: null, max: null },
      ]);
    });

    test('perfdata in the long output and quoted labels of a real agent are parsed', async () => {
      const a = await register();
      const stdout =
        "DISK OK - free space|'/ free'=280000MB;377179;424326;0;471474\nsecond line\nthird | '/var free'=10GB;@10:20;~:5\ninode=99%\n";
      const res = await submit(a, withCheck(stdout));
      assert.equal(res.statusCode, 200, res.body);
      const values = await current(a.hostId);
      assert.equal(values.get('check_perfdata{check="hello",label="/ free"}'), 280000);
      assert.equal(values.get('check_perfdata{check="hello",label="/var free"}'), 10);
      assert.equal(values.get('check_perfdata{check="hello",label="inode"}'), 99);
    });

    test('a pulled document has its perfdata parsed too', async () => {
      const a = await register();
      const row = (await h.vigil.agents.row(a.agentuuid))!;
      await h.vigil.intake.recordPull(row, { document: withCheck('OK|pulled=7s\n') });
      assert.equal((await h.vigil.agents.row(a.agentuuid))!.last_error, null);
      assert.equal(
        (await current(a.hostId)).get('check_perfdata{check="hello",label="pulled"}'),
        7,
      );
    });

    test('fields of the wrong type are dropped and counted; the rest of the push is kept', async () => {
      const a = await register();
      const doc = fixture('debian12.json');
      (doc.memory as Record<string, unknown>).total = 'lots';
      (doc.processes as Record<string, unknown>[])[3]!.pid = 'x';
      (doc.agent as Record<string, unknown>).check_interval = 'often';
      doc.swap = 'none';
      const before = h.vigil.telemetry.statistics().droppedFields;
      const res = await submit(a, doc);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(h.vigil.telemetry.statistics().droppedFields - before, 4);
      const values = await current(a.hostId);
      assert.equal(values.has('memory_total_bytes'), false);
      assert.ok(values.has('memory_used_bytes'));
      assert.equal(values.has('swap_total_bytes'), false);
      assert.ok(values.has('cpu_usage_percent'));
      assert.equal((await agentView(a.agentuuid)).status, 'online');
      // Logged once per agent, naming what was dropped, however often it comes.
      const again = await submit(a, {
        ...doc,
        agent: { last_updated_timestamp: nowSeconds() + 1 },
      });
      assert.equal(again.statusCode, 200, again.body);
      const logged = h.logs.filter((l) => l.agent_id === a.agentuuid && 'dropped' in l);
      assert.equal(logged.length, 1);
      assert.deepEqual(logged[0]!.dropped, [
        '/agent/check_interval',
        '/memory/total',
        '/swap',
        '/processes/3/pid',
      ]);
    });

    test('a body that is no check-data document at all is 400', async () => {
      const a = await register();
      for (const checkdata of [[1, 2], 42, null, 'not json', '[1]']) {
        const res = await submit(a, checkdata);
        assert.equal(res.statusCode, 400, JSON.stringify(checkdata));
        assert.deepEqual(res.json(), { error: 'Field checkdata is missing in POST data' });
      }
    });

    test('check data sent as a string holding JSON is taken', async () => {
      const a = await register();
      const res = await submit(a, JSON.stringify(fixture('oitc-3.0.0-linux.json')));
      assert.equal(res.statusCode, 200, res.body);
    });

    test('submit_package_info takes the inventory under checkdata, as agents 3.x send it', async () => {
      const a = await register();
      for (const file of ['ubuntu2404.json', 'almalinux9.json']) {
        const inventory = JSON.parse(
          readFileSync(path.join(INVENTORIES, 'oitc-packages', file), 'utf8'),
        );
        const res = await post('/agentconnector/submit_package_info.json', {
          ...a,
          checkdata: inventory,
        });
        assert.equal(res.statusCode, 200, `${file}: ${res.body}`);
        assert.deepEqual(res.json(), { success: true });
      }
      const missing = await post('/agentconnector/submit_package_info.json', a);
      assert.equal(missing.statusCode, 400);
      const bad = await post('/agentconnector/submit_package_info.json', {
        ...a,
        checkdata: { Enabled: 'yes' },
      });
      assert.equal(bad.statusCode, 400);
    });

    test('times beyond the date range are 400 on every push path, and nothing is stored', async () => {
      const a = await register();
      const row = (await h.vigil.agents.row(a.agentuuid))!;
      for (const stamp of [8_640_000_000_001, 1e300]) {
        const res = await submit(a, withCheck('OK|x=1', stamp));
        assert.equal(res.statusCode, 400, String(stamp));
        assert.match(res.json().error, /out of range/);
      }
      for (const collected of [8_640_000_000_000_001, 1e300, Number.POSITIVE_INFINITY, -1])
        await assert.rejects(
          h.vigil.telemetry.ingest(ingestTarget(row), collected, withCheck('OK')),
          (err: unknown) => err instanceof VigilError && err.kind === 'bad_data',
        );
      await h.vigil.intake.recordPull(row, { document: withCheck('OK', 1e300) });
      assert.match((await h.vigil.agents.row(a.agentuuid))!.last_error ?? '', /out of range/);
      assert.equal(await h.vigil.telemetry.current(a.hostId), undefined);
      const exported = await api('/api/v1/export/metrics');
      assert.equal(exported.statusCode, 200, exported.body);
    });

    test('a clock far ahead is taken as the server time and flagged until it is fine', async () => {
      const a = await register();
      const before = Date.now();
      const year2100 = Date.parse('2100-01-01T00:00:00Z') / 1000;
      const res = await submit(a, withCheck('OK|x=1', year2100));
      assert.equal(res.statusCode, 200, res.body);
      const skewed = await agentView(a.agentuuid);
      assert.ok(skewed.clock_skew_seconds! > year2100 - before / 1000 - 60);
      const cur = await h.vigil.telemetry.current(a.hostId);
      assert.ok(cur!.ts >= before && cur!.ts <= Date.now(), 'stored at the server time');
      const exported = await api('/api/v1/export/metrics');
      assert.equal(exported.statusCode, 200, exported.body);
      // A native push from a skewed clock is flagged the same way.
      const row = (await h.vigil.agents.row(a.agentuuid))!;
      await h.vigil.telemetry.ingest(ingestTarget(row), Date.now() + 3_600_000, withCheck('OK'));
      const hour = (await agentView(a.agentuuid)).clock_skew_seconds!;
      assert.ok(hour > 3500 && hour <= 3600, String(hour));
      const fine = await submit(a, withCheck('OK|x=2', nowSeconds() + 60));
      assert.equal(fine.statusCode, 200, fine.body);
      assert.equal((await agentView(a.agentuuid)).clock_skew_seconds, null);
    });

    test('bodies over agents.max_document_bytes are 413 in the face format', async () => {
      const a = await register();
      // An unknown section counts against the limit like any other.
      const doc = { ...withCheck('OK'), vendor_blob: 'x'.repeat(300_000) };
      const res = await submit(a, doc);
      assert.equal(res.statusCode, 413);
      assert.equal(typeof res.json().error, 'string');
      const small = await submit(a, { ...withCheck('OK'), vendor_blob: 'x'.repeat(1000) });
      assert.equal(small.statusCode, 200, small.body);
    });
  });
}

describe('the openITCOCKPIT API key', () => {
  let h: Harness;
  before(async () => {
    const [sqlite] = await databaseKinds();
    h = await startHarness(sqlite!, { env: { VIGIL_AGENTS_OITC_API_KEY: 'k3y-for-agents' } });
  });
  after(() => h.close());

  test('missing or wrong: 405 with the body openITCOCKPIT answers, as its agents expect', async () => {
    for (const url of [
      '/agentconnector/register_agent.json',
      '/agentconnector/submit_checkdata.json',
      '/agentconnector/submit_package_info.json',
    ])
      for (const headers of [{}, { authorization: 'X-OITC-API wrong' }, { authorization: 'k3y' }]) {
        const res = await h.inject({
          method: 'POST',
          url,
          headers,
          payload: { agentuuid: '7f1a2b3c-0000-4000-8000-00000000abcd', password: '' },
        });
        assert.equal(res.statusCode, 405, `${url} ${JSON.stringify(headers)}`);
        assert.equal(
          res.body,
          `{"message":"Method Not Allowed","url":"${url.replace(/\//g, '\\/')}","code":405}`,
        );
      }
    const ok = await h.inject({
      method: 'POST',
      url: '/agentconnector/register_agent.json',
      headers: { authorization: 'X-OITC-API k3y-for-agents' },
      payload: { agentuuid: '7f1a2b3c-0000-4000-8000-00000000abcd', password: '' },
    });
    assert.equal(ok.statusCode, 201, ok.body);
  });
});

describe('native pushes over mutual TLS', () => {
  let vigil: Vigil;
  let dir: string;
  let drop: () => Promise<void>;
  let base: string;
  let client: { ca: string; cert: string; key: string };
  const push = (body: unknown) =>
    httpsJson(`${base}/api/v1/agents/tls-01/checkdata`, { ...client, body });

  before(async () => {
    const [sqlite] = await databaseKinds();
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-mtls-'));
    const config = loadConfig({
      file: path.join(dir, 'absent.toml'),
      fileRequired: false,
      env: {
        VIGIL_STORAGE_DATA_DIR: dir,
        VIGIL_SERVER_TLS: 'auto',
        VIGIL_AGENTS_MAX_DOCUMENT_BYTES: '65536',
      },
    });
    const tls = await ensureAutoTls(path.join(dir, 'tls'));
    const created = await sqlite!.create();
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
    const token = login.json().access_token as string;
    const agent = await vigil.http.inject({
      method: 'POST',
      url: '/api/v1/agents',
      headers: { authorization: `Bearer ${token}` },
      payload: { id: 'tls-01', name: 'tls-01' },
    });
    assert.equal(agent.statusCode, 201, agent.body);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const enrolled = await vigil.http.inject({
      method: 'POST',
      url: '/api/v1/agents/enroll',
      payload: {
        token: agent.json().enrollment_token,
        csr: buildCsr(privateKey, 'tls-01'),
        hostname: 'tls-01',
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
  });
  after(async () => {
    await vigil?.close();
    await drop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a document is taken; a body over agents.max_document_bytes is 413', async () => {
    const ok = await push({ collected_at: Date.now(), checkdata: withCheck('OK|a=1') });
    assert.equal(ok.status, 200, ok.text);
    const big = await push({
      collected_at: Date.now(),
      checkdata: { ...withCheck('OK'), vendor_blob: 'x'.repeat(70_000) },
    });
    assert.equal(big.status, 413, big.text);
    assert.equal(big.body.error.code, 'request.too_large');
  });

  test('a time beyond the date range is 400; a clock far ahead is flagged on the agent', async () => {
    for (const collected of [8_640_000_000_000_001, 1e300]) {
      const res = await push({ collected_at: collected, checkdata: withCheck('OK') });
      assert.equal(res.status, 400, `${collected}: ${res.text}`);
    }
    const ahead = await push({
      collected_at: Date.parse('2100-01-01T00:00:00Z'),
      checkdata: withCheck('OK'),
    });
    assert.equal(ahead.status, 200, ahead.text);
    assert.ok((await vigil.agents.get('tls-01')).clock_skew_seconds! > 86_400);
    const fine = await push({ collected_at: Date.now(), checkdata: withCheck('OK') });
    assert.equal(fine.status, 200, fine.text);
    assert.equal((await vigil.agents.get('tls-01')).clock_skew_seconds, null);
  });
});
