import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';

// OpenWatch's license endpoints: Vigil has no paid tier, so the license is the highest tier,
// active, with every feature and no expiry; verifying one is a dry run that installs nothing.
// Nothing answers 402.

for (const kind of await databaseKinds()) {
  describe(`license on ${kind.name}`, () => {
    let h: Harness;
    let admin: string;
    let viewer: string;
    const call = (method: 'GET' | 'POST', url: string, token?: string, payload?: unknown) =>
      h.inject({
        method,
        url,
        headers: token ? { authorization: `Bearer ${token}` } : {},
        ...(payload === undefined ? {} : { payload: payload as object }),
      });

    before(async () => {
      h = await startHarness(kind);
      admin = await h.login();
      viewer = await h.userWithRoles('viewer-1', ['viewer']);
    });
    after(() => h.close());

    test('the license: enterprise, active, every feature, no expiry, for any caller', async () => {
      for (const token of [admin, viewer]) {
        const res = await call('GET', '/api/v1/license', token);
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json();
        assert.equal(body.tier, 'enterprise');
        assert.equal(body.status, 'active');
        assert.equal(body.edition, 'vigil');
        assert.equal(body.expires_at, null);
        assert.equal(body.seats, null);
        assert.equal(body.licensee, null);
        for (const f of ['compliance', 'fleet', 'intelligence', 'alerts', 'logs'])
          assert.ok(body.features.includes(f), f);
        assert.match(body.message, /no paid tier/);
      }
      assert.equal((await call('GET', '/api/v1/license')).statusCode, 401);
    });

    test('verify: any license text is valid and nothing is installed', async () => {
      for (const body of [{ license: 'eyJhbGciOi.x.y' }, { token: 'abc' }, { jwt: 'a.b.c' }]) {
        const res = await call('POST', '/api/v1/admin/license:verify', admin, body);
        assert.equal(res.statusCode, 200, res.body);
        const answer = res.json();
        assert.equal(answer.valid, true);
        assert.equal(answer.installed, false);
        assert.equal(answer.tier, 'enterprise');
        assert.equal(answer.status, 'active');
        assert.equal(answer.expires_at, null);
        assert.ok(answer.features.includes('compliance'));
        assert.match(answer.message, /nothing was installed/);
      }
      const events = await call('GET', '/api/v1/audit/events?action=license.verify', admin);
      assert.deepEqual(events.json().items, [], 'a dry run is not audited');
    });

    test('verify: no license text is 400 in the error envelope, never 402', async () => {
      for (const body of [{}, { license: '' }, { license: '   ' }, { token: 42 }, []]) {
        const res = await call('POST', '/api/v1/admin/license:verify', admin, body);
        assert.equal(res.statusCode, 400, `${JSON.stringify(body)}: ${res.body}`);
        assert.equal(res.json().error.code, 'validation_failed');
        assert.equal(res.json().error.fault, 'client');
      }
    });

    test('verify needs system:write', async () => {
      const res = await call('POST', '/api/v1/admin/license:verify', viewer, { license: 'x' });
      assert.equal(res.statusCode, 403);
      assert.equal(res.json().error.fault, 'policy');
    });
  });
}
