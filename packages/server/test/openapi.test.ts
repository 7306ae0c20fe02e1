import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PERMISSIONS, isKnownPermission } from '@vigil/protocol';
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
        'GET /api/v1/tls/ca',
        'GET /api/v1/version',
        'GET /health',
        'POST /api/v1/agents/enroll',
        'POST /api/v1/agents/enroll/poll',
        'POST /api/v1/auth/login',
        'POST /api/v1/auth/refresh',
        'POST /api/v1/auth/register',
        'POST /oauth/revoke',
        'POST /oauth/token',
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

    test('sweep: a role without an operation’s permission gets 403, a role with only it does not', async () => {
      const admin = await h.login();
      const ops = operations(doc).filter((o) => {
        const p = o.op['x-required-permission'];
        return p !== undefined && p !== 'authenticated';
      });
      const needed = [...new Set(ops.map((o) => o.op['x-required-permission']!))];
      assert.ok(needed.length >= 5);
      const tokens = new Map<string, { without: string; only: string }>();
      for (const perm of needed) {
        const tokenFor = async (name: string, permissions: string[]) => {
          const res = await h.inject({
            method: 'POST',
            url: '/api/v1/roles',
            headers: { authorization: `Bearer ${admin}` },
            payload: { name, permissions },
          });
          assert.equal(res.statusCode, 201, res.body);
          return h.userWithRoles(`user-${name}`, [name]);
        };
        const slug = perm.replace(':', '-');
        tokens.set(perm, {
          without: await tokenFor(
            `without-${slug}`,
            PERMISSIONS.map((p) => p.name).filter((n) => n !== perm),
          ),
          only: await tokenFor(`only-${slug}`, [perm]),
        });
      }
      const send = (o: (typeof ops)[number], token: string) =>
        h.inject({
          method: o.method,
          url: o.url,
          headers: { authorization: `Bearer ${token}` },
          ...(o.method === 'GET' || o.method === 'DELETE' ? {} : { payload: {} }),
        });
      for (const o of ops) {
        const perm = o.op['x-required-permission']!;
        const t = tokens.get(perm)!;
        const denied = await send(o, t.without);
        assert.equal(denied.statusCode, 403, `${o.method} ${o.path} without ${perm}`);
        assert.equal(denied.json().error.code, 'auth.forbidden');
        // A live stream, once allowed, never ends: its access is checked above and in stream tests.
        if (o.path.endsWith('/stream')) continue;
        const allowed = await send(o, t.only);
        assert.ok(
          allowed.statusCode !== 403 && allowed.statusCode !== 401,
          `${o.method} ${o.path} with only ${perm}: ${allowed.statusCode} ${allowed.body}`,
        );
      }
    });

    test('sweep: a viewer cannot mutate anything', async () => {
      const viewer = await h.userWithRoles('plain-viewer', ['viewer']);
      const mutations = operations(doc).filter((o) => {
        const p = o.op['x-required-permission'];
        return (
          o.method !== 'GET' && p !== undefined && p !== 'authenticated' && !p.endsWith(':read')
        );
      });
      assert.ok(mutations.length >= 10);
      for (const o of mutations) {
        const res = await h.inject({
          method: o.method,
          url: o.url,
          headers: { authorization: `Bearer ${viewer}` },
          ...(o.method === 'DELETE' ? {} : { payload: {} }),
        });
        assert.equal(res.statusCode, 403, `${o.method} ${o.path}`);
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
