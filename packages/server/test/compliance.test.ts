import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import type { ComplianceResult } from '@vigil/protocol';
import { buildCsr } from '../../agent/src/serve/csr.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { ADMIN_PASSWORD } from '../../../test/support/harness.js';
import { httpsJson } from '../../../test/support/https.js';
import { createVigil, type Vigil } from '../src/app.js';
import { ingestTarget } from '../src/agents/model.js';
import { systemContext } from '../src/audit/service.js';
import { loadConfig } from '../src/config/config.js';
import { ensureAutoTls } from '../src/tls/pki.js';
import { testPack, writePacks } from './compliance-support.js';

// Compliance end to end over mutual TLS: packs assigned through a host template's vars ride in
// the native push answer (only when the agent's checksum differs), the agent's reports are stored
// as states and changes, failing rules raise alerts and passing ones clear them, and the API
// reads it all back.

const ctx = systemContext('test');
const BASE = testPack('test-base', [
  ['ssh-root', 'high'],
  ['ssh-password', 'medium'],
  ['ip-forward', 'low'],
]);
const EXTRA = testPack('test-extra', [['auditd', 'critical']]);
// A nested probe of several kinds: the push answer must carry it as loaded.
EXTRA.rules[0]!.probe = {
  kind: 'all',
  probes: [
    {
      kind: 'file_content',
      paths: ['/etc/audit/auditd.conf', '/etc/audit/rules.d/*'],
      pattern: '^max_log_file_action\\s*=\\s*keep_logs',
      expect: 'match',
      missing: 'fail',
    },
    {
      kind: 'any',
      probes: [
        { kind: 'service', unit: 'auditd.service', enabled: true, active: true },
        { kind: 'package', name: 'auditd', expect: 'installed' },
        { kind: 'file_mode', path: '/etc/shadow', max_mode: '0640', owner: 'root' },
        { kind: 'port', protocol: 'tcp', port: 23, expect: 'closed' },
        { kind: 'world_writable', path: '/etc', max_depth: 4 },
        { kind: 'security_updates', max: 0 },
        { kind: 'sysctl', key: 'kernel.randomize_va_space', op: 'ge', value: 2 },
      ],
    },
  ],
};

