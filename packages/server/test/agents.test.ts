// Over 500 lines: one suite per database kind, each on one server harness; split files would
// each start their own servers (and PostgreSQL databases) again.
import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AgentList, AgentView, CreatedAgent, EnrollResponse } from '@vigil/protocol';
import { buildCsr } from '../../agent/src/serve/csr.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { MAX_PENDING } from '../src/agents/enrollment.js';
import { ingestTarget } from '../src/agents/model.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';
import { assertMatches } from '../../../test/support/schema.js';
import { CHECKDATA_FIXTURE as FIXTURE } from '../../../test/support/fixtures.js';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

/** A real check-data document (recorded from the agent on Debian 12), with a fresh timestamp. */
function document(stamp = Math.floor(Date.now() / 1000)): Record<string, unknown> {
  const doc = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;
  (doc.agent as Record<string, unknown>).last_updated_timestamp = stamp;
  return doc;
}

const csrFor = (name: string) => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return buildCsr(privateKey, name);
};

for (const kind of await databaseKinds()) {
  describe(`agents on ${kind.name}`, () => {
    let h: Harness;
    let admin: string;
    const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
      h.inject({ method: 'POST', url, payload: payload as object, headers });
    const api = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) =>
      h.inject({ method, url, headers: bearer(admin), payload: payload as object });

    before(async () => {
      h = await startHarness(kind, {
        env: { VIGIL_SERVER_TLS: 'auto', VIGIL_AGENTS_COMMAND_TIMEOUT_SECONDS: '1' },
      });
      admin = await h.login();
    });
    after(() => h.close());

    describe('openITCOCKPIT push registration', () => {
      const uuid = '0b7bc0a4-1d2e-4c39-9b8b-3b1e0c1a2f01';
      let password = '';

      test('a new uuid with an empty password: 201 with a fresh 128-hex password', async () => {
        const res = await post('/agentconnector/register_agent.json', {
          agentuuid: uuid,
          password: '',
          hostname: 'oitc-host-1',
          ipaddress: '192.0.2.10',
        });
        assert.equal(res.statusCode, 201);
        const body = res.json();
        assert.equal(body.agentuuid, uuid);
        assert.match(body.password, /^[0-9a-f]{128}$/);
        password = body.password;
      });

      test('the known uuid and its password: 200 with success', async () => {
        const res = await post('/agentconnector/register_agent.json', {
          agentuuid: uuid,
          password,
        });
        assert.equal(res.statusCode, 200);
        assert.deepEqual(res.json(), { agentuuid: uuid, password, success: true });
      });

      test('error states answer exactly as openITCOCKPIT does', async () => {
        const cases: [unknown, number, string][] = [
          [{ agentuuid: uuid }, 400, 'Field uuid or password is missing in POST data'],
          [{ password: '' }, 400, 'Field uuid or password is missing in POST data'],
          [
            { agentuuid: uuid, password: '' },
            403,
            'The given UUID is already registed with a password!',
          ],
          [
            { agentuuid: uuid, password: 'f'.repeat(128) },
            404,
            'No Agent found for given UUID and password',
          ],
          [
            { agentuuid: '5d0c7e1e-0000-4000-8000-000000000000', password: 'abc' },
            404,
            'No Agent found for given UUID and password',
          ],
        ];
        for (const [payload, status, error] of cases) {
          const res = await post('/agentconnector/register_agent.json', payload);
          assert.equal(res.statusCode, status, JSON.stringify(payload));
          assert.deepEqual(res.json(), { error });
        }
      });

      test('any method but POST is 405 with escaped slashes', async () => {
        for (const method of ['GET', 'PUT', 'DELETE'] as const) {
          const res = await h.inject({ method, url: '/agentconnector/register_agent.json' });
          assert.equal(res.statusCode, 405);
          assert.equal(
            res.body,
            '{"message":"Method Not Allowed","url":"\\/agentconnector\\/register_agent.json","code":405}',
          );
        }
        const res = await h.inject({ method: 'GET', url: '/agentconnector/submit_checkdata.json' });
        assert.equal(res.statusCode, 405);
        assert.equal(res.json().url, '/agentconnector/submit_checkdata.json');
      });

      test('bad JSON is a 400 in the face format, not a 500', async () => {
        const res = await h.inject({
          method: 'POST',
          url: '/agentconnector/register_agent.json',
          headers: { 'content-type': 'application/json' },
          payload: '{"agentuuid":',
        });
        assert.equal(res.statusCode, 400);
        assert.equal(typeof res.json().error, 'string');
      });

      test('submit_checkdata is refused until the agent is approved', async () => {
        const res = await post('/agentconnector/submit_checkdata.json', {
          agentuuid: uuid,
          password,
          checkdata: document(),
        });
        assert.equal(res.statusCode, 400);
        assert.deepEqual(res.json(), { error: 'Invalid credentials or host not found' });
        const list = (await api('GET', '/api/v1/agents/pending')).json();
        assertMatches(AgentList, list);
        const mine = list.agents.find((a: AgentView) => a.id === uuid);
        assert.equal(mine.status, 'pending');
        assert.equal(mine.kind, 'oitc');
        assert.equal(mine.hostname, 'oitc-host-1');
      });

      test('approved: submit_checkdata answers received_checks and the agent is online', async () => {
        const ok = await api('POST', `/api/v1/agents/pending/${uuid}/approve`);
        assert.equal(ok.statusCode, 200, ok.body);
        assert.ok(ok.json().host_id);
        const doc = document();
        const res = await post('/agentconnector/submit_checkdata.json', {
          agentuuid: uuid,
          password,
          checkdata: doc,
        });
        assert.equal(res.statusCode, 200, res.body);
        const custom = Object.keys(doc.customchecks as object).length;
        assert.deepEqual(res.json(), {
          received_checks: Object.keys(doc).length - 1 + custom,
        });
        const agent = (await api('GET', `/api/v1/agents/${uuid}`)).json();
        assertMatches(AgentView, agent);
        assert.equal(agent.status, 'online');
        assert.equal(agent.os, 'linux');
        assert.equal(agent.architecture, 'amd64');
        const wrong = await post('/agentconnector/submit_checkdata.json', {
          agentuuid: uuid,
          password: 'x',
          checkdata: doc,
        });
        assert.equal(wrong.statusCode, 400);
      });

      test('an empty checkdata ({}) is a contact, not a push: the host keeps its values', async () => {
        const agent = (await api('GET', `/api/v1/agents/${uuid}`)).json() as AgentView;
        const before = await h.vigil.telemetry.current(agent.host_id!);
        assert.ok(before && before.values.length > 0);
        const res = await post('/agentconnector/submit_checkdata.json', {
          agentuuid: uuid,
          password,
          checkdata: {},
        });
        assert.equal(res.statusCode, 200, res.body);
        assert.deepEqual(res.json(), { received_checks: 0 });
        assert.deepEqual(await h.vigil.telemetry.current(agent.host_id!), before);
        assert.equal((await api('GET', `/api/v1/agents/${uuid}`)).json().status, 'online');
      });

      test('a field of the wrong type is dropped, not the push; no document at all is 400', async () => {
        const doc = document(Math.floor(Date.now() / 1000) + 5);
        (doc.memory as Record<string, unknown>).total = 'lots';
        const res = await post('/agentconnector/submit_checkdata.json', {
          agentuuid: uuid,
          password,
          checkdata: doc,
        });
        assert.equal(res.statusCode, 200, res.body);
        // A bad process entry too (the process list is checked apart from the rest).
        const procDoc = document(Math.floor(Date.now() / 1000) + 6);
        (procDoc.processes as Record<string, unknown>[])[3]!.pid = 'x';
        const proc = await post('/agentconnector/submit_checkdata.json', {
          agentuuid: uuid,
          password,
          checkdata: procDoc,
        });
        assert.equal(proc.statusCode, 200, proc.body);
        const missing = await post('/agentconnector/submit_checkdata.json', {
          agentuuid: uuid,
          password,
        });
        assert.equal(missing.statusCode, 400);
      });

      test('a package inventory is taken and validated', async () => {
        const inventory = JSON.parse(
          readFileSync(
            path.join(
              import.meta.dirname,
              '..',
              '..',
              'agent',
              'test',
              'fixtures',
              'oitc-packages',
              'ubuntu2404.json',
            ),
            'utf8',
          ),
        );
        const res = await post('/agentconnector/submit_package_info.json', {
          agentuuid: uuid,
          password,
          packageinfo: inventory,
        });
        assert.equal(res.statusCode, 200, res.body);
        const bad = await post('/agentconnector/submit_package_info.json', {
          agentuuid: uuid,
          password,
          packageinfo: { Enabled: 'yes' },
        });
        assert.equal(bad.statusCode, 400);
      });

      test('revoked: the password stops working at once', async () => {
        const r = await api('POST', `/api/v1/agents/${uuid}/revoke`);
        assert.equal(r.statusCode, 200);
        assert.equal(r.json().status, 'revoked');
        const res = await post('/agentconnector/submit_checkdata.json', {
          agentuuid: uuid,
          password,
          checkdata: document(),
        });
        assert.equal(res.statusCode, 400);
        const again = await api('POST', `/api/v1/agents/${uuid}/revoke`);
        assert.equal(again.statusCode, 409);
      });
    });

    describe('native enrollment', () => {
      test('manual add returns a one-time token that signs a client certificate', async () => {
        const created = await api('POST', '/api/v1/agents', { id: 'web-01', name: 'Web 01' });
        assert.equal(created.statusCode, 201, created.body);
        const c = created.json();
        assertMatches(CreatedAgent, c);
        assert.match(c.enrollment_token, /^vge_/);
        const enroll = await post('/api/v1/agents/enroll', {
          token: c.enrollment_token,
          csr: csrFor('web-01.example'),
          hostname: 'web-01.example',
          os: 'linux',
          architecture: 'amd64',
          version: '0.1.0',
        });
        assert.equal(enroll.statusCode, 201, enroll.body);
        const e = enroll.json() as EnrollResponse;
        assertMatches(EnrollResponse, e);
        assert.equal(e.agent_id, 'web-01');
        const cert = new X509Certificate(e.certificate!);
        assert.ok(cert.verify(new X509Certificate(e.ca_certificate!).publicKey));
        assert.match(cert.subject, /CN=web-01/);
        assert.equal(e.ca_certificate!.trim(), h.vigil.ca.caPem.trim());
        const reuse = await post('/api/v1/agents/enroll', {
          token: c.enrollment_token,
          csr: csrFor('x'),
          hostname: 'x',
        });
        assert.equal(reuse.statusCode, 401);
        assert.equal(reuse.json().error.code, 'agent.token_invalid');
        const row = await h.vigil.agents.row('web-01');
        assert.equal(row?.cert_fingerprint, cert.fingerprint256);
        const owner = await h.vigil.enrollment.byCertificate({
          authorized: true,
          fingerprint: cert.fingerprint256,
        });
        assert.equal(owner.id, 'web-01');
        const events = (await api('GET', '/api/v1/audit/events?action=agent.enroll')).json();
        const ev = events.items.find((e: { actor_id: string }) => e.actor_id === 'web-01');
        assert.equal(ev.actor_type, 'agent');
        assert.equal(ev.resource_id, 'web-01');
        assert.equal(
          JSON.stringify(ev).includes(c.enrollment_token),
          false,
          'no token in the event',
        );
      });

      test('bad input: ids, addresses, CSRs, duplicates', async () => {
        const cases: [unknown, number][] = [
          [{ id: '../etc', name: 'x' }, 400],
          [{ name: '' }, 400],
          [{ id: 'web-01', name: 'again' }, 409],
          [{ name: 'p', address: 'not an address' }, 400],
          [{ name: 'p', interval_seconds: 0 }, 400],
        ];
        for (const [payload, status] of cases) {
          const res = await api('POST', '/api/v1/agents', payload);
          assert.equal(res.statusCode, status, `${JSON.stringify(payload)}: ${res.body}`);
          assert.ok(res.json().error.code);
        }
        const t = (await api('POST', '/api/v1/agents', { name: 'csr-test' })).json();
        const bad = await post('/api/v1/agents/enroll', {
          token: t.enrollment_token,
          csr: `-----BEGIN CERTIFICATE REQUEST-----\n${'A'.repeat(120)}\n-----END CERTIFICATE REQUEST-----`,
          hostname: 'h',
        });
        assert.equal(bad.statusCode, 400);
        assert.equal(bad.json().error.code, 'agent.csr_invalid');
        const badPending = await post('/api/v1/agents/enroll', {
          id: 'bad-csr',
          csr: `-----BEGIN CERTIFICATE REQUEST-----\n${'A'.repeat(120)}\n-----END CERTIFICATE REQUEST-----`,
          hostname: 'h',
        });
        assert.equal(badPending.statusCode, 400, badPending.body);
        assert.equal(badPending.json().error.code, 'agent.csr_invalid');
        assert.equal(
          (await api('GET', '/api/v1/agents/bad-csr')).statusCode,
          404,
          'nothing stored',
        );
        assert.equal((await api('GET', '/api/v1/agents/nope')).statusCode, 404);
        assert.equal((await api('DELETE', '/api/v1/agents/nope')).statusCode, 404);
        assert.equal((await api('POST', '/api/v1/agents/pending/web-01/approve')).statusCode, 409);
      });

      test('without a token: pending, approved by an operator, certificate fetched once', async () => {
        const res = await post('/api/v1/agents/enroll', {
          id: 'self-01',
          csr: csrFor('self-01'),
          hostname: 'self-01.example',
        });
        assert.equal(res.statusCode, 202, res.body);
        const pending = res.json();
        assert.equal(pending.status, 'pending');
        assert.ok(pending.poll_secret);
        const poll = () =>
          post('/api/v1/agents/enroll/poll', {
            agent_id: 'self-01',
            poll_secret: pending.poll_secret,
          });
        assert.equal((await poll()).statusCode, 202);
        const wrong = await post('/api/v1/agents/enroll/poll', {
          agent_id: 'self-01',
          poll_secret: 'vgp_wrong',
        });
        assert.equal(wrong.statusCode, 401);
        const list = (await api('GET', '/api/v1/agents/pending')).json();
        assert.ok(list.agents.some((a: AgentView) => a.id === 'self-01'));
        assert.equal((await api('POST', '/api/v1/agents/pending/self-01/approve')).statusCode, 200);
        const done = await poll();
        assert.equal(done.statusCode, 200, done.body);
        assert.ok(new X509Certificate(done.json().certificate).subject.includes('CN=self-01'));
        assert.equal((await poll()).statusCode, 401);
        const dup = await post('/api/v1/agents/enroll', {
          id: 'self-01',
          csr: csrFor('self-01'),
          hostname: 'self-01.example',
        });
        assert.equal(dup.statusCode, 409);
      });

      test('a rejected enrollment is told so at its next poll', async () => {
        const res = await post('/api/v1/agents/enroll', {
          id: 'self-02',
          csr: csrFor('self-02'),
          hostname: 'self-02',
        });
        const secret = res.json().poll_secret;
        assert.equal((await api('POST', '/api/v1/agents/pending/self-02/reject')).statusCode, 200);
        const poll = await post('/api/v1/agents/enroll/poll', {
          agent_id: 'self-02',
          poll_secret: secret,
        });
        assert.equal(poll.statusCode, 403);
        assert.equal(poll.json().error.code, 'agent.rejected');
      });

      test('the mutual-TLS routes refuse a request without a client certificate', async () => {
        const res = await post('/api/v1/agents/web-01/checkdata', {
          collected_at: Date.now(),
          checkdata: document(),
        });
        assert.equal(res.statusCode, 401);
        assert.equal(res.json().error.code, 'agent.certificate_required');
      });
    });

    describe('process commands', () => {
      test('signals outside 1, 2, 9, 15, 18, 19 are 400; agent_id is required', async () => {
        for (const signal of [0, 3, 11, 64]) {
          const res = await api('POST', '/api/v1/processes/123/signal?agent_id=web-01', { signal });
          assert.equal(res.statusCode, 400, `signal ${signal}`);
        }
        const missing = await api('POST', '/api/v1/processes/123/signal', { signal: 15 });
        assert.equal(missing.statusCode, 400);
        const pid0 = await api('POST', '/api/v1/processes/0/signal?agent_id=web-01', {
          signal: 15,
        });
        assert.equal(pid0.statusCode, 400);
      });

      test('a push agent that never answers: 504 after the timeout', async () => {
        const res = await api('POST', '/api/v1/processes/123/signal?agent_id=web-01', {
          signal: 15,
        });
        assert.equal(res.statusCode, 504, res.body);
        assert.equal(res.json().error.code, 'agent.timeout');
      });

      test('the agent picks the command up and its answer reaches the caller', async () => {
        const row = (await h.vigil.agents.row('web-01'))!;
        const pending = api('POST', '/api/v1/processes/4242/signal', {
          signal: 15,
          agent_id: 'web-01',
        });
        const [cmd] = await h.vigil.commands.waitCommands(row, 2000, new AbortController().signal);
        assert.equal(cmd?.kind, 'process.signal');
        h.vigil.commands.completeCommand(row, cmd!.id, { ok: true });
        const res = await pending;
        assert.equal(res.statusCode, 200, res.body);
        assert.deepEqual(res.json(), {
          pid: 4242,
          signal: 15,
          agent_id: 'web-01',
          delivered: true,
        });

        const gone = api('GET', '/api/v1/processes/4243?agent_id=web-01');
        const [c2] = await h.vigil.commands.waitCommands(row, 2000, new AbortController().signal);
        h.vigil.commands.completeCommand(row, c2!.id, {
          ok: false,
          failure: 'no_such_process',
          message: 'no such process',
        });
        assert.equal((await gone).statusCode, 404);
        const events = (await api('GET', '/api/v1/audit/events?action=process.signal')).json();
        assert.ok(
          events.items.some(
            (e: { detail: { outcome: string } }) => e.detail.outcome === 'delivered',
          ),
        );
      });

      test('an openITCOCKPIT push agent has no command channel: 409', async () => {
        const res = await api(
          'POST',
          '/api/v1/processes/1/signal?agent_id=0b7bc0a4-1d2e-4c39-9b8b-3b1e0c1a2f01',
          { signal: 15 },
        );
        assert.equal(res.statusCode, 409);
      });
    });

    test('viewers read agents but cannot add or signal', async () => {
      const viewer = await h.userWithRoles(`viewer-${kind.name}`, ['viewer']);
      const get = await h.inject({ method: 'GET', url: '/api/v1/agents', headers: bearer(viewer) });
      assert.equal(get.statusCode, 200);
      const add = await h.inject({
        method: 'POST',
        url: '/api/v1/agents',
        headers: bearer(viewer),
        payload: { name: 'x' },
      });
      assert.equal(add.statusCode, 403);
      const sig = await h.inject({
        method: 'POST',
        url: '/api/v1/processes/1/signal?agent_id=web-01',
        headers: bearer(viewer),
        payload: { signal: 15 },
      });
      assert.equal(sig.statusCode, 403);
    });
  });
}

