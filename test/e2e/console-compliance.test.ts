// Fleet health and a host's Compliance and Changes tabs, in Chromium against a real server: a
// compliance pack (an operator pack directory) is assigned to the host of an enrolled agent by a
// host template's `compliance_packs` var; compliance reports and kernel changes go in through
// the agent's own push route over its mutual TLS (its certificate), as two evaluations and then
// a run of flips. Then the fleet health page shows the score, liveness, the failing rules and
// hosts and the recent changes (with Load more); the host's Compliance tab its rules (a failing
// one opens to its remediation), filtered by status, and the unknown pack it was given; its
// Changes tab the kernel change and the compliance change. A caller with only host:read sees
// liveness and connectivity alone.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { databaseKinds } from '../support/databases.js';
import { eventually, httpsJson } from '../support/https.js';
import {
  browserMissing,
  captureScreen,
  CONSOLE_ADMIN_PASSWORD,
  signIn,
  startConsole,
  type ConsoleHarness,
} from '../support/console.js';

const skip = browserMissing();

const PACK = 'e2e-baseline';
const cis = (section: string) => [{ framework: 'CIS Debian Linux 12 Benchmark', section }];
const RULES = {
  root: {
    id: 'sshd-permit-root-login',
    title: 'SSH root login is disabled',
    severity: 'high',
    rationale: 'Logging in as root directly leaves no trace of who used the account.',
    remediation: 'Set PermitRootLogin no in /etc/ssh/sshd_config, then: systemctl reload ssh',
    references: cis('5.1.20'),
    platforms: ['debian', 'ubuntu'],
    probe: {
      kind: 'file_content',
      paths: ['/etc/ssh/sshd_config'],
      pattern: '^\\s*PermitRootLogin\\s+no\\b',
      expect: 'match',
    },
  },
  firewall: {
    id: 'firewall-active',
    title: 'A host firewall is active',
    severity: 'medium',
    rationale: 'A firewall limits what an attacker on the network can reach.',
    remediation: 'apt install nftables && systemctl enable --now nftables',
    references: cis('4.2.1'),
    platforms: ['debian', 'ubuntu'],
    probe: { kind: 'service', unit: 'nftables.service', active: true },
  },
  auditd: {
    id: 'auditd-installed',
    title: 'auditd is installed',
    severity: 'low',
    rationale: 'auditd records security-relevant events for later review.',
    remediation: 'apt install auditd audispd-plugins',
    references: cis('6.2.1.1'),
    platforms: ['debian', 'ubuntu'],
    probe: { kind: 'package', name: 'auditd', expect: 'installed' },
  },
  forwarding: {
    id: 'ip-forward-off',
    title: 'IP forwarding is off',
    severity: 'medium',
    rationale: 'A host that is no router should not forward packets between networks.',
    remediation: 'sysctl -w net.ipv4.ip_forward=0',
    references: cis('3.3.1'),
    platforms: ['rhel'],
    probe: { kind: 'sysctl', key: 'net.ipv4.ip_forward', op: 'eq', value: 0 },
  },
} as const;
type RuleKey = keyof typeof RULES;
type Status = 'pass' | 'fail' | 'error' | 'not_applicable';