for (const kind of await databaseKinds()) {
  describe(`compliance on ${kind.name}`, () => {
    let vigil: Vigil;
    let dir: string;
    let drop: () => Promise<void>;
    let base: string;
    let token: string;
    let hostId: string;
    let client: { ca: string; cert: string; key: string };
    let collected = Date.now();

    const call = async (method: string, url: string, payload?: unknown, as = token) =>
      vigil.http.inject({
        method: method as 'GET',
        url,
        headers: { authorization: `Bearer ${as}` },
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
    const push = async (opts: { checksum?: string; compliance?: unknown } = {}) => {
      collected += 1000;
      const res = await httpsJson(`${base}/api/v1/agents/cmp-01/checkdata`, {
        ...client,
        body: {
          collected_at: collected,
          checkdata: {
            memory: { total: 1000, used: 400, free: 600, percent: 40 },
            ...(opts.compliance === undefined ? {} : { compliance: opts.compliance }),
          },
          ...(opts.checksum === undefined ? {} : { compliance_checksum: opts.checksum }),
        },
      });
      assert.equal(res.status, 200, res.text);
      return res.body.compliance as {
        checksum: string;
        interval_seconds: number;
        packs?: { id: string }[];
      };
    };
    const report = (evaluatedAt: number, results: ComplianceResult[]) => ({
      checksum: 'whatever',
      evaluated_at: evaluatedAt,
      packs: [{ id: 'test-base', version: '1.0.0' }],
      results,
    });
    const hostCompliance = async () => {
      const res = await call('GET', `/api/v1/hosts/${hostId}/compliance`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json();
    };
    const openComplianceAlerts = async () => {
      const res = await call('GET', `/api/v1/alerts?host_id=${hostId}`);
      assert.equal(res.statusCode, 200, res.body);
      return (res.json().items as { rule_id: string; state: string }[]).filter(
        (a) =>
          a.rule_id === 'compliance' && ['active', 'acknowledged', 'silenced'].includes(a.state),
      ) as unknown as {
        labels: Record<string, string>;
        severity: string;
        type: string;
        message: string;
      }[];
    };

    before(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-compliance-'));
      const packsDir = writePacks(dir, 'packs', [BASE, EXTRA]);
      const config = loadConfig({
        file: path.join(dir, 'absent.toml'),
        fileRequired: false,
        env: { VIGIL_STORAGE_DATA_DIR: dir, VIGIL_SERVER_TLS: 'auto' },
      });
      const tls = await ensureAutoTls(path.join(dir, 'tls'));
      const created = await kind.create();
      drop = created.drop;
      vigil = await createVigil({
        config,
        logger: pino({ level: 'silent' }),
        db: created.db,
        https: { cert: tls.cert, key: tls.key, ca: tls.ca! },
        compliancePacksDir: packsDir,
      });
      await vigil.identity.ensureFirstAdmin(ADMIN_PASSWORD, ctx);
      token = (
        await vigil.http.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { username: 'admin', password: ADMIN_PASSWORD },
        })
      ).json().access_token as string;
      const agent = await call('POST', '/api/v1/agents', { id: 'cmp-01', name: 'cmp-01' });
      assert.equal(agent.statusCode, 201, agent.body);
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const enrolled = await vigil.http.inject({
        method: 'POST',
        url: '/api/v1/agents/enroll',
        payload: {
          token: agent.json().enrollment_token,
          csr: buildCsr(privateKey, 'cmp-01'),
          hostname: 'cmp-01',
        },
      });
      assert.equal(enrolled.statusCode, 201, enrolled.body);
      client = {
        ca: tls.ca!,
        cert: enrolled.json().certificate,
        key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      };
      await vigil.http.listen({ host: '127.0.0.1', port: 0 });
      const address = vigil.http.server.address();
      base = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      hostId = ingestTarget((await vigil.agents.row('cmp-01'))!).hostId;
    });
    after(async () => {
      await vigil?.close();
      await drop?.();
      rmSync(dir, { recursive: true, force: true });
    });

    test('no compliance_packs var: an empty checksum and no packs', async () => {
      assert.deepEqual(await push(), { checksum: '', interval_seconds: 3600 });
      assert.deepEqual(await push({ checksum: '' }), { checksum: '', interval_seconds: 3600 });
      const c = await hostCompliance();
      assert.deepEqual(c.packs, []);
      assert.deepEqual(c.rules, []);
      assert.equal(c.evaluated_at, null);
      assert.equal(c.summary.score, null);
    });

    test("packs assigned through a host template's vars ride in the answer when the checksum differs", async () => {
      let res = await call('POST', '/api/v1/host-templates', {
        object_name: 'hardened',
        vars: { compliance_packs: ['test-base', 'no-such-pack'] },
      });
      assert.equal(res.statusCode, 201, res.body);
      res = await call('PATCH', `/api/v1/hosts/${hostId}/config`, { imports: ['hardened'] });
      assert.equal(res.statusCode, 200, res.body);

      const first = await push();
      assert.match(first.checksum, /^[0-9a-f]{64}$/);
      assert.deepEqual(
        first.packs?.map((p) => p.id),
        ['test-base'],
      );
      assert.deepEqual(first.packs?.[0], BASE, 'the pack as loaded');
      const held = await push({ checksum: first.checksum });
      assert.deepEqual(held, { checksum: first.checksum, interval_seconds: 3600 });
      const stale = await push({ checksum: 'an-older-checksum' });
      assert.equal(stale.packs?.length, 1);

      // The host's own var wins over the template's; one string is one id.
      res = await call('PATCH', `/api/v1/hosts/${hostId}/config`, {
        vars: { compliance_packs: 'test-extra' },
      });
      assert.equal(res.statusCode, 200, res.body);
      const extra = await push({ checksum: first.checksum });
      assert.notEqual(extra.checksum, first.checksum);
      assert.deepEqual(extra.packs, [EXTRA]);
      res = await call('PATCH', `/api/v1/hosts/${hostId}/config`, {
        vars: { compliance_packs: null },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((await push({ checksum: first.checksum })).packs, undefined);

      // The interval follows the settings.
      res = await call('PUT', '/api/v1/system/compliance/config', { interval_seconds: 900 });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((await push({ checksum: first.checksum })).interval_seconds, 900);
      res = await call('PUT', '/api/v1/system/compliance/config', { interval_seconds: 3600 });
      assert.equal(res.statusCode, 200, res.body);

      const c = await hostCompliance();
      assert.deepEqual(c.packs, [{ id: 'test-base', version: '1.0.0' }]);
      assert.deepEqual(c.unknown_packs, ['no-such-pack']);
      assert.deepEqual(
        c.rules.map((r: { id: string; status: unknown }) => [r.id, r.status]),
        [
          ['ssh-root', null],
          ['ssh-password', null],
          ['ip-forward', null],
        ],
      );
    });

    test('reports are stored; a change is recorded once; failing high rules raise alerts', async () => {
      const t1 = Math.floor(Date.now() / 1000) - 600;
      const first = report(t1, [
        { pack: 'test-base', rule: 'ssh-root', status: 'fail', detail: 'PermitRootLogin yes' },
        { pack: 'test-base', rule: 'ssh-password', status: 'pass' },
        { pack: 'test-base', rule: 'ip-forward', status: 'pass' },
        // Ignored: a rule and a pack this server does not know.
        { pack: 'test-base', rule: 'ghost', status: 'fail' },
        { pack: 'elsewhere', rule: 'ssh-root', status: 'fail' },
      ]);
      await push({ compliance: first });
      let c = await hostCompliance();
      assert.equal(c.evaluated_at, new Date(t1 * 1000).toISOString());
      assert.deepEqual(c.summary, { pass: 2, fail: 1, error: 0, not_applicable: 0, score: 2 / 3 });
      const root = c.rules.find((r: { id: string }) => r.id === 'ssh-root');
      assert.equal(root.status, 'fail');
      assert.equal(root.detail, 'PermitRootLogin yes');
      assert.equal(root.since, new Date(t1 * 1000).toISOString());
      assert.equal(root.rationale, 'Why ssh-root.');
      assert.deepEqual(c.changes, [], 'a first sight is a state, not a change');
      let alerts = await openComplianceAlerts();
      assert.equal(alerts.length, 1);
      assert.deepEqual(alerts[0]!.labels, { rule: 'ssh-root' });
      assert.equal(alerts[0]!.severity, 'critical');
      assert.equal(alerts[0]!.type, 'compliance');
      assert.match(alerts[0]!.message, /ssh-root/);
      // The alert rules' evaluator, seeded anew from the open alerts, leaves it alone (no alert
      // rule owns it).
      await vigil.rules.evaluator.start();
      await vigil.rules.evaluator.tick();
      assert.equal((await openComplianceAlerts()).length, 1);

      // The same evaluation again: nothing changes.
      await push({ compliance: first });
      await push({ compliance: first });
      assert.deepEqual((await hostCompliance()).changes, []);

      // The next evaluation: root login fixed, passwords now allowed (medium: below `high`, no
      // alert), ip forwarding not applicable.
      const t2 = t1 + 300;
      const second = report(t2, [
        { pack: 'test-base', rule: 'ssh-root', status: 'pass' },
        { pack: 'test-base', rule: 'ssh-password', status: 'fail', detail: 'yes' },
        { pack: 'test-base', rule: 'ip-forward', status: 'pass' },
      ]);
      await push({ compliance: second });
      await push({ compliance: second });
      c = await hostCompliance();
      assert.deepEqual(
        c.changes.map((x: { rule_id: string; from: string; to: string; at: string }) => [
          x.rule_id,
          x.from,
          x.to,
          x.at,
        ]),
        [
          ['ssh-password', 'pass', 'fail', new Date(t2 * 1000).toISOString()],
          ['ssh-root', 'fail', 'pass', new Date(t2 * 1000).toISOString()],
        ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
      );
      assert.equal(c.changes[0].title, `Rule ${c.changes[0].rule_id}`);
      const ip = c.rules.find((r: { id: string }) => r.id === 'ip-forward');
      assert.equal(ip.since, new Date(t1 * 1000).toISOString(), 'unchanged: since stays');
      assert.deepEqual(c.summary, { pass: 2, fail: 1, error: 0, not_applicable: 0, score: 2 / 3 });
      alerts = await openComplianceAlerts();
      assert.deepEqual(alerts, [], 'passing clears the alert; a medium failure raises none');

      // An older evaluation arriving late changes nothing.
      await push({ compliance: first });
      assert.equal((await hostCompliance()).changes.length, 2);

      // Lowering the threshold: the next failure of a medium rule raises an alert.
      let res = await call('PUT', '/api/v1/system/compliance/config', {
        alert_min_severity: 'medium',
      });
      assert.equal(res.statusCode, 200, res.body);
      await push({
        compliance: report(t2 + 300, [
          { pack: 'test-base', rule: 'ssh-password', status: 'error', detail: 'unreadable' },
        ]),
      });
      await push({
        compliance: report(t2 + 600, [{ pack: 'test-base', rule: 'ssh-password', status: 'fail' }]),
      });
      alerts = await openComplianceAlerts();
      assert.deepEqual(
        alerts.map((a) => [a.labels.rule, a.severity]),
        [['ssh-password', 'warning']],
      );
      res = await call('PUT', '/api/v1/system/compliance/config', { alert_min_severity: 'high' });
      assert.equal(res.statusCode, 200, res.body);

      // The fleet sees the same changes, newest first.
      res = await call('GET', `/api/v1/fleet/recent-changes?host_id=${hostId}&limit=100`);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(
        res
          .json()
          .changes.map((x: { rule_id: string; from: string; to: string }) => [
            x.rule_id,
            x.from,
            x.to,
          ]),
        [
          ['ssh-password', 'error', 'fail'],
          ['ssh-password', 'fail', 'error'],
          ...c.changes.map((x: { rule_id: string; from: string; to: string }) => [
            x.rule_id,
            x.from,
            x.to,
          ]),
        ],
      );
    });

    test('the rules list with their hosts; filters by pack and severity', async () => {
      let res = await call('GET', '/api/v1/compliance/rules');
      assert.equal(res.statusCode, 200, res.body);
      let body = res.json();
      assert.deepEqual(
        body.packs.map((p: { id: string; rules: number }) => [p.id, p.rules]),
        [
          ['test-base', 3],
          ['test-extra', 1],
        ],
      );
      const byId = new Map<string, { failing_hosts: number; passing_hosts: number }>(
        body.rules.map((r: { id: string }) => [r.id, r]),
      );
      assert.equal(byId.get('ssh-password')?.failing_hosts, 1);
      assert.equal(byId.get('ssh-root')?.passing_hosts, 1);
      assert.equal(byId.get('auditd')?.failing_hosts, 0);
      res = await call('GET', '/api/v1/compliance/rules?pack=test-extra');
      body = res.json();
      assert.deepEqual(
        body.rules.map((r: { id: string }) => r.id),
        ['auditd'],
      );
      res = await call('GET', '/api/v1/compliance/rules?severity=medium');
      assert.deepEqual(
        res.json().rules.map((r: { id: string }) => r.id),
        ['ssh-password'],
      );
      res = await call('GET', '/api/v1/compliance/rules?severity=severe');
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error.code, 'validation_failed');
    });

    test('states of packs the agent no longer evaluates are dropped, and their alerts cleared', async () => {
      assert.equal((await openComplianceAlerts()).length, 1, 'ssh-password fails (medium)');
      const at = Math.floor(Date.now() / 1000);
      await push({
        compliance: {
          checksum: 'other',
          evaluated_at: at,
          packs: [{ id: 'test-extra', version: '1.0.0' }],
          results: [{ pack: 'test-extra', rule: 'auditd', status: 'pass' }],
        },
      });
      assert.deepEqual(await openComplianceAlerts(), []);
      const c = await hostCompliance();
      assert.ok(
        c.rules.every((r: { status: unknown }) => r.status === null),
        'test-base (still assigned) has no state left',
      );
      assert.equal(c.changes.length, 4, 'the changes stay');
      const rules = (await call('GET', '/api/v1/compliance/rules')).json().rules as {
        id: string;
        failing_hosts: number;
        passing_hosts: number;
      }[];
      assert.deepEqual(
        rules.map((r) => [r.id, r.failing_hosts, r.passing_hosts]),
        [
          ['ssh-root', 0, 0],
          ['ssh-password', 0, 0],
          ['ip-forward', 0, 0],
          ['auditd', 0, 1],
        ],
      );
    });

    test('an unknown host is 404; a role without compliance:read is 403', async () => {
      let res = await call('GET', '/api/v1/hosts/no-such-host/compliance');
      assert.equal(res.statusCode, 404);
      assert.equal(res.json().error.code, 'not_found');
      res = await call('POST', '/api/v1/roles', {
        name: 'host-reader',
        permissions: ['host:read'],
      });
      assert.equal(res.statusCode, 201, res.body);
      await vigil.identity.createUser(
        { username: 'reader', password: ADMIN_PASSWORD, roles: ['host-reader'] },
        ctx,
      );
      const reader = (
        await vigil.http.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { username: 'reader', password: ADMIN_PASSWORD },
        })
      ).json().access_token as string;
      for (const url of [
        '/api/v1/compliance/rules',
        `/api/v1/hosts/${hostId}/compliance`,
        '/api/v1/fleet/score',
        '/api/v1/fleet/top-failing-rules',
        '/api/v1/fleet/top-failing-hosts',
        '/api/v1/fleet/recent-changes',
      ]) {
        res = await call('GET', url, undefined, reader);
        assert.equal(res.statusCode, 403, url);
        assert.equal(res.json().error.fault, 'policy', url);
      }
      res = await call('GET', '/api/v1/fleet/liveness', undefined, reader);
      assert.equal(res.statusCode, 200, res.body);
    });

    test('the compliance settings: defaults, a bad value named, a change audited', async () => {
      let res = await call('PUT', '/api/v1/system/compliance/config', { interval_seconds: 10 });
      assert.equal(res.statusCode, 400);
      assert.match(res.json().error.human_message, /interval_seconds/);
      res = await call('PUT', '/api/v1/system/compliance/config', { alert_min_severity: 'loud' });
      assert.equal(res.statusCode, 400);
      assert.match(res.json().error.human_message, /alert_min_severity/);
      res = await call('PUT', '/api/v1/system/compliance/config', { other: 1 });
      assert.equal(res.statusCode, 400);
      res = await call('PUT', '/api/v1/system/compliance/config', { alert_min_severity: 'none' });
      assert.deepEqual(res.json(), { interval_seconds: 3600, alert_min_severity: 'none' });
      res = await call('GET', '/api/v1/system/compliance/config');
      assert.deepEqual(res.json(), { interval_seconds: 3600, alert_min_severity: 'none' });
      res = await call('GET', '/api/v1/audit/events?action=system.compliance_config');
      assert.ok(res.json().items.length >= 1, res.body);
    });
  });
}
