// Real OAuth 2.0 clients against a real HTTPS server: Python's authlib and requests-oauthlib
// (Debian's python3-authlib and python3-requests-oauthlib), and Prometheus's own `oauth2:` scrape
// block (Debian's prometheus) configured exactly as docs/api.md says.
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { createVigil, type Vigil } from '../src/app.js';
import { systemContext } from '../src/audit/service.js';
import { loadConfig } from '../src/config/config.js';
import { ensureAutoTls } from '../src/tls/pki.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { ADMIN_PASSWORD } from '../../../test/support/harness.js';
import { eventually } from '../../../test/support/https.js';
import { freePort } from '../../../test/support/postgres.js';

const PYTHON = '/usr/bin/python3';
const PROMETHEUS = '/usr/bin/prometheus';
const API_DOC = path.resolve(import.meta.dirname, '../../../docs/api.md');

const pythonLibraries =
  existsSync(PYTHON) &&
  spawnSync(PYTHON, ['-c', 'import authlib, requests_oauthlib'], { stdio: 'ignore' }).status === 0;
const prometheus = existsSync(PROMETHEUS);
const ci = process.env.CI === 'true';

/** Authlib (both client authentication methods) and requests-oauthlib (Basic and body). */
const PYTHON_CLIENTS = `
import json, sys
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session

base, ca, client_id, secret = sys.argv[1:5]
token_url = base + "/oauth/token"
out = {}

def outcome(token, session):
    r = session.get(base + "/metrics", verify=ca)
    return {
        "token_type": token.get("token_type"),
        "refresh_token": "refresh_token" in token,
        "expires_in": token.get("expires_in"),
        "status": r.status_code,
        "exposition": r.text.startswith("# "),
    }

for method in ("client_secret_basic", "client_secret_post"):
    s = AuthlibSession(client_id, secret, token_endpoint_auth_method=method, scope="public-api")
    token = s.fetch_token(token_url, grant_type="client_credentials", verify=ca)
    out["authlib " + method] = outcome(token, s)

for in_body in (False, True):
    s = OAuth2Session(client=BackendApplicationClient(client_id=client_id), scope=["public-api"])
    token = s.fetch_token(
        token_url=token_url,
        client_id=client_id,
        client_secret=secret,
        include_client_id=in_body,
        verify=ca,
    )
    out["requests-oauthlib " + ("body" if in_body else "basic")] = outcome(token, s)

try:
    AuthlibSession(client_id, "not the right secret", token_endpoint_auth_method="client_secret_basic").fetch_token(
        token_url, grant_type="client_credentials", verify=ca
    )
    out["wrong secret"] = "accepted"
except Exception as e:
    out["wrong secret"] = getattr(e, "error", type(e).__name__)

print(json.dumps(out))
`;

/** The text of the docs/api.md section that starts with `heading`, up to the next heading. */
function apiDocSection(heading: string): string {
  const text = readFileSync(API_DOC, 'utf8');
  const start = text.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `docs/api.md has no section ${heading}`);
  const rest = text.slice(start + heading.length + 2);
  const end = rest.search(/\n#{2,6} /);
  return end < 0 ? rest : rest.slice(0, end);
}

const getText = (port: number, p: string) =>
  new Promise<string>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: p, timeout: 5_000 }, (res) => {
        let t = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (t += c));
        res.on('end', () => resolve(t));
      })
      .on('error', reject);
  });

const [sqlite] = await databaseKinds();

