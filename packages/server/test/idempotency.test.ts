import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { createIdempotency } from '../src/http/idempotency.js';
import { createIdempotencyStore } from '../src/http/idempotency-store.js';
import { buildHttp } from '../src/http/server.js';
import { createSealer } from '../src/secrets/sealer.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';

for (const kind of await databaseKinds()) {
  describe(`Idempotency-Key on ${kind.name}`, () => {
    let h: Harness;
    let clock = Date.parse('2026-11-26T12:00:00Z');
    let admin: string;
    before(async () => {
      h = await startHarness(kind, { now: () => clock });
      admin = await h.login();
    });
    after(() => h.close());

    const post = (url: string, payload: object, key?: string, token = admin) =>
      h.inject({
        method: 'POST',
        url,
        headers: {
          authorization: `Bearer ${token}`,
          ...(key === undefined ? {} : { 'idempotency-key': key }),
        },
        payload,
      });
    const count = async (table: 'agents' | 'roles' | 'audit_events') =>
      Number(
        (
          await h.vigil.db.kysely
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    test('the same key and request replay the first answer; the operation ran once', async () => {
      const agents = await count('agents');
      const events = await count('audit_events');
      const first = await post('/api/v1/agents', { name: 'idem-1' }, 'key-one');
      assert.equal(first.statusCode, 201, first.body);
      const again = await post('/api/v1/agents', { name: 'idem-1' }, 'key-one');
      assert.equal(again.statusCode, 201);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.equal(again.json().id, first.json().id);
      assert.equal(again.body, first.body);
      assert.equal(await count('agents'), agents + 1);
      assert.equal(await count('audit_events'), events + 1, 'one audit event');
      // The kept answer holds a one-time token: sealed, not in clear.
      const kept = await h.vigil.db.kysely
        .selectFrom('idempotency_keys')
        .select('response')
        .where('key', '=', 'key-one')
        .executeTakeFirstOrThrow();
      assert.ok(!kept.response!.includes(first.json().enrollment_token));
      assert.match(kept.response!, /^v1\./);
      // Without a key, each request runs.
      await post('/api/v1/agents', { name: 'idem-1b' });
      await post('/api/v1/agents', { name: 'idem-1b' });
      assert.equal(await count('agents'), agents + 3);
    });

    test('the same key with a different request is 409 idempotency.key_reused', async () => {
      await post('/api/v1/agents', { name: 'idem-2' }, 'key-two');
      const other = await post('/api/v1/agents', { name: 'something else' }, 'key-two');
      assert.equal(other.statusCode, 409);
      assert.equal(other.json().error.code, 'idempotency.key_reused');
      const otherPath = await post('/api/v1/roles', { name: 'r', permissions: [] }, 'key-two');
      assert.equal(otherPath.statusCode, 409);
    });

    test('keys belong to their caller', async () => {
      const operator = await h.userWithRoles('keyholder', ['admin']);
      const mine = await post('/api/v1/agents', { name: 'idem-3' }, 'shared-key');
      const theirs = await post('/api/v1/agents', { name: 'idem-3' }, 'shared-key', operator);
      assert.equal(theirs.statusCode, 201);
      assert.equal(theirs.headers['idempotent-replayed'], undefined);
      assert.notEqual(theirs.json().id, mine.json().id);
    });

    test('two concurrent requests with one key run the operation once', async () => {
      const agents = await count('agents');
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => post('/api/v1/agents', { name: 'idem-4' }, 'race')),
      );
      assert.ok(answers.every((a) => a.statusCode === 201));
      assert.equal(new Set(answers.map((a) => a.json().id)).size, 1);
      assert.equal(await count('agents'), agents + 1);
      assert.equal(answers.filter((a) => a.headers['idempotent-replayed'] === 'true').length, 4);
    });

    test('client errors are replayed too; bad keys are 400', async () => {
      const bad = await post('/api/v1/roles', { name: 'x', permissions: ['nope:nope'] }, 'k-400');
      assert.equal(bad.statusCode, 400);
      const again = await post('/api/v1/roles', { name: 'x', permissions: ['nope:nope'] }, 'k-400');
      assert.equal(again.statusCode, 400);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      for (const key of ['', 'x'.repeat(256), 'tab\there', 'ünïcode'])
        assert.equal(
          (await post('/api/v1/agents', { name: 'idem-5' }, key)).statusCode,
          400,
          JSON.stringify(key),
        );
    });

    test('keys expire after 24 hours', async () => {
      const first = await post('/api/v1/agents', { name: 'idem-6' }, 'aging');
      clock += 24 * 3_600_000 - 1;
      admin = await h.login();
      const replay = await post('/api/v1/agents', { name: 'idem-6' }, 'aging');
      assert.equal(replay.json().id, first.json().id);
      clock += 2;
      const fresh = await post('/api/v1/agents', { name: 'idem-6' }, 'aging');
      assert.equal(fresh.statusCode, 201);
      assert.notEqual(fresh.json().id, first.json().id);
    });
  });
}

for (const kind of await databaseKinds()) {
  describe(`required Idempotency-Key on ${kind.name}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(kind);
    });
    after(() => h.close());

    test('an operation that requires a key is 400 without one, and runs once with one', async () => {
      // The HTTP layer with a route marked as OpenWatch marks its retry-safe operations.
      let runs = 0;
      const app = await buildHttp({
        logger: pino({ level: 'silent' }),
        authenticator: h.vigil.identity,
        idempotency: createIdempotency({
          store: createIdempotencyStore(h.vigil.db.kysely),
          now: Date.now,
          sealer: createSealer(randomBytes(32)),
        }),
        bodyLimitBytes: 65_536,
        version: 'test',
        routes: (a) =>
          a.post(
            '/api/v1/test/sweep',
            { config: { access: 'authenticated', idempotency: 'required' } },
            async () => ({ run: ++runs }),
          ),
      });
      try {
        const token = await h.login();
        const call = (key?: string) =>
          app.inject({
            method: 'POST',
            url: '/api/v1/test/sweep',
            headers: {
              authorization: `Bearer ${token}`,
              ...(key ? { 'idempotency-key': key } : {}),
            },
            payload: {},
          });
        const missing = await call();
        assert.equal(missing.statusCode, 400);
        assert.equal(missing.json().error.code, 'idempotency.key_required');
        assert.equal(runs, 0);
        assert.deepEqual((await call('sweep-1')).json(), { run: 1 });
        const replay = await call('sweep-1');
        assert.deepEqual(replay.json(), { run: 1 });
        assert.equal(replay.headers['idempotent-replayed'], 'true');
        assert.deepEqual((await call('sweep-2')).json(), { run: 2 });
        assert.equal(runs, 2);
      } finally {
        await app.close();
      }
    });
  });
}