describe('auto-approval and the API key', () => {
  let h: Harness;
  before(async () => {
    const [sqlite] = await databaseKinds();
    h = await startHarness(sqlite!, {
      env: {
        VIGIL_AGENTS_AUTO_APPROVE_NETWORKS: '127.0.0.0/8, ::1/128',
        VIGIL_AGENTS_OITC_API_KEY: 'k3y-for-agents',
      },
    });
  });
  after(() => h.close());

  test('without the configured API key: 405; with it, a loopback agent is approved at once', async () => {
    const payload = {
      agentuuid: '7f1a2b3c-0000-4000-8000-00000000abcd',
      password: '',
      hostname: 'auto',
    };
    const no = await h.inject({
      method: 'POST',
      url: '/agentconnector/register_agent.json',
      payload,
    });
    assert.equal(no.statusCode, 405);
    assert.equal(no.json().message, 'Method Not Allowed');
    const yes = await h.inject({
      method: 'POST',
      url: '/agentconnector/register_agent.json',
      payload,
      headers: { authorization: 'X-OITC-API k3y-for-agents' },
    });
    assert.equal(yes.statusCode, 201);
    const submit = await h.inject({
      method: 'POST',
      url: '/agentconnector/submit_checkdata.json',
      headers: { authorization: 'X-OITC-API k3y-for-agents' },
      payload: {
        agentuuid: payload.agentuuid,
        password: yes.json().password,
        checkdata: document(),
      },
    });
    assert.equal(submit.statusCode, 200, submit.body);
  });
});