describe('OAuth 2.0 client_credentials with real clients over HTTPS', () => {
  let dir: string;
  let vigil: Vigil;
  let drop: () => Promise<void>;
  let base: string;
  let port: number;
  let caFile: string;
  let client: { client_id: string; client_secret: string };

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-oauth-real-'));
    const tls = await ensureAutoTls(path.join(dir, 'tls'));
    caFile = tls.caFile!;
    const config = loadConfig({
      file: path.join(dir, 'absent.toml'),
      fileRequired: false,
      env: { VIGIL_STORAGE_DATA_DIR: dir, VIGIL_SERVER_TLS: 'auto' },
    });
    const created = await sqlite!.create();
    drop = created.drop;
    vigil = await createVigil({
      config,
      logger: pino({ level: 'silent' }),
      db: created.db,
      https: { cert: tls.cert, key: tls.key },
    });
    await vigil.identity.ensureFirstAdmin(ADMIN_PASSWORD, systemContext('test'));
    await vigil.http.listen({ host: '127.0.0.1', port: 0 });
    port = (vigil.http.server.address() as AddressInfo).port;
    base = `https://127.0.0.1:${port}`;

    // The role and the client exactly as the commands of docs/api.md create them.
    const login = await vigil.http.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: ADMIN_PASSWORD },
    });
    const admin = login.json().access_token as string;
    const bodies = [
      ...apiDocSection('## Scraping `/metrics` with Prometheus').matchAll(/-d '(\{.*\})'/g),
    ].map((m) => JSON.parse(m[1]!) as object);
    assert.equal(bodies.length, 2, 'docs/api.md creates a role, then a client');
    const role = await vigil.http.inject({
      method: 'POST',
      url: '/api/v1/roles',
      headers: { authorization: `Bearer ${admin}` },
      payload: bodies[0]!,
    });
    assert.equal(role.statusCode, 201, role.body);
    const res = await vigil.http.inject({
      method: 'POST',
      url: '/api/v1/oauth/clients',
      headers: { authorization: `Bearer ${admin}` },
      payload: bodies[1]!,
    });
    assert.equal(res.statusCode, 201, res.body);
    client = res.json();
  });

  /** Tokens issued to the `prometheus` client, acting as itself. */
  const tokensIssued = async () =>
    (
      await vigil.db.kysely
        .selectFrom('audit_events')
        .select('id')
        .where('action', '=', 'oauth.token')
        .where('actor_type', '=', 'oauth_client')
        .where('actor_label', '=', 'prometheus')
        .execute()
    ).length;

  after(async () => {
    await vigil?.close().catch(() => undefined);
    await drop?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('authlib and requests-oauthlib get a token and read /metrics', async (t) => {
    if (!pythonLibraries) {
      if (ci)
        throw new Error('python3-authlib and python3-requests-oauthlib are required under CI');
      return t.skip('python3-authlib or python3-requests-oauthlib is not installed');
    }
    const script = path.join(dir, 'clients.py');
    writeFileSync(script, PYTHON_CLIENTS);
    // Asynchronously: the server answering the script runs in this process.
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        PYTHON,
        [script, base, caFile, client.client_id, client.client_secret],
        { timeout: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir } },
        (err, out, stderr) => (err ? reject(new Error(`python failed: ${stderr}`)) : resolve(out)),
      ),
    );
    const out = JSON.parse(stdout) as Record<string, unknown>;
    const ok = {
      token_type: 'Bearer',
      refresh_token: false,
      expires_in: 3600,
      status: 200,
      exposition: true,
    };
    assert.deepEqual(out, {
      'authlib client_secret_basic': ok,
      'authlib client_secret_post': ok,
      'requests-oauthlib basic': ok,
      'requests-oauthlib body': ok,
      'wrong secret': 'invalid_client',
    });
    const issued = await vigil.db.kysely
      .selectFrom('audit_events')
      .select(['actor_type', 'actor_label'])
      .where('action', '=', 'oauth.token')
      .execute();
    assert.equal(issued.length, 4);
    assert.ok(
      issued.every((e) => e.actor_type === 'oauth_client' && e.actor_label === 'prometheus'),
    );
  });

  test('Prometheus scrapes /metrics as docs/api.md configures it', async (t) => {
    if (!prometheus) {
      if (ci) throw new Error(`${PROMETHEUS} (Debian package prometheus) is required under CI`);
      return t.skip('prometheus is not installed');
    }
    const yaml = /```yaml\n([\s\S]*?)```/.exec(
      apiDocSection('## Scraping `/metrics` with Prometheus'),
    );
    assert.ok(yaml, 'docs/api.md shows the scrape configuration');
    const secretFile = path.join(dir, 'vigil-client-secret');
    writeFileSync(secretFile, client.client_secret, { mode: 0o600 });
    const scrape = yaml[1]!
      .replaceAll('vigil.example.com:8443', `127.0.0.1:${port}`)
      .replaceAll('/etc/prometheus/vigil-ca.crt', caFile)
      .replaceAll('/etc/prometheus/vigil-client-secret', secretFile);
    // Only the scrape interval is added, so that the first scrape comes within seconds.
    const configFile = path.join(dir, 'prometheus.yml');
    writeFileSync(configFile, `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n${scrape}`);
    const tokensBefore = await tokensIssued();
    const webPort = await freePort();
    const child: ChildProcess = spawn(
      PROMETHEUS,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, 'prometheus-data')}`,
        `--web.listen-address=127.0.0.1:${webPort}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    child.stderr!.on('data', (c) => (log = (log + String(c)).slice(-4000)));
    // Whatever happens, the test ends it by its PID, and never waits longer than two minutes.
    const stop = () => {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    };
    const guard = setTimeout(stop, 120_000);
    try {
      let lastError = '';
      const target = await eventually(
        'Prometheus to scrape Vigil successfully',
        async () => {
          if (child.exitCode !== null) throw new Error(`prometheus exited:\n${log}`);
          const body = JSON.parse(await getText(webPort, '/api/v1/targets')) as {
            data: { activeTargets: { health: string; lastError: string; scrapeUrl: string }[] };
          };
          const active = body.data.activeTargets[0];
          lastError = active?.lastError ?? '';
          return active?.health === 'up' ? active : undefined;
        },
        60_000,
        500,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; last scrape error: ${lastError}\n${log}`);
      });
      assert.equal(target.scrapeUrl, `https://127.0.0.1:${port}/metrics`);
      assert.ok(
        (await tokensIssued()) > tokensBefore,
        'Prometheus got its token from /oauth/token as the client',
      );
    } finally {
      clearTimeout(guard);
      if (child.exitCode === null && child.pid !== undefined) {
        const exited = new Promise((r) => child.once('exit', r));
        process.kill(child.pid, 'SIGTERM');
        const hard = setTimeout(stop, 10_000);
        await exited;
        clearTimeout(hard);
      }
    }
  });
});
