import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { databaseKinds } from '../support/databases.js';
import { runVigil } from '../support/process.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'vigil-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('vigil CLI', () => {
  test('--help for the program and every command', async () => {
    const top = await runVigil(['--help']);
    assert.equal(top.code, 0);
    for (const c of ['serve', 'worker', 'migrate', 'create-admin', 'check-config'])
      assert.match(top.stdout, new RegExp(c));
    for (const c of ['serve', 'worker', 'migrate', 'create-admin', 'check-config']) {
      const r = await runVigil([c, '--help']);
      assert.equal(r.code, 0, c);
      assert.match(r.stdout, new RegExp(`Usage: vigil ${c}`));
      assert.match(r.stdout, /--config/);
    }
  });

  test('check-config prints the effective config with secrets masked', async () => {
    const file = path.join(tmp, 'ok.toml');
    writeFileSync(
      file,
      '[server]\nlisten = "127.0.0.1:9443"\n[database]\nurl = "postgres://vigil:hunter2hunter2@db.example/vigil"\n',
    );
    const r = await runVigil(['check-config', '--config', file], {
      env: {
        VIGIL_ADMIN_PASSWORD: 'a-long-enough-secret',
        VIGIL_AUTH_ACCESS_TOKEN_TTL_SECONDS: '120',
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /listen = "127\.0\.0\.1:9443"/);
    assert.match(r.stdout, /access_token_ttl_seconds = 120/);
    assert.match(r.stdout, /password = "\*\*\*\*"/);
    assert.doesNotMatch(r.stdout, /hunter2|a-long-enough-secret/);
  });

  for (const [name, args, env, pattern] of [
    ['unknown key in the file', ['--config', 'bad.toml'], {}, /server\.lisen: unknown key/],
    [
      'bad override',
      [],
      { VIGIL_SERVER_BODY_LIMIT_BYTES: 'lots' },
      /VIGIL_SERVER_BODY_LIMIT_BYTES: expected an integer/,
    ],
    ['missing file', ['--config', 'missing.toml'], {}, /missing\.toml: cannot read/],
  ] as const) {
    test(`check-config exits 1 naming the bad key: ${name}`, async () => {
      writeFileSync(path.join(tmp, 'bad.toml'), '[server]\nlisen = "x"\n');
      const r = await runVigil(['check-config', ...args], { env, cwd: tmp });
      assert.equal(r.code, 1);
      assert.match(r.stderr, pattern);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  }

  test('unknown command is an error', async () => {
    const r = await runVigil(['frobnicate']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown command/);
  });
});

for (const kind of await databaseKinds()) {
  describe(`migrate and create-admin on ${kind.name}`, () => {
    test('migrate applies once, then reports up to date; concurrent processes agree', async () => {
      const created = await kind.create();
      await created.db.close();
      const dataDir = mkdtempSync(path.join(tmp, 'data-'));
      const env: Record<string, string> = { VIGIL_STORAGE_DATA_DIR: dataDir };
      if (created.url) env.VIGIL_DATABASE_URL = created.url;
      try {
        const runs = await Promise.all([0, 1, 2].map(() => runVigil(['migrate'], { env })));
        for (const r of runs) assert.equal(r.code, 0, r.stderr);
        const applied =
          runs
            .map((r) => r.stdout)
            .join('')
            .match(/^applied 1 /gm) ?? [];
        assert.equal(applied.length, 1, 'exactly one process applied migration 1');
        const again = await runVigil(['migrate'], { env });
        assert.equal(again.code, 0);
        assert.match(again.stdout, /up to date/);

        const weak = await runVigil(['create-admin', '--username', 'ops'], {
          env,
          stdin: 'short\n',
        });
        assert.equal(weak.code, 1);
        assert.match(weak.stderr, /at least 12 characters/);
        const ok = await runVigil(
          ['create-admin', '--username', 'ops', '--email', 'ops@example.com'],
          {
            env,
            stdin: 'a strong password here\n',
          },
        );
        assert.equal(ok.code, 0, ok.stderr);
        assert.match(ok.stdout, /created admin user ops/);
        const dup = await runVigil(['create-admin', '--username', 'ops'], {
          env,
          stdin: 'a strong password here\n',
        });
        assert.equal(dup.code, 1);
        assert.match(dup.stderr, /already exists/);
        const missing = await runVigil(['create-admin'], { env });
        assert.notEqual(missing.code, 0);
        assert.match(missing.stderr, /--username/);
      } finally {
        await created.drop();
      }
    });
  });
}