test('online until three intervals are missed, then offline', async () => {
  const [sqlite] = await databaseKinds();
  let clock = Date.parse('2026-11-26T10:00:00Z');
  const h = await startHarness(sqlite!, {
    now: () => clock,
    env: { VIGIL_SERVER_TLS: 'auto' },
  });
  try {
    const token = await h.login();
    const created = await h.inject({
      method: 'POST',
      url: '/api/v1/agents',
      headers: bearer(token),
      payload: { id: 'clocked', name: 'Clocked', interval_seconds: 10 },
    });
    assert.equal(created.statusCode, 201);
    const status = async () =>
      (
        await h.inject({ method: 'GET', url: '/api/v1/agents/clocked', headers: bearer(token) })
      ).json().status;
    assert.equal(await status(), 'offline', 'never seen');
    const enrolled = await h.inject({
      method: 'POST',
      url: '/api/v1/agents/enroll',
      payload: {
        token: created.json().enrollment_token,
        csr: csrFor('clocked'),
        hostname: 'clocked',
      },
    });
    assert.equal(enrolled.statusCode, 201, enrolled.body);
    const doc = document(Math.floor(clock / 1000));
    (doc.agent as Record<string, unknown>).check_interval = 10;
    await h.vigil.telemetry.ingest(
      ingestTarget((await h.vigil.agents.row('clocked'))!),
      clock,
      doc,
    );
    assert.equal(await status(), 'online');
    clock += 30_000;
    assert.equal(await status(), 'online', 'three intervals: still online');
    clock += 2_000;
    assert.equal(await status(), 'offline', 'past three intervals: offline');
  } finally {
    await h.close();
  }
});

