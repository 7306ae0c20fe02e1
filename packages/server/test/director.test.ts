// Over 500 lines: the document's sample scenario is replayed request by request, beside the face's other cases.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { systemContext } from '../src/audit/service.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { ADMIN_PASSWORD, startHarness, type Harness } from '../../../test/support/harness.js';

// The Icinga Director face, checked against `icinga-director-rest-api.txt`: its sample scenario
// replayed request by request, with the statuses, bodies and Content-Length headers it shows.

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const ADMIN = basic('admin', ADMIN_PASSWORD);
const JSON_ACCEPT = { accept: 'application/json' };

/** A pretty-printed body as the document shows it (four spaces, a final newline). */
const doc = (lines: string[]) => `${lines.join('\n')}\n`;

/** One raw HTTP/1.1 exchange on a plain socket: the whole answer as text. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (d: Buffer) => (data += d.toString('utf8')));
    socket.on('end', () => resolve(data));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
    socket.write(request);
  });
}

for (const kind of await databaseKinds()) {
  describe(`Director face on ${kind.name}`, () => {
    let h: Harness;

    /** A Director request as the document's curl helper sends it, as admin. */
    const director = (
      method: string,
      url: string,
      body?: string,
      headers: Record<string, string> = {},
    ) =>
      h.inject({
        method: method as 'GET',
        url: `/director/${url}`,
        headers: {
          ...JSON_ACCEPT,
          authorization: ADMIN,
          // What `curl -d` sends.
          ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { payload: body } : {}),
      });

    /** Checks an answer's status, exact body and Content-Length. */
    const expectBody = (
      res: Awaited<ReturnType<typeof director>>,
      status: number,
      body: string,
      length?: number,
    ) => {
      assert.equal(res.statusCode, status, res.body);
      assert.equal(res.body, body);
      assert.equal(res.headers['content-type'], 'application/json');
      assert.equal(res.headers['content-length'], String(Buffer.byteLength(body)));
      if (length !== undefined) assert.equal(Buffer.byteLength(body), length);
    };

    before(async () => {
      h = await startHarness(kind);
    });
    after(() => h.close());

    test('the sample scenario, request by request', async () => {
      const create = JSON.stringify({
        object_name: 'apitest',
        object_type: 'object',
        address: '127.0.0.1',
        vars: { location: 'Berlin' },
      });
      // Create a new host: 201, Content-Length 140.
      expectBody(
        await director('POST', 'host', create),
        201,
        doc([
          '{',
          '    "address": "127.0.0.1",',
          '    "object_name": "apitest",',
          '    "object_type": "object",',
          '    "vars": {',
          '        "location": "Berlin"',
          '    }',
          '}',
        ]),
        140,
      );
      // The same request again: 500, Content-Length 60.
      expectBody(
        await director('POST', 'host', create),
        500,
        doc(['{', '    "error": "Trying to recreate icinga_host (apitest)"', '}']),
        60,
      );
      // The same body on the object's URL: nothing changes, 304 without a body.
      let res = await director('POST', 'host?name=apitest', create);
      assert.equal(res.statusCode, 304);
      assert.equal(res.body, '');
      // A dotted key sets one var: 200, Content-Length 172.
      const event = '{"address": "127.0.0.2", "vars.event": "Icinga CAMP" }';
      expectBody(
        await director('POST', 'host?name=apitest', event),
        200,
        doc([
          '{',
          '    "address": "127.0.0.2",',
          '    "object_name": "apitest",',
          '    "object_type": "object",',
          '    "vars": {',
          '        "location": "Berlin",',
          '        "event": "Icinga CAMP"',
          '    }',
          '}',
        ]),
        172,
      );
      // Again: 304.
      res = await director('POST', 'host?name=apitest', event);
      assert.equal(res.statusCode, 304);
      assert.equal(res.body, '');
      // The whole vars dictionary replaced: 200, Content-Length 181.
      expectBody(
        await director(
          'POST',
          'host?name=apitest',
          '{"address": "127.0.0.2", "vars": { "event": [ "Icinga", "Camp" ] } }',
        ),
        200,
        doc([
          '{',
          '    "address": "127.0.0.2",',
          '    "object_name": "apitest",',
          '    "object_type": "object",',
          '    "vars": {',
          '        "event": [',
          '            "Icinga",',
          '            "Camp"',
          '        ]',
          '    }',
          '}',
        ]),
        181,
      );
      // PUT replaces all but name and type (the document's body lacks its closing brace; this
      // one is valid JSON): 200, Content-Length 153.
      expectBody(
        await director('PUT', 'host?name=apitest', '{ "vars": { "event": [ "Icinga", "Camp" ] } }'),
        200,
        doc([
          '{',
          '    "object_name": "apitest",',
          '    "object_type": "object",',
          '    "vars": {',
          '        "event": [',
          '            "Icinga",',
          '            "Camp"',
          '        ]',
          '    }',
          '}',
        ]),
        153,
      );
      // PUT "nothing": 200, Content-Length 62; the same again: 304.
      const bare = doc(['{', '    "object_name": "apitest",', '    "object_type": "object"', '}']);
      expectBody(await director('PUT', 'host?name=apitest', '{}'), 200, bare, 62);
      res = await director('PUT', 'host?name=apitest', '{}');
      assert.equal(res.statusCode, 304);
      assert.equal(res.body, '');
      // A method Director does not support: 400, Content-Length 43 (KILL itself, which Node's
      // parser refuses before routing, is checked on a socket below).
      for (const method of ['PATCH', 'OPTIONS']) {
        expectBody(
          await director(method, 'host?name=apitest'),
          400,
          doc(['{', `    "error": "Unsupported method ${method}"`, '}']),
        );
      }
      // DELETE answers the object as it was (the document shows imports it never had).
      expectBody(await director('DELETE', 'host?name=apitest'), 200, bare, 62);
      expectBody(
        await director('GET', 'host?name=apitest'),
        404,
        doc(['{', '    "error": "Failed to load icinga_host \\"apitest\\""', '}']),
      );
      // Every change was audited.
      const audit = await h.vigil.db.kysely
        .selectFrom('audit_events')
        .select(['action', 'resource_type'])
        .where('action', 'like', 'config.%')
        .execute();
      assert.equal(audit.filter((a) => a.action === 'config.create').length, 1);
      assert.equal(audit.filter((a) => a.action === 'config.update').length, 4);
      assert.equal(audit.filter((a) => a.action === 'config.delete').length, 1);
    });

    test('invalid JSON is 400 "Invalid JSON: Syntax error" (Content-Length 46)', async () => {
      const body = doc(['{', '    "error": "Invalid JSON: Syntax error"', '}']);
      expectBody(await director('POST', 'host', '{"object_name": '), 400, body, 46);
      expectBody(await director('POST', 'host', ''), 400, body, 46);
      expectBody(await director('PUT', 'host?name=x'), 400, body, 46);
      // Whatever the Content-Type: Director reads the raw body.
      for (const type of ['application/json', 'text/plain'])
        expectBody(
          await director('POST', 'host', '{"object_name"', { 'content-type': type }),
          400,
          body,
          46,
        );
      const typed = await director('POST', 'host', '{"object_name": "typed"}', {
        'content-type': 'application/json; charset=utf-8',
      });
      assert.equal(typed.statusCode, 201, typed.body);
      const notObject = await director('POST', 'host', '[1, 2]');
      assert.equal(notObject.statusCode, 400);
      assert.deepEqual(notObject.json(), { error: 'Invalid JSON: an object is expected' });
      const proto = await director(
        'POST',
        'host',
        '{"object_name": "p", "vars": {"__proto__": {"x": 1}}}',
      );
      assert.equal(proto.statusCode, 400);
      assert.deepEqual(proto.json(), { error: 'Invalid JSON: __proto__ is not allowed as a key' });
      // Bad values are 400 too, never 500.
      const bad = await director('POST', 'host', '{"object_name": "b", "has_agent": "maybe"}');
      assert.equal(bad.statusCode, 400);
      assert.match(bad.json().error as string, /invalid boolean/);
      const unknownKey = await director('POST', 'host', '{"object_name": "b", "colour": "red"}');
      assert.equal(unknownKey.statusCode, 400);
      assert.deepEqual(unknownKey.json(), { error: 'Trying to set invalid key "colour"' });
      const noName = await director('GET', 'host');
      assert.equal(noName.statusCode, 400);
    });

    test('KILL on a socket: 400 Unsupported method KILL, Content-Length 43', async () => {
      await h.vigil.http.listen({ host: '127.0.0.1', port: 0 });
      const { port } = h.vigil.http.server.address() as { port: number };
      for (const prefix of ['/director', '/icingaweb2/director', '/icingaweb/director']) {
        const answer = await rawExchange(
          port,
          `KILL ${prefix}/host?name=apitest HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\nAuthorization: ${ADMIN}\r\n\r\n`,
        );
        const [head, body] = answer.split('\r\n\r\n');
        assert.match(head!, /^HTTP\/1\.1 400 Bad Request\r\n/);
        assert.match(head!, /\r\ncontent-length: 43\r\n/i);
        assert.equal(body, doc(['{', '    "error": "Unsupported method KILL"', '}']));
      }
    });

    test('GET: unset properties skipped, properties=all, properties=a,b, resolved', async () => {
      await director(
        'POST',
        'command',
        JSON.stringify({
          object_name: 'tom_ping',
          command: '/usr/lib/nagios/plugins/check_ping',
          arguments: { '-H': '$address$' },
        }),
      );
      let res = await director(
        'POST',
        'hosttemplate',
        JSON.stringify({
          object_name: 'generic-host',
          check_command: 'tom_ping',
          check_interval: '1m',
          retry_interval: 10,
          enable_active_checks: 'y',
          vars: { os: 'Linux', location: 'Hamburg' },
        }),
      );
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.json().object_type, 'template');
      res = await director(
        'POST',
        'host',
        JSON.stringify({
          object_name: 'pe2015.example.com',
          address: '127.0.0.3',
          display_name: 'pe2015 (example.com)',
          imports: ['generic-host'],
          vars: { location: 'Berlin', url: 'http://pe2015/ä' },
        }),
      );
      assert.equal(res.statusCode, 201, res.body);
      // Default: unset properties left out; slashes and non-ASCII escaped as PHP does.
      res = await director('GET', 'host?name=pe2015.example.com');
      assert.equal(
        res.body,
        doc([
          '{',
          '    "address": "127.0.0.3",',
          '    "display_name": "pe2015 (example.com)",',
          '    "imports": [',
          '        "generic-host"',
          '    ],',
          '    "object_name": "pe2015.example.com",',
          '    "object_type": "object",',
          '    "vars": {',
          '        "location": "Berlin",',
          '        "url": "http:\\/\\/pe2015\\/\\u00e4"',
          '    }',
          '}',
        ]),
      );
      // resolved (and resolve): inherited values, booleans as booleans, numbers as strings.
      for (const param of ['resolved', 'resolve', 'resolved=1']) {
        res = await director('GET', `host?name=pe2015.example.com&${param}`);
        assert.deepEqual(res.json(), {
          address: '127.0.0.3',
          check_command: 'tom_ping',
          check_interval: '60',
          display_name: 'pe2015 (example.com)',
          enable_active_checks: true,
          imports: ['generic-host'],
          object_name: 'pe2015.example.com',
          object_type: 'object',
          retry_interval: '10',
          vars: { os: 'Linux', location: 'Berlin', url: 'http://pe2015/ä' },
        });
      }
      res = await director('GET', 'host?name=pe2015.example.com&resolved=0');
      assert.equal(res.json().check_command, undefined);
      // properties=all / ALL: every property, unset ones as null; keys sorted.
      for (const all of ['properties=all', 'properties=ALL', 'withNull']) {
        res = await director('GET', `host?name=pe2015.example.com&${all}`);
        const body = res.json() as Record<string, unknown>;
        assert.equal(body.check_command, null);
        assert.equal(body.has_agent, null);
        assert.equal(body.disabled, false);
        assert.deepEqual(body.groups, []);
        assert.equal(body.address, '127.0.0.3');
        const keys = Object.keys(body);
        assert.deepEqual(keys, [...keys].sort());
      }
      // properties=a,b: just those, nulls included.
      res = await director(
        'GET',
        'host?name=pe2015.example.com&properties=object_name,address,vars,check_command',
      );
      assert.deepEqual(res.json(), {
        address: '127.0.0.3',
        check_command: null,
        object_name: 'pe2015.example.com',
        vars: { location: 'Berlin', url: 'http://pe2015/ä' },
      });
      // The template on its own endpoint; an object host is not a template.
      res = await director('GET', 'hosttemplate?name=generic-host');
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().check_interval, '60');
      res = await director('GET', 'hosttemplate?name=pe2015.example.com');
      assert.equal(res.statusCode, 404);
      // The command, with its arguments.
      res = await director('GET', 'command?name=tom_ping');
      assert.deepEqual(res.json(), {
        arguments: { '-H': '$address$' },
        command: '/usr/lib/nagios/plugins/check_ping',
        object_name: 'tom_ping',
        object_type: 'object',
      });
      // A command still referenced cannot go; a template still imported neither.
      res = await director('DELETE', 'hosttemplate?name=generic-host');
      assert.equal(res.statusCode, 409, res.body);
      assert.match(res.json().error as string, /still imported/);
    });

    test('services, withServices, service templates, host groups', async () => {
      let res = await director(
        'POST',
        'servicetemplate',
        JSON.stringify({ object_name: 'generic-service', check_interval: '5m' }),
      );
      assert.equal(res.statusCode, 201, res.body);
      res = await director(
        'POST',
        'host',
        JSON.stringify({ object_name: 'svc-host', address: '192.0.2.5' }),
      );
      assert.equal(res.statusCode, 201, res.body);
      res = await director(
        'POST',
        'service',
        JSON.stringify({
          object_name: 'ping',
          host: 'svc-host',
          imports: 'generic-service',
          check_command: 'tom_ping',
        }),
      );
      assert.equal(res.statusCode, 201, res.body);
      assert.deepEqual(res.json(), {
        check_command: 'tom_ping',
        host: 'svc-host',
        imports: ['generic-service'],
        object_name: 'ping',
        object_type: 'object',
      });
      res = await director('GET', 'service?name=ping&host=svc-host&resolved');
      assert.equal(res.json().check_interval, '300');
      res = await director('POST', 'service?name=ping&host=svc-host', '{"notes": "n"}');
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().notes, 'n');
      res = await director('GET', 'service?name=ping&host=nohost');
      assert.equal(res.statusCode, 404);
      assert.deepEqual(res.json(), { error: 'Failed to load icinga_host "nohost"' });
      // withServices: the host's services beside it.
      res = await director('GET', 'host?name=svc-host&withServices');
      const body = res.json() as { services: { object_name: string; host: string }[] };
      assert.deepEqual(
        body.services.map((s) => [s.object_name, s.host]),
        [['ping', 'svc-host']],
      );
      res = await director('GET', 'command?name=tom_ping&withServices');
      assert.equal(res.statusCode, 400);
      // Host groups.
      res = await director('POST', 'hostgroup', '{"object_name": "web", "display_name": "Web"}');
      assert.equal(res.statusCode, 201, res.body);
      res = await director('POST', 'host?name=svc-host', '{"groups": ["web"]}');
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json().groups, ['web']);
      res = await director('POST', 'host?name=svc-host', '{"groups": ["nope"]}');
      assert.equal(res.statusCode, 400);
      // Lists: Director's exact framing.
      res = await director('GET', 'hostgroups');
      assert.equal(
        res.body,
        '{ "objects": [ {\n    "display_name": "Web",\n    "object_name": "web",\n    "object_type": "object"\n}] }\n',
      );
      res = await director('GET', 'services?host=svc-host');
      assert.deepEqual(
        (JSON.parse(res.body) as { objects: { object_name: string }[] }).objects.map(
          (o) => o.object_name,
        ),
        ['ping'],
      );
      for (const url of ['servicetemplates', 'services/templates']) {
        res = await director('GET', url);
        assert.deepEqual(
          (JSON.parse(res.body) as { objects: { object_name: string }[] }).objects.map(
            (o) => o.object_name,
          ),
          ['generic-service'],
        );
      }
      res = await director('GET', 'services?host=nohost');
      assert.equal(res.statusCode, 404);
      res = await director('DELETE', 'service?name=ping&host=svc-host');
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().notes, 'n');
    });

    test('lists: hosts, templates, commands, q search, an empty list', async () => {
      let res = await director('GET', 'hosts?q=pe2015');
      const names = (b: string) =>
        (JSON.parse(b) as { objects: { object_name: string }[] }).objects.map((o) => o.object_name);
      assert.deepEqual(names(res.body), ['pe2015.example.com']);
      assert.equal(res.headers['content-type'], 'application/json');
      assert.ok(res.body.startsWith('{ "objects": [ {\n    "address": "127.0.0.3",'));
      assert.ok(res.body.endsWith('}] }\n'));
      res = await director('GET', 'hosts?q=192.0.2');
      assert.deepEqual(names(res.body), ['svc-host']);
      res = await director('GET', 'hosts/templates');
      assert.deepEqual(names(res.body), ['generic-host']);
      res = await director('GET', 'commands?q=check_ping');
      assert.deepEqual(names(res.body), ['tom_ping']);
      res = await director('GET', 'hosts?q=nothing-matches');
      assert.equal(res.body, '{ "objects": [ ] }\n');
      res = await director('GET', 'hosts?q=pe2015&resolved');
      assert.equal(
        (JSON.parse(res.body) as { objects: { check_command: string }[] }).objects[0]!
          .check_command,
        'tom_ping',
      );
    });

    test('the three prefixes answer alike', async () => {
      const bodies = [];
      for (const prefix of ['/director', '/icingaweb2/director', '/icingaweb/director']) {
        const res = await h.inject({
          url: `${prefix}/host?name=pe2015.example.com`,
          headers: { ...JSON_ACCEPT, authorization: ADMIN },
        });
        assert.equal(res.statusCode, 200, prefix);
        bodies.push(res.body);
        const missing = await h.inject({
          url: `${prefix}/nope`,
          headers: { ...JSON_ACCEPT, authorization: ADMIN },
        });
        assert.equal(missing.statusCode, 404);
        assert.deepEqual(missing.json(), { error: 'No such API endpoint found' });
        const kill = await h.inject({
          method: 'PATCH',
          url: `${prefix}/host?name=x`,
          headers: { ...JSON_ACCEPT, authorization: ADMIN },
        });
        assert.deepEqual(kill.json(), { error: 'Unsupported method PATCH' });
        // Neither depends on the caller.
        const bare = await h.inject({ method: 'PURGE', url: `${prefix}/host?name=x` });
        assert.equal(bare.statusCode, 400);
        assert.deepEqual(bare.json(), { error: 'Unsupported method PURGE' });
        assert.equal((await h.inject({ url: `${prefix}/nope` })).statusCode, 404);
        // Errors raised before routing are in the face's format too.
        const badUrl = await h.inject({ url: `${prefix}/%FF%FE` });
        assert.equal(badUrl.statusCode, 400);
        assert.deepEqual(Object.keys(badUrl.json()), ['error']);
        assert.ok(badUrl.body.startsWith('{\n    "error": '));
      }
      assert.equal(bodies[0], bodies[1]);
      assert.equal(bodies[0], bodies[2]);
    });

    test('Accept: application/json is required (406)', async () => {
      for (const accept of [undefined, 'text/html', '*/*']) {
        const res = await h.inject({
          url: '/director/host?name=pe2015.example.com',
          headers: { authorization: ADMIN, ...(accept ? { accept } : {}) },
        });
        assert.equal(res.statusCode, 406, String(accept));
        assert.deepEqual(res.json(), {
          error: 'Director API requests must send the header Accept: application/json',
        });
      }
      const res = await h.inject({
        url: '/director/host?name=pe2015.example.com',
        headers: { authorization: ADMIN, accept: 'application/json; charset=utf-8' },
      });
      assert.equal(res.statusCode, 200);
    });

    test('authentication: Basic, bearer, permissions, throttling', async () => {
      const url = '/director/host?name=pe2015.example.com';
      const get = (authorization?: string) =>
        h.inject({
          url,
          headers: { ...JSON_ACCEPT, ...(authorization ? { authorization } : {}) },
        });
      // None, or wrong: 401 with the Basic challenge.
      for (const auth of [
        undefined,
        basic('admin', 'wrong'),
        basic('nobody', 'x'),
        'Basic !!!',
        'Bearer nope',
      ]) {
        const res = await get(auth);
        assert.equal(res.statusCode, 401, String(auth));
        assert.equal(res.headers['www-authenticate'], 'Basic realm="Icinga Director"');
        assert.equal(typeof res.json().error, 'string');
        assert.deepEqual(Object.keys(res.json()), ['error']);
      }
      // A bearer token of a user holding director:api.
      const token = await h.login();
      assert.equal((await get(`Bearer ${token}`)).statusCode, 200);
      // Without director:api: 403, by Basic or bearer.
      const viewer = await h.userWithRoles('viewer1', ['viewer']);
      for (const auth of [`Bearer ${viewer}`, basic('viewer1', ADMIN_PASSWORD)]) {
        const res = await get(auth);
        assert.equal(res.statusCode, 403);
        assert.deepEqual(res.json(), { error: 'You are not allowed to access this API' });
      }
      // Basic authentication is this face's only: the native API refuses it.
      const native = await h.inject({
        url: '/api/v1/users',
        headers: { ...JSON_ACCEPT, authorization: ADMIN },
      });
      assert.equal(native.statusCode, 401);
      assert.equal(native.json().error.code, 'auth.unauthenticated');
      // Throttled like a login: after five failures, even the right password waits (429).
      await h.vigil.identity.createUser(
        { username: 'slow', password: ADMIN_PASSWORD, roles: ['admin'] },
        systemContext('test'),
      );
      for (let i = 0; i < 5; i++) assert.equal((await get(basic('slow', 'bad'))).statusCode, 401);
      const throttled = await get(basic('slow', ADMIN_PASSWORD));
      assert.equal(throttled.statusCode, 429);
      assert.ok(Number(throttled.headers['retry-after']) >= 1);
      assert.equal(typeof throttled.json().error, 'string');
      // Failures are audited as failed logins.
      const failed = await h.vigil.db.kysely
        .selectFrom('audit_events')
        .select('action')
        .where('action', '=', 'auth.login_failed')
        .execute();
      assert.ok(failed.length >= 7);
    });
  });
}
