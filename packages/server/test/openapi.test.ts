import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isKnownPermission } from '@vigil/protocol';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';
import { operations, type Doc } from '../../../test/support/openapi.js';

for (const kind of await databaseKinds()) {
  describe(`OpenAPI document on ${kind.name}`, () => {
    let h: Harness;
    let doc: Doc;
    before(async () => {
      h = await startHarness(kind);
      const res = await h.inject({ method: 'GET', url: '/api/v1/openapi.json' });
      assert.equal(res.statusCode, 200);
      doc = res.json() as Doc;
    });
    after(() => h.close());

    test('is OpenAPI 3.1 and describes the native face', () => {
      assert.equal(doc.openapi, '3.1.0');
      for (const p of [
        '/api/v1/health',
        '/api/v1/version',
        '/api/v1/auth/login',
        '/api/v1/auth/refresh',
        '/api/v1/auth/logout',
        '/api/v1/auth/me',
        '/api/v1/audit/events',
        '/health',
      ])
        assert.ok(doc.paths[p], `${p} is documented`);
      assert.ok(
        !Object.keys(doc.paths).some((p) => p.startsWith('/api/v1/docs')),
        'the docs UI is not an operation',
      );
    });

    test('every protected operation names its permission; anonymous ones are the documented few', () => {
      const anonymous = operations(doc)
        .filter((o) => o.op.security?.length === 0)
        .map((o) => `${o.method} ${o.path}`)
        .sort();
      assert.deepEqual(anonymous, [
        'GET /api/v1/health',
        'GET /api/v1/version',
        'GET /health',
        'POST /api/v1/agents/enroll',
        'POST /api/v1/agents/enroll/poll',
        'POST /api/v1/auth/login',
        'POST /api/v1/auth/refresh',
      ]);
      for (const o of operations(doc).filter((x) => x.op.security?.length)) {
        const perm = o.op['x-required-permission'];
        if ((o.op.security?.[0] as Record<string, unknown> | undefined)?.agentCertificate) {
          assert.equal(perm, undefined, `${o.method} ${o.path}: agent certificate, no permission`);
          continue;
        }
        assert.ok(perm, `${o.method} ${o.path} carries x-required-permission`);
        assert.ok(
          perm === 'authenticated' || isKnownPermission(perm),
          `${perm} is in the registry`,
        );
      }
    });

    test('sweep: every protected operation answers 401 without a token', async () => {
      const protectedOps = operations(doc).filter((o) => o.op.security?.length);
      assert.ok(protectedOps.length >= 3);
      for (const o of protectedOps) {
        const res = await h.inject({
          method: o.method,
          url: o.url,
          ...(o.method === 'GET' || o.method === 'DELETE' ? {} : { payload: {} }),
        });
        assert.equal(res.statusCode, 401, `${o.method} ${o.path}`);
        assert.equal(res.json().error.fault, 'client');
      }
    });

    test('a browsable documentation page is served', async () => {
      const res = await h.inject({ method: 'GET', url: '/api/v1/docs/' });
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /swagger-ui/i);
      const spec = await h.inject({ method: 'GET', url: '/api/v1/docs/json' });
      assert.equal(spec.json().openapi, '3.1.0');
    });
  });
}
