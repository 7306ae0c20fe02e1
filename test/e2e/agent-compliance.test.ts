// A real server and a real agent process on this machine: the built-in linux-baseline pack,
// assigned through a host template, reaches the agent in a push answer; the agent evaluates it
// against this machine's real files and /proc, and the server's compliance, fleet and host
// intelligence routes show what it found.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../support/databases.js';
import { eventually } from '../support/https.js';
import { freePort } from '../support/postgres.js';
import { startAgentRun, type AgentRun } from '../support/process.js';
import { serveWithEnrolledAgent, type ServedAgent } from '../support/served-agent.js';

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
    let served: ServedAgent;
    let agentPort: number;
    let agent: AgentRun | undefined;
    const api = (p: string, body?: unknown, method?: string) => served.api(p, body, method);

    before(async () => {
      agentPort = await freePort();
      served = await serveWithEnrolledAgent(kind, {
        password: PASSWORD,
        agentId: AGENT_ID,
        agentName: 'Compliance end to end',
        configLines: () => [
          '[default]',
          'interval = 1',
          'address = 127.0.0.1',
          `port = ${agentPort}`,
          '[packagemanager]',
          'enabled = false',
        ],
      });
    });
    after(async () => {
      await agent?.stop();
      await served?.stop();
    });

    test('a pack assigned by template is evaluated on this machine and shown by the server', async () => {
      agent = await startAgentRun(['--config', served.config]);
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