test('self-registrations waiting for approval are capped: 429 beyond the cap', async () => {
  const [sqlite] = await databaseKinds();
  const h = await startHarness(sqlite!, { env: { VIGIL_SERVER_TLS: 'auto' } });
  try {
    const t = Date.now();
    const rows = Array.from({ length: MAX_PENDING }, (_, i) => ({
      id: `flood-${i}`,
      name: `flood-${i}`,
      kind: 'oitc' as const,
      approval: 'pending' as const,
      interval_seconds: 30,
      registered_at: t,
      updated_at: t,
    }));
    for (let i = 0; i < rows.length; i += 200)
      await h.vigil.db.kysely
        .insertInto('agents')
        .values(rows.slice(i, i + 200))
        .execute();
    const oitc = await h.inject({
      method: 'POST',
      url: '/agentconnector/register_agent.json',
      payload: { agentuuid: '9e8d7c6b-0000-4000-8000-000000000001', password: '' },
    });
    assert.equal(oitc.statusCode, 429);
    assert.match(oitc.json().error, /wait for approval/);
    const native = await h.inject({
      method: 'POST',
      url: '/api/v1/agents/enroll',
      payload: { csr: csrFor('x'), hostname: 'x' },
    });
    assert.equal(native.statusCode, 429);
    assert.equal(native.headers['retry-after'], '60');
  } finally {
    await h.close();
  }
});
