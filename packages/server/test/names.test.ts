import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';
import { checkName, nameProblem, skeleton } from '../src/identity/names.js';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

/** Names every kind of name must refuse, with the rule each breaks. */
const BAD: readonly (readonly [string, string, string])[] = [
  ['NUL', 'ops\u0000team', 'name.control_character'],
  ['carriage return and line feed', 'ops\r\nteam', 'name.control_character'],
  ['line feed alone', 'ops\nteam', 'name.control_character'],
  ['tab', 'ops\tteam', 'name.control_character'],
  ['ANSI escape', '\u001b[31mred\u001b[0m', 'name.control_character'],
  ['C1 control', 'ops\u0085team', 'name.control_character'],
  ['right-to-left override', 'ops\u202eteam', 'name.format_character'],
  ['left-to-right isolate', '\u2066ops', 'name.format_character'],
  ['zero-width space', 'ops\u200bteam', 'name.format_character'],
  ['zero-width joiner', 'ops\u200dteam', 'name.format_character'],
  ['byte order mark', '\ufeffops', 'name.format_character'],
  ['line separator', 'ops\u2028team', 'name.format_character'],
  ['unpaired surrogate', 'ops\ud800', 'name.format_character'],
  ['empty', '', 'name.blank'],
  ['spaces', '   ', 'name.blank'],
  ['ideographic space', '\u3000', 'name.blank'],
  ['only invisible characters', '\u200b\u200b', 'name.blank'],
  ['Hangul filler', '\u3164', 'name.blank'],
  ['halfwidth Hangul filler', '\uffa0', 'name.blank'],
  ['Hangul choseong and jungseong fillers', '\u115f\u1160', 'name.blank'],
  ['braille blank', '\u2800', 'name.blank'],
  ['a lone combining mark', '\u0301', 'name.blank'],
  ['only combining marks', '\u0301\u0308\u20dd', 'name.blank'],
  ['variation selector', 'bob\ufe0f', 'name.format_character'],
  ['ideographic variation selector', 'bob\u{e0101}', 'name.format_character'],
  ['combining grapheme joiner', 'b\u034fob', 'name.format_character'],
  ['Hangul filler inside', 'bo\u3164b', 'name.format_character'],
  ['tag character', 'bob\u{e0041}', 'name.format_character'],
  ['trailing braille blank', 'bob\u2800', 'name.surrounding_space'],
  ['leading space', ' ops', 'name.surrounding_space'],
  ['trailing no-break space', 'ops\u00a0', 'name.surrounding_space'],
  ['Cyrillic a in admin', '\u0430dmin', 'name.look_alike'],
  ['Greek omicron in operator', 'operat\u03bfr', 'name.look_alike'],
  ['fullwidth admin', '\uff41\uff44\uff4d\uff49\uff4e', 'name.look_alike'],
  ['upper-case built-in', 'ADMIN', 'name.look_alike'],
  ['digit one for l', 'vigi1', 'name.look_alike'],
  ['combining accent', 'vie\u0301wer', 'name.look_alike'],
  ['dash for underscore', 'security-admin', 'name.look_alike'],
];

/** Names that are fine everywhere. */
const GOOD: readonly string[] = [
  'ops-team',
  'Équipe de nuit',
  'operators',
  'db_admin',
  '運用チーム',
  'नमस्ते',
  'bob\u2800smith',
  'web-01.example',
  'admin',
];

describe('the name rules', () => {
  for (const [what, name, code] of BAD)
    test(`refused: ${what}`, () => {
      assert.equal(nameProblem(name)?.code, code);
      assert.throws(
        () => checkName(name, 'role name'),
        (err: Error & { kind?: string; code?: string }) =>
          err.kind === 'bad_data' && err.code === code && err.message.startsWith('role name '),
      );
    });
  for (const name of GOOD)
    test(`accepted: ${JSON.stringify(name)}`, () => assert.equal(nameProblem(name), undefined));

  test('a name is kept in NFC', () => {
    assert.equal(checkName('E\u0301quipe'), '\u00c9quipe');
  });

  test('look-alikes share a skeleton', () => {
    assert.equal(skeleton('\u0430dm\u0456n'), skeleton('admin'));
    assert.equal(skeleton('rnetrics'), skeleton('metrics'));
    assert.notEqual(skeleton('operators'), skeleton('operator'));
  });
});