for (const kind of await databaseKinds())
  describe(`web console: compliance and changes (${kind.name})`, { skip }, () => {
    let database: { url?: string; drop(): Promise<void> } | undefined;
    let h: ConsoleHarness;
    let page: Page;
    let packDir: string;
    let hostId: string;
    let hostName: string;
    let cert: string;
    let key: string;
    /** The last document's time (epoch ms): each push is a second later, after the agent's own. */
    let clock = 0;

    /** Screenshots (and axe) once, on SQLite: the screens do not differ by engine. */
    const shot = (name: string) =>
      kind.name === 'sqlite' ? captureScreen(page, name) : Promise.resolve();

    /**
     * Pushes a document as the agent, over its mutual TLS: its kernel and a compliance report of
     * the given statuses (a new evaluation each time); returns the push's answer.
     */
    const push = async (kernel: string, statuses: Partial<Record<RuleKey, Status>>) => {
      clock = Math.max(clock + 1000, Date.now());
      const evaluatedAt = Math.floor(clock / 1000);
      const results = Object.entries(statuses).map(([k, status]) => ({
        pack: PACK,
        rule: RULES[k as RuleKey].id,
        status,
        ...(k === 'root' && status === 'fail'
          ? { detail: 'PermitRootLogin yes in /etc/ssh/sshd_config' }
          : {}),
      }));
      const r = await httpsJson(`${h.base}/api/v1/agents/${h.agentId}/checkdata`, {
        ca: h.ca,
        cert,
        key,
        body: {
          collected_at: clock,
          checkdata: {
            agent: { kernel_version: kernel },
            compliance: {
              checksum: 'e2e',
              evaluated_at: evaluatedAt,
              packs: [{ id: PACK, version: '1.0.0' }],
              results,
            },
          },
        },
      });
      assert.equal(r.status, 200, r.text);
      return r.body;
    };

    /** Opens a console path, waiting for its heading. */
    const open = async (to: string, heading: string) => {
      await page.goto(to);
      await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
    };

    before(async () => {
      database = kind.name === 'postgres' ? await kind.create() : undefined;
      packDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-e2e-packs-'));
      mkdirSync(packDir, { recursive: true });
      writeFileSync(
        path.join(packDir, `${PACK}.json`),
        JSON.stringify({
          id: PACK,
          version: '1.0.0',
          title: 'End-to-end baseline',
          description: 'Four rules for the console test.',
          rules: Object.values(RULES),
        }),
      );
      h = await startConsole({
        agent: true,
        env: {
          VIGIL_COMPLIANCE_PACKS_DIR: packDir,
          ...(database?.url ? { VIGIL_DATABASE_URL: database.url } : {}),
        },
      });
      const hosts = await eventually('the host listed', async () => {
        const r = await h.api('/api/v1/hosts');
        return r.body.items?.length === 1 ? r.body.items : undefined;
      });
      hostId = hosts[0].id;
      hostName = hosts[0].name;
      // From here on the test pushes as the agent; its own pushes would report this machine.
      await h.stopAgent();
      cert = readFileSync(path.join(h.agentDir, 'vigil-agent.crt'), 'utf8');
      key = readFileSync(path.join(h.agentDir, 'vigil-agent.key'), 'utf8');
      page = await h.newPage();
      await signIn(page, 'admin', CONSOLE_ADMIN_PASSWORD);
    });
    after(async () => {
      await h?.stop();
      await database?.drop();
      if (packDir) rmSync(packDir, { recursive: true, force: true });
    });

    test('before any result, fleet health says how to assign packs; the host tab too', async () => {
      await page.getByRole('link', { name: 'Fleet health' }).first().click();
      await page.getByRole('heading', { name: 'Fleet health', level: 1 }).waitFor();
      await page.getByText('No compliance results yet.').waitFor();
      await page.getByText('compliance_packs = ["linux-baseline"]').waitFor();
      await open(`/hosts/${encodeURIComponent(hostId)}?tab=compliance`, hostName);
      await page.getByText('No compliance packs are assigned to this host.').waitFor();
    });

    test('a pack assigned by template: two evaluations make states and a change', async () => {
      const tpl = await h.api('/api/v1/host-templates', {
        object_name: 'hardened',
        vars: { compliance_packs: [PACK, 'no-such-pack'] },
      });
      assert.equal(tpl.status, 201, tpl.text);
      const cfg = await h.api(
        `/api/v1/hosts/${encodeURIComponent(hostId)}/config`,
        { imports: ['hardened'] },
        'PATCH',
      );
      assert.equal(cfg.status, 200, cfg.text);
      const first = await push('6.1.0-e2e-1', {
        root: 'pass',
        firewall: 'fail',
        auditd: 'pass',
        forwarding: 'not_applicable',
      });
      // The push's answer delivers the assigned pack (the agent held none).
      assert.match(first.compliance.checksum, /^[0-9a-f]{64}$/);
      assert.deepEqual(
        first.compliance.packs.map((p: { id: string }) => p.id),
        [PACK],
      );
      await push('6.1.0-e2e-2', {
        root: 'fail',
        firewall: 'fail',
        auditd: 'pass',
        forwarding: 'not_applicable',
      });
      await eventually('the states stored', async () => {
        const r = await h.api('/api/v1/fleet/score');
        return r.body.total_evaluations === 3 ? true : undefined;
      });
      await eventually('the kernel changes recorded', async () => {
        const r = await h.api(
          `/api/v1/intelligence/events?host_id=${encodeURIComponent(hostId)}&kind=kernel`,
        );
        return r.body.events?.some(
          (e: { detail: { to?: string } }) => e.detail.to === '6.1.0-e2e-2',
        )
          ? true
          : undefined;
      });
    });

    test('fleet health: score, liveness, failing rules and hosts, recent changes', async () => {
      await open('/fleet/health', 'Fleet health');
      const score = page.getByRole('region', { name: 'Compliance score' });
      await score.getByText('33 %').waitFor();
      await score.getByText('1 of 3 rule evaluations pass on 1 host.').waitFor();

      const liveness = await h.api('/api/v1/fleet/liveness');
      assert.equal(liveness.status, 200, liveness.text);
      const total = ['reachable', 'unreachable', 'unknown', 'never_probed'].reduce(
        (n, k) => n + (liveness.body[k] as number),
        0,
      );
      assert.equal(total, 1, 'the one live host is counted once');
      const bar = page.getByRole('img', { name: /^Hosts by liveness:/ });
      assert.match(
        (await bar.getAttribute('aria-label')) ?? '',
        new RegExp(`${liveness.body.never_probed} never probed`),
      );
      await page.getByRole('img', { name: /^Hosts by SSH outcome:/ }).waitFor();

      const rules = page.getByRole('table').filter({ hasText: 'Failing hosts' });
      await rules
        .getByRole('row')
        .filter({ hasText: RULES.root.title })
        .getByText('1 / 1')
        .waitFor();
      await rules.getByRole('row').filter({ hasText: RULES.firewall.title }).waitFor();
      assert.equal(await rules.getByText(RULES.auditd.title).count(), 0, 'a passing rule');
      // A rule's title opens its rationale.
      await rules.getByText(RULES.root.title).click();
      await rules.getByText(RULES.root.rationale).waitFor();

      const changes = page.getByRole('region', { name: 'Recent compliance changes table' });
      const change = changes.getByRole('row').filter({ hasText: RULES.root.title });
      await change.waitFor();
      assert.match((await change.textContent()) ?? '', /pass.*to.*fail/);
      await shot('fleet-health');

      // The failing host leads to its compliance tab.
      await page
        .getByRole('region', { name: 'Top failing hosts table' })
        .getByRole('link', { name: hostName })
        .click();
      await page.getByRole('tab', { name: 'Compliance', selected: true }).waitFor();
    });

    test("the host's Compliance tab: summary, rules with remediation, status filter", async () => {
      await open(`/hosts/${encodeURIComponent(hostId)}?tab=compliance`, hostName);
      const summary = page.getByRole('region', { name: 'Compliance summary' });
      await summary.getByText('33 %').waitFor();
      await page.getByText(`${PACK} 1.0.0`, { exact: false }).waitFor();
      await page.getByRole('note').getByText('no-such-pack', { exact: false }).waitFor();
      const list = page.getByRole('list', { name: 'Compliance rules' });
      await page.getByRole('status').filter({ hasText: '4 of 4 rules' }).waitFor();
      // Failing rules come first, the worst severity first.
      assert.match((await list.getByRole('listitem').first().textContent()) ?? '', /SSH root/);
      await list.getByText(RULES.root.title).click();
      await list.getByText(RULES.root.remediation).waitFor();
      await list.getByText('PermitRootLogin yes in /etc/ssh/sshd_config').waitFor();
      await list.getByText('CIS Debian Linux 12 Benchmark, section 5.1.20').waitFor();
      const recent = page.getByRole('region', { name: 'Recent changes table' });
      await recent.getByRole('row').filter({ hasText: RULES.root.title }).waitFor();
      await shot('host-compliance');

      await page.getByLabel('Status').selectOption({ label: 'Passing' });
      await page.getByRole('status').filter({ hasText: '1 of 4 rules' }).waitFor();
      await list.getByText(RULES.auditd.title).waitFor();
      assert.equal(await list.getByText(RULES.root.title).count(), 0);
      await page.getByLabel('Status').selectOption({ label: 'Not applicable' });
      await list.getByText(RULES.forwarding.title).waitFor();
    });

    test("the host's Changes tab: the kernel change and the compliance change", async () => {
      await open(`/hosts/${encodeURIComponent(hostId)}?tab=changes`, hostName);
      const timeline = page.getByRole('list', { name: 'Changes, newest first' });
      const kernel = timeline.getByRole('listitem').filter({ hasText: 'Kernel changed' }).first();
      await kernel.getByText('6.1.0-e2e-1 → 6.1.0-e2e-2', { exact: false }).waitFor();
      const compliance = page.getByRole('region', { name: 'Compliance changes table' });
      await compliance.getByRole('row').filter({ hasText: RULES.root.title }).waitFor();
      await shot('host-changes');

      await page.getByLabel('Kind').selectOption({ label: 'Packages' });
      await page.getByText('No change of this kind recorded.').waitFor();
      await page.getByLabel('Kind').selectOption({ label: 'Kernel' });
      await kernel.waitFor();
    });

    test('recent changes page with Load more', async () => {
      // 22 more changes: the firewall rule flips with every evaluation.
      for (let i = 0; i < 22; i++)
        await push('6.1.0-e2e-2', { firewall: i % 2 === 0 ? 'pass' : 'fail' });
      await eventually('the flips stored', async () => {
        const r = await h.api('/api/v1/fleet/recent-changes?limit=100');
        return r.body.changes?.length === 23 ? true : undefined;
      });
      await open('/fleet/health', 'Fleet health');
      const changes = page.getByRole('region', { name: 'Recent compliance changes table' });
      const rows = changes.getByRole('row');
      await page.getByText('20 changes shown').waitFor();
      assert.equal(await rows.count(), 21, 'a header and 20 changes');
      await page.getByRole('button', { name: 'Load more' }).click();
      await page.getByText('23 changes shown, no older ones').waitFor();
      assert.equal(await rows.count(), 24);
      // The oldest is the first change, of the root login rule.
      assert.match((await rows.last().textContent()) ?? '', /SSH root login/);
      assert.deepEqual(h.pageErrors, []);
    });

    test('a caller with host:read only sees liveness and connectivity alone', async () => {
      const role = await h.api('/api/v1/roles', {
        name: 'hosts-only',
        permissions: ['dashboard:view', 'host:read'],
      });
      assert.equal(role.status, 201, role.text);
      const password = 'hosts only password 123';
      const user = await h.api('/api/v1/users', {
        username: 'hostreader',
        password,
        roles: ['hosts-only'],
        must_change_password: false,
      });
      assert.equal(user.status, 201, user.text);
      const p = await h.newPage();
      await signIn(p, 'hostreader', password);
      await p.goto('/fleet/health');
      await p.getByRole('heading', { name: 'Liveness' }).waitFor();
      await p.getByRole('heading', { name: 'Connectivity' }).waitFor();
      assert.equal(await p.getByRole('heading', { name: 'Compliance score' }).count(), 0);
      assert.equal(await p.getByRole('heading', { name: 'Top failing rules' }).count(), 0);
      await p.goto(`/hosts/${encodeURIComponent(hostId)}`);
      await p.getByRole('tab', { name: 'Changes' }).waitFor();
      assert.equal(await p.getByRole('tab', { name: 'Compliance' }).count(), 0);
      assert.deepEqual(h.pageErrors, []);
    });
  });
