// A real server and a real agent process on this machine: the built-in linux-baseline pack,
// assigned through a host template, reaches the agent in a push answer; the agent evaluates it
// against this machine's real files and /proc, and the server's compliance, fleet and host
// intelligence routes show what it found.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../support/databases.js';
import { eventually, httpsJson } from '../support/https.js';
import { freePort } from '../support/postgres.js';
import {
  runAgent,
  startAgentRun,
  startServe,
  type AgentRun,
  type Served,
} from '../support/process.js';

const PASSWORD = 'agent compliance end to end';
const AGENT_ID = 'e2e-compliance';
const STATUSES = ['pass', 'fail', 'error', 'not_applicable'];

/** A rule as `GET /api/v1/hosts/{id}/compliance` lists it. */
interface HostRule {
  pack: string;
  id: string;
  status: string;
  detail: string | null;
}

/** What a kernel parameter of this machine is, as /proc/sys says; undefined when unreadable. */
function sysctl(key: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/${key.replaceAll('.', '/')}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

for (const kind of await databaseKinds()) {
  describe(`agent compliance end to end on ${kind.name}`, () => {
    const dirs: string[] = [];
    let server: Served;
    let base: string;
    let ca: string;
    let token: string;
    let config: string;
    let agentPort: number;
    let agent: AgentRun | undefined;
    let dropDb: () => Promise<void> = async () => undefined;

    const api = (p: string, body?: unknown, method?: string) =>
      httpsJson(`${base}${p}`, { ca, token, body, ...(method ? { method } : {}) });

    before(async () => {
      const tmp = mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-compliance-e2e-'));
      dirs.push(tmp);
      const dataDir = path.join(tmp, 'data');
      const created = await kind.create();
      await created.db.close();
      dropDb = created.drop;
      const port = await freePort();
      const env: Record<string, string> = {
        VIGIL_STORAGE_DATA_DIR: dataDir,
        VIGIL_SERVER_LISTEN: `127.0.0.1:${port}`,
        VIGIL_ADMIN_PASSWORD: PASSWORD,
      };
      if (created.url) env.VIGIL_DATABASE_URL = created.url;
      server = await startServe(env);
      base = `https://127.0.0.1:${port}`;
      ca = readFileSync(path.join(dataDir, 'tls', 'ca.crt'), 'utf8');
      const login = await httpsJson(`${base}/api/v1/auth/login`, {
        ca,
        body: { username: 'admin', password: PASSWORD },
      });
      token = login.body.access_token;
      const fingerprint = /CA SHA-256 fingerprint: ([0-9A-F:]{95})/.exec(server.stderr())![1]!;

      const agentDir = path.join(tmp, 'agent');
      mkdirSync(agentDir);
      config = path.join(agentDir, 'config.ini');
      agentPort = await freePort();
      writeFileSync(
        config,
        [
          '[default]',
          'interval = 1',
          'address = 127.0.0.1',
          `port = ${agentPort}`,
          '[packagemanager]',
          'enabled = false',
          '',
        ].join('\n'),
      );
      const made = await api('/api/v1/agents', { id: AGENT_ID, name: 'Compliance end to end' });
      assert.equal(made.status, 201, made.text);
      const enrolled = await runAgent([
        'enroll',
        '--server',
        base,
        '--token',
        made.body.enrollment_token,
        '--ca-fingerprint',
        fingerprint,
        '--config',
        config,
      ]);
      assert.equal(enrolled.code, 0, enrolled.stderr);
    });
    after(async () => {
      await agent?.stop();
      await server?.stop();
      await dropDb();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    test('a pack assigned by template is evaluated on this machine and shown by the server', async () => {
      agent = await startAgentRun(['--config', config]);
      const view = await eventually('the agent online', async () => {
        const r = await api(`/api/v1/agents/${AGENT_ID}`);
        return r.body.status === 'online' ? r.body : undefined;
      });
      const hostId = view.host_id as string;
      assert.ok(hostId);

      // Nothing assigned yet: nothing evaluated.
      let c = await api(`/api/v1/hosts/${hostId}/compliance`);
      assert.equal(c.status, 200, c.text);
      assert.equal(c.body.evaluated_at, null);

      const t = await api('/api/v1/host-templates', {
        object_name: 'hardened-linux',
        vars: { compliance_packs: ['linux-baseline'] },
      });
      assert.equal(t.status, 201, t.text);
      const p = await api(
        `/api/v1/hosts/${hostId}/config`,
        { imports: ['hardened-linux'] },
        'PATCH',
      );
      assert.equal(p.status, 200, p.text);

      const rules = await api('/api/v1/compliance/rules?pack=linux-baseline');
      assert.equal(rules.status, 200, rules.text);
      const count = (rules.body.rules as unknown[]).length;
      assert.ok(count >= 30, `the built-in pack has ${count} rules`);

      c = await eventually(
        "the agent's first report",
        async () => {
          const r = await api(`/api/v1/hosts/${hostId}/compliance`);
          return r.body.evaluated_at !== null && r.body.rules.length === count ? r : undefined;
        },
        60_000,
        500,
      );
      assert.deepEqual(c.body.packs, [{ id: 'linux-baseline', version: '1.0.0' }]);
      const byId = new Map((c.body.rules as HostRule[]).map((r) => [r.id, r]));
      for (const r of byId.values()) assert.ok(STATUSES.includes(r.status), JSON.stringify(r));

      // What the agent found is what this machine has.
      const osRelease = readFileSync('/etc/os-release', 'utf8');
      const family = /^ID(_LIKE)?=.*(rhel|fedora|centos)/m.test(osRelease) ? 'rhel' : 'debian';
      const aslr = sysctl('kernel.randomize_va_space');
      if (aslr !== undefined)
        assert.equal(byId.get('sysctl-randomize-va-space')?.status, aslr === '2' ? 'pass' : 'fail');
      const forward = sysctl('net.ipv4.ip_forward');
      if (forward !== undefined)
        assert.equal(byId.get('sysctl-ip-forward')?.status, forward === '0' ? 'pass' : 'fail');
      assert.equal(
        byId.get(family === 'rhel' ? 'unattended-upgrades' : 'dnf-automatic')?.status,
        'not_applicable',
      );
      const pass = [...byId.values()].filter((r) => r.status === 'pass').length;
      const fail = [...byId.values()].filter((r) => r.status === 'fail').length;
      assert.equal(c.body.summary.pass, pass);
      assert.equal(c.body.summary.fail, fail);

      // The fleet of one host scores what the host does.
      const score = await api('/api/v1/fleet/score');
      assert.equal(score.status, 200, score.text);
      assert.equal(score.body.hosts_evaluated, 1);
      assert.equal(score.body.total_evaluations, pass + fail);
      if (pass + fail > 0) assert.equal(score.body.passing_fraction, pass / (pass + fail));

      // Host intelligence: the agent's facts of this machine are the host's state.
      const state = await eventually('the host intelligence state', async () => {
        const r = await api(`/api/v1/intelligence/state/${hostId}`);
        return r.body.updated_at !== null && r.body.kernel !== null ? r.body : undefined;
      });
      assert.equal(state.kernel, os.release());
      assert.ok(
        (state.listening_ports as { protocol: string; port: number }[]).some(
          (l) => l.protocol === 'tcp' && l.port === agentPort,
        ),
        `the agent's own web server on ${agentPort} listens: ${JSON.stringify(state.listening_ports)}`,
      );
      assert.ok((state.accounts as { name: string }[]).some((a) => a.name === 'root'));
    });
  });
}
