import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ComplianceResult } from '@vigil/protocol';
import type { CheckDocument } from '@vigil/protocol/decode';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';
import type { IngestEvent } from '../src/events/types.js';
import { createHostStore } from '../src/hosts/store.js';
import { testPack, writePacks } from './compliance-support.js';

// The fleet pages over a synthetic fleet: hosts with known rule states (taken in by compliance's
// ingest subscriber) and liveness rows (as the connectivity worker writes them), one of them
// deleted, so that every figure is known exactly.

const PACK = testPack('fleet-test', [
  ['r1', 'low'],
  ['r2', 'critical'],
  ['r3', 'medium'],
  ['r4', 'high'],
]);

for (const kind of await databaseKinds()) {
  describe(`fleet pages on ${kind.name}`, () => {
    let h: Harness;
    let token: string;
    let dir: string;
    const ids: Record<string, string> = {};
    const call = async (url: string) => {
      const res = await h.inject({ url, headers: { authorization: `Bearer ${token}` } });
      return res;
    };
    const ok = async (url: string) => {
      const res = await call(url);
      assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
      return res.json();
    };
    /** Takes in one evaluation of a host, as ingest would deliver its document. */
    const evaluate = async (host: string, evaluatedAt: number, statuses: string[]) => {
      const results: ComplianceResult[] = statuses.flatMap((s, i) =>
        s === '-'
          ? []
          : [{ pack: 'fleet-test', rule: `r${i + 1}`, status: s as ComplianceResult['status'] }],
      );
      const event: IngestEvent = {
        agentId: `agent-${host}`,
        hostId: ids[host]!,
        collectedAt: evaluatedAt * 1000,
        doc: {
          compliance: {
            checksum: 'x',
            evaluated_at: evaluatedAt,
            packs: [{ id: 'fleet-test', version: '1.0.0' }],
            results,
          },
        } as CheckDocument,
        clockSkewSeconds: null,
        samples: { keys: [], values: new Float64Array() },
        checks: [],
      };
      await h.vigil.compliance.ingest.onIngest(event);
    };

    before(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-fleet-'));
      h = await startHarness(kind, {
        env: { VIGIL_COMPLIANCE_PACKS_DIR: writePacks(dir, 'packs', [PACK]) },
      });
      token = await h.login();
      for (const name of ['alpha', 'bravo', 'charlie', 'delta', 'echo']) {
        const res = await h.inject({
          method: 'POST',
          url: '/api/v1/hosts',
          headers: { authorization: `Bearer ${token}` },
          payload: { hostname: name, ip_address: '192.0.2.10' },
        });
        assert.equal(res.statusCode, 201, res.body);
        ids[name] = res.json().id as string;
      }
      // No alerts here: the figures are what is tested.
      const res = await h.inject({
        method: 'PUT',
        url: '/api/v1/system/compliance/config',
        headers: { authorization: `Bearer ${token}` },
        payload: { alert_min_severity: 'none' },
      });
      assert.equal(res.statusCode, 200, res.body);
      const t = 1_800_000_000;
      // alpha: pass pass fail n/a; bravo: fail fail fail; charlie: pass error; echo (deleted
      // below): fail fail fail fail. delta never reports.
      await evaluate('alpha', t, ['pass', 'pass', 'fail', 'not_applicable']);
      await evaluate('bravo', t, ['fail', 'fail', 'fail']);
      await evaluate('charlie', t, ['pass', 'error']);
      await evaluate('echo', t, ['fail', 'fail', 'fail', 'fail']);
      // Changes, oldest first: alpha r4 n/a → fail, charlie r2 error → pass, then alpha r4
      // fail → pass; echo's change is left out once it is deleted.
      await evaluate('alpha', t + 60, ['pass', 'pass', 'fail', 'fail']);
      await evaluate('charlie', t + 120, ['pass', 'pass']);
      await evaluate('echo', t + 130, ['pass', 'fail', 'fail', 'fail']);
      await evaluate('alpha', t + 180, ['pass', 'pass', 'fail', 'pass']);
      // The same evaluation again is a no-op.
      await evaluate('alpha', t + 180, ['pass', 'pass', 'fail', 'fail']);

      const hosts = createHostStore(h.vigil.db.kysely);
      const now = Date.now();
      const row = {
        consecutive_failures: 0,
        response_ms: 3,
        error: null as string | null,
        ssh_ok: null as number | null,
      };
      await hosts.saveLiveness({
        ...row,
        host_id: ids.alpha!,
        state: 'reachable',
        checked_at: now,
        ssh_ok: 1,
      });
      await hosts.saveLiveness({
        ...row,
        host_id: ids.bravo!,
        state: 'unreachable',
        checked_at: now - 60_000,
        error: 'connection refused',
      });
      // Older than three connectivity intervals (300 s by default): stale.
      await hosts.saveLiveness({
        ...row,
        host_id: ids.charlie!,
        state: 'reachable',
        checked_at: now - 1_000_000,
        ssh_ok: 0,
        error: 'authentication failed',
      });
      await hosts.saveLiveness({
        ...row,
        host_id: ids.echo!,
        state: 'unreachable',
        checked_at: now,
        error: 'connection refused',
      });
      const del = await h.inject({
        method: 'DELETE',
        url: `/api/v1/hosts/${ids.echo}`,
        headers: { authorization: `Bearer ${token}` },
      });
      assert.ok(del.statusCode < 300, del.body);
    });
    after(async () => {
      await h?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test("the score counts live hosts' passing and failing rule states", async () => {
      // alpha: 3 pass 1 fail; bravo: 3 fail; charlie: 2 pass. echo is deleted.
      assert.deepEqual(await ok('/api/v1/fleet/score'), {
        passing_fraction: 5 / 9,
        total_evaluations: 9,
        passing: 5,
        failing: 4,
        hosts_evaluated: 3,
      });
    });

    test('the rules failing on most hosts first, then the worst severity', async () => {
      const body = await ok('/api/v1/fleet/top-failing-rules');
      assert.deepEqual(body.rules, [
        {
          pack: 'fleet-test',
          rule_id: 'r3',
          title: 'Rule r3',
          severity: 'medium',
          failing_hosts: 2,
          hosts_evaluated: 2,
        },
        {
          pack: 'fleet-test',
          rule_id: 'r2',
          title: 'Rule r2',
          severity: 'critical',
          failing_hosts: 1,
          hosts_evaluated: 3,
        },
        {
          pack: 'fleet-test',
          rule_id: 'r1',
          title: 'Rule r1',
          severity: 'low',
          failing_hosts: 1,
          hosts_evaluated: 3,
        },
      ]);
      assert.deepEqual(
        (await ok('/api/v1/fleet/top-failing-rules?limit=1')).rules.map(
          (r: { rule_id: string }) => r.rule_id,
        ),
        ['r3'],
      );
    });

    test('the hosts with the most failing rules first', async () => {
      const body = await ok('/api/v1/fleet/top-failing-hosts');
      assert.deepEqual(body.hosts, [
        {
          host_id: ids.bravo,
          host_name: 'bravo',
          failing_rules: 3,
          evaluated_rules: 3,
          score: 0,
        },
        {
          host_id: ids.alpha,
          host_name: 'alpha',
          failing_rules: 1,
          evaluated_rules: 4,
          score: 0.75,
        },
      ]);
      assert.equal((await ok('/api/v1/fleet/top-failing-hosts?limit=1')).hosts.length, 1);
    });

    test('recent changes newest first, paged by cursor, by host', async () => {
      const page1 = await ok('/api/v1/fleet/recent-changes?limit=2');
      const seen = page1.changes.map((c: { host_name: string; rule_id: string; to: string }) => [
        c.host_name,
        c.rule_id,
        c.to,
      ]);
      assert.deepEqual(seen, [
        ['alpha', 'r4', 'pass'],
        ['charlie', 'r2', 'pass'],
      ]);
      assert.equal(page1.changes[0].from, 'fail');
      assert.equal(page1.changes[0].title, 'Rule r4');
      assert.equal(page1.changes[0].severity, 'high');
      assert.equal(page1.changes[0].at, new Date((1_800_000_000 + 180) * 1000).toISOString());
      assert.equal(typeof page1.next_cursor, 'string');
      const page2 = await ok(
        `/api/v1/fleet/recent-changes?limit=2&cursor=${encodeURIComponent(page1.next_cursor)}`,
      );
      assert.deepEqual(
        page2.changes.map((c: { host_name: string; rule_id: string; from: string; to: string }) => [
          c.host_name,
          c.rule_id,
          c.from,
          c.to,
        ]),
        [['alpha', 'r4', 'not_applicable', 'fail']],
      );
      assert.equal(page2.next_cursor, null);
      const alpha = await ok(`/api/v1/fleet/recent-changes?host_id=${ids.alpha}`);
      assert.equal(alpha.changes.length, 2);
      const echo = await ok(`/api/v1/fleet/recent-changes?host_id=${ids.echo}`);
      assert.deepEqual(echo.changes, [], "a deleted host's changes are left out");
    });

    test('liveness and the connectivity breakdown from the liveness rows of live hosts', async () => {
      const statuses = { reachable: 1, unreachable: 1, unknown: 1, never_probed: 1 };
      assert.deepEqual(await ok('/api/v1/fleet/liveness'), statuses);
      assert.deepEqual(await ok('/api/v1/fleet/connectivity/breakdown'), {
        total: 4,
        statuses,
        ssh: { ok: 1, failed: 1, not_attempted: 2 },
        errors: [
          { error: 'authentication failed', hosts: 1 },
          { error: 'connection refused', hosts: 1 },
        ],
      });
    });

    test('bad query parameters are 400 in the error envelope', async () => {
      for (const url of [
        '/api/v1/fleet/top-failing-rules?limit=0',
        '/api/v1/fleet/top-failing-hosts?limit=101',
        '/api/v1/fleet/recent-changes?limit=abc',
        '/api/v1/fleet/recent-changes?cursor=forged',
      ]) {
        const res = await call(url);
        assert.equal(res.statusCode, 400, url);
        const { error } = res.json();
        assert.equal(error.code, 'validation_failed', url);
        assert.equal(error.fault, 'client', url);
        assert.equal(typeof error.human_message, 'string', url);
      }
    });
  });
}