for (const kind of await databaseKinds()) {
  describe(`every kind of name follows the rules on ${kind.name}`, () => {
    let h: Harness;
    let admin: string;
    before(async () => {
      h = await startHarness(kind);
      admin = await h.login();
      const role = await h.inject({
        method: 'POST',
        url: '/api/v1/roles',
        headers: bearer(admin),
        payload: { name: 'renamable', permissions: ['host:read'] },
      });
      assert.equal(role.statusCode, 201, role.body);
      const agent = await h.inject({
        method: 'POST',
        url: '/api/v1/agents',
        headers: bearer(admin),
        payload: { id: 'renamable', name: 'renamable' },
      });
      assert.equal(agent.statusCode, 201, agent.body);
    });
    after(() => h.close());

    const surfaces: readonly (readonly [string, string, string, (name: string) => object])[] = [
      ['role', 'POST', '/api/v1/roles', (name) => ({ name, permissions: ['host:read'] })],
      ['role rename', 'PUT', '/api/v1/roles/renamable', (name) => ({ name })],
      ['agent', 'POST', '/api/v1/agents', (name) => ({ name })],
      ['agent rename', 'PATCH', '/api/v1/agents/renamable', (name) => ({ name })],
      [
        'enrolling host name',
        'POST',
        '/api/v1/agents/enroll',
        (hostname) => ({ hostname, csr: 'not looked at before the name' }),
      ],
      ['API client', 'POST', '/api/v1/oauth/clients', (name) => ({ client_id: name })],
      [
        'user',
        'POST',
        '/api/v1/users',
        (name) => ({ username: name, password: 'a long enough passphrase' }),
      ],
    ];

    for (const [surface, method, url, body] of surfaces)
      test(`${surface}: 400 naming the rule, nothing stored`, async () => {
        const before = await h.vigil.db.kysely
          .selectFrom('audit_events')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        for (const [what, name, code] of BAD) {
          const res = await h.inject({
            method: method as 'POST',
            url,
            headers: bearer(admin),
            payload: body(name),
          });
          assert.equal(res.statusCode, 400, `${surface}, ${what}: ${res.body}`);
          // The schema of a surface may refuse some names first (a client id is ASCII only);
          // either way the answer is a 400 that names what is wrong.
          const error = res.json().error;
          if (error.code !== 'validation_failed') assert.equal(error.code, code, what);
        }
        const after = await h.vigil.db.kysely
          .selectFrom('audit_events')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        assert.equal(Number(after.n), Number(before.n), 'no change was made');
      });

    test('look-alikes of built-in names are refused where the schema lets them through', async () => {
      for (const [url, payload] of [
        ['/api/v1/roles', { name: '\u0430dmin', permissions: [] }],
        ['/api/v1/agents', { name: 'v\u0456ewer' }],
        ['/api/v1/oauth/clients', { client_id: 'ADMIN' }],
        ['/api/v1/users', { username: 'Operator', password: 'a long enough passphrase' }],
      ] as const) {
        const res = await h.inject({ method: 'POST', url, headers: bearer(admin), payload });
        assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
        assert.equal(res.json().error.code, 'name.look_alike', url);
        assert.match(res.json().error.human_message, /must not look like the built-in name/);
      }
    });

    test('an openITCOCKPIT agent whose host name breaks the rules is named by its uuid', async () => {
      const agentuuid = '5a1c3b6e-8d2f-4e7a-9b0c-1d2e3f4a5b6c';
      const res = await h.inject({
        method: 'POST',
        url: '/agentconnector/register_agent.json',
        payload: { agentuuid, password: '', hostname: 'web\u202e01\u0000' },
      });
      assert.equal(res.statusCode, 201, res.body);
      const row = await h.vigil.agents.row(agentuuid);
      assert.ok(row, 'the agent is registered');
      assert.equal(row.name, agentuuid);
      assert.equal(row.hostname, null);
    });

    test('a good name is stored in NFC', async () => {
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/roles',
        headers: bearer(admin),
        payload: { name: 'E\u0301quipe de nuit', permissions: ['host:read'] },
      });
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.json().name, '\u00c9quipe de nuit');
      const got = await h.inject({
        method: 'GET',
        url: `/api/v1/roles/${encodeURIComponent('\u00c9quipe de nuit')}`,
        headers: bearer(admin),
      });
      assert.equal(got.statusCode, 200, got.body);
    });
  });
}
