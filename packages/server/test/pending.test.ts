import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { buildCsr } from '../../agent/src/serve/csr.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';

const csrFor = (name: string) => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return buildCsr(privateKey, name);
};

for (const kind of await databaseKinds()) {
  describe(`pending enrollments on ${kind.name}`, () => {
    let h: Harness;
    let clock = Date.now();

    before(async () => {
      h = await startHarness(kind, {
        env: {
          VIGIL_SERVER_TLS: 'auto',
          VIGIL_AGENTS_PENDING_PER_ADDRESS: '3',
          VIGIL_AGENTS_PENDING_TTL_HOURS: '24',
        },
        now: () => clock,
      });
    });
    after(() => h.close());

    const enroll = (from: string, hostname: string) =>
      h.inject({
        method: 'POST',
        url: '/api/v1/agents/enroll',
        remoteAddress: from,
        payload: { csr: csrFor(hostname), hostname },
      });
    const register = (from: string, agentuuid: string) =>
      h.inject({
        method: 'POST',
        url: '/agentconnector/register_agent.json',
        remoteAddress: from,
        payload: { agentuuid, password: '', hostname: agentuuid, ipaddress: '192.0.2.99' },
      });
    const pendingIds = async () =>
      (
        await h.vigil.db.kysely
          .selectFrom('agents')
          .select('id')
          .where('approval', '=', 'pending')
          .execute()
      ).map((r) => r.id);

    test('pending requests per source address are limited: 429 in the native envelope beyond agents.pending_per_address', async () => {
      for (let i = 0; i < 2; i++)
        assert.equal((await enroll('10.9.0.1', `flood-${i}`)).statusCode, 202);
      // openITCOCKPIT registrations count too, by where they came from, not what they claim.
      const oitc = await register('10.9.0.1', '7d3c1a52-0000-4000-8000-000000000001');
      assert.equal(oitc.statusCode, 201, oitc.body);
      const refused = await enroll('10.9.0.1', 'flood-3');
      assert.equal(refused.statusCode, 429, refused.body);
      const body = refused.json();
      assert.equal(body.error.code, 'agent.too_many_pending');
      assert.match(
        body.error.human_message,
        /3 enrollment requests from 10\.9\.0\.1 already wait for approval \(agents\.pending_per_address\)/,
      );
      assert.ok(refused.headers['retry-after']);
      const refusedOitc = await register('10.9.0.1', '7d3c1a52-0000-4000-8000-000000000002');
      assert.equal(refusedOitc.statusCode, 429);
      // Another address is not locked out.
      assert.equal((await enroll('10.9.0.2', 'real-agent')).statusCode, 202);
      // A decision makes room again.
      const [first] = await h.vigil.db.kysely
        .selectFrom('agents')
        .select('id')
        .where('enrolled_from', '=', '10.9.0.1')
        .where('approval', '=', 'pending')
        .execute();
      const admin = await h.login();
      const rejected = await h.inject({
        method: 'POST',
        url: `/api/v1/agents/pending/${first!.id}/reject`,
        headers: { authorization: `Bearer ${admin}` },
      });
      assert.equal(rejected.statusCode, 200, rejected.body);
      assert.equal((await enroll('10.9.0.1', 'flood-4')).statusCode, 202);
    });

    test('requests arriving together cannot all pass the count', async () => {
      const answers = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          i % 2
            ? enroll('10.9.2.1', `burst-${i}`)
            : register(
                '10.9.2.1',
                `7d3c1a52-0000-4000-8000-0000000001${String(i).padStart(2, '0')}`,
              ),
        ),
      );
      const taken = answers.filter((a) => a.statusCode === 201 || a.statusCode === 202).length;
      assert.equal(taken, 3, answers.map((a) => a.statusCode).join(' '));
      assert.ok(answers.every((a) => [201, 202, 429].includes(a.statusCode)));
      const stored = await h.vigil.db.kysely
        .selectFrom('agents')
        .select('id')
        .where('enrolled_from', '=', '10.9.2.1')
        .where('approval', '=', 'pending')
        .execute();
      assert.equal(stored.length, 3);
    });

    test('IPv6 sources are counted by their /64', async () => {
      for (const [i, from] of [
        '2001:db8:5:6::1',
        '2001:db8:5:6:ffff::2',
        '2001:db8:5:6::3',
      ].entries())
        assert.equal((await enroll(from, `v6-${i}`)).statusCode, 202);
      const refused = await enroll('2001:db8:5:6:1234:5678:9abc:def0', 'v6-3');
      assert.equal(refused.statusCode, 429, refused.body);
      assert.match(refused.json().error.human_message, /from 2001:db8:5:6::\/64 already wait/);
      // The neighbouring /64 is another site.
      assert.equal((await enroll('2001:db8:5:7::1', 'v6-other')).statusCode, 202);
    });

    test('pending requests older than agents.pending_ttl_hours are removed, audited as the system', async () => {
      const stale = (await enroll('10.9.1.1', 'stale-one')).json().agent_id as string;
      clock += 23 * 3_600_000;
      const fresh = (await enroll('10.9.1.2', 'fresh-one')).json().agent_id as string;
      clock += 2 * 3_600_000;
      const removed = await h.vigil.agents.expirePending();
      assert.ok(removed >= 1, `removed ${removed}`);
      const left = await pendingIds();
      assert.ok(!left.includes(stale), 'the stale request is gone');
      assert.ok(left.includes(fresh), 'a younger one stays');
      const events = await h.vigil.db.kysely
        .selectFrom('audit_events')
        .selectAll()
        .where('resource_id', '=', stale)
        .where('action', '=', 'agent.expire')
        .execute();
      assert.equal(events.length, 1);
      assert.equal(events[0]!.actor_type, 'system');
      assert.match(events[0]!.detail, /10\.9\.1\.1/);
      assert.equal(await h.vigil.agents.expirePending(), 0, 'nothing more to remove');
    });
  });
}
