import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ComplianceResult } from '@vigil/protocol';
import type { CheckDocument } from '@vigil/protocol/decode';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';
import { createComplianceStore } from '../src/compliance/store.js';
import { createHostSummaries } from '../src/compliance/summaries.js';
import type { IngestEvent } from '../src/events/types.js';
import { testPack, writePacks } from './compliance-support.js';

// The compliance summary of the hosts list and of a host's detail: counts of the host's current
// rule states (as compliance's ingest subscriber stores them), of a framework's rules when one is
// asked for (a pack id, or text of a rule reference's framework), the list and the detail alike.

const LINUX = testPack('linux-test', [
  ['a1', 'low'],
  ['a2', 'high'],
  ['a3', 'medium'],
  ['a4', 'critical'],
]);
// a1..a3 follow CIS Debian Linux 12 (as testPack gives); a4 follows another framework.
LINUX.rules[3]!.references = [{ framework: 'DISA STIG RHEL 9', section: 'V-257947' }];
const EXTRA = testPack('extra-test', [
  ['b1', 'low'],
  ['b2', 'medium'],
]);
for (const r of EXTRA.rules) r.references = [{ framework: 'Vendor baseline', section: '2.1' }];

interface Summary {
  framework: string | null;
  passing: number;
  failing: number;
  errors: number;
  not_applicable: number;
  total: number;
  score: number | null;
  evaluated_at: string | null;
}

const T = 1_800_000_000;
const at = (s: number) => new Date(s * 1000).toISOString();
const zero = (framework: string | null): Summary => ({
  framework,
  passing: 0,
  failing: 0,
  errors: 0,
  not_applicable: 0,
  total: 0,
  score: null,
  evaluated_at: null,
});

for (const kind of await databaseKinds()) {
  describe(`hosts' compliance summary on ${kind.name}`, () => {
    let h: Harness;
    let token: string;
    let dir: string;
    const ids: Record<string, string> = {};
    const call = async (url: string) =>
      h.inject({ url, headers: { authorization: `Bearer ${token}` } });
    const ok = async (url: string) => {
      const res = await call(url);
      assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
      return res.json();
    };
    /** Each host's summary in the list, by host name (`framework` in the query when given). */
    const listed = async (framework?: string): Promise<Record<string, Summary>> => {
      const q = framework === undefined ? '' : `?framework=${encodeURIComponent(framework)}`;
      const body = (await ok(`/api/v1/hosts${q}`)) as {
        items: { name: string; compliance: Summary }[];
      };
      return Object.fromEntries(body.items.map((i) => [i.name, i.compliance]));
    };
    const detail = async (name: string, framework?: string): Promise<Summary> => {
      const q = framework === undefined ? '' : `?framework=${encodeURIComponent(framework)}`;
      return ((await ok(`/api/v1/hosts/${ids[name]}${q}`)) as { compliance: Summary }).compliance;
    };
    /** Takes in one evaluation of a host, as ingest would deliver its document. */
    const evaluate = async (host: string, evaluatedAt: number, results: ComplianceResult[]) => {
      const packs = [...new Set(results.map((r) => r.pack))].map((id) => ({
        id,
        version: '1.0.0',
      }));
      const event: IngestEvent = {
        agentId: `agent-${host}`,
        hostId: ids[host]!,
        collectedAt: evaluatedAt * 1000,
        doc: {
          compliance: { checksum: 'x', evaluated_at: evaluatedAt, packs, results },
        } as CheckDocument,
        clockSkewSeconds: null,
        samples: { keys: [], values: new Float64Array() },
        checks: [],
      };
      await h.vigil.compliance.ingest.onIngest(event);
    };
    const result = (pack: string, rule: string, status: ComplianceResult['status']) => ({
      pack,
      rule,
      status,
    });

    before(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-hosts-compliance-'));
      h = await startHarness(kind, {
        env: { VIGIL_COMPLIANCE_PACKS_DIR: writePacks(dir, 'packs', [LINUX, EXTRA]) },
      });
      token = await h.login();
      for (const name of ['alpha', 'bravo', 'charlie']) {
        const res = await h.inject({
          method: 'POST',
          url: '/api/v1/hosts',
          headers: { authorization: `Bearer ${token}` },
          payload: { hostname: name, ip_address: '192.0.2.20' },
        });
        assert.equal(res.statusCode, 201, res.body);
        ids[name] = res.json().id as string;
      }
      const res = await h.inject({
        method: 'PUT',
        url: '/api/v1/system/compliance/config',
        headers: { authorization: `Bearer ${token}` },
        payload: { alert_min_severity: 'none' },
      });
      assert.equal(res.statusCode, 200, res.body);
      // alpha: a1 pass, a2 fail, a3 error, a4 n/a, b1 pass, b2 fail then pass.
      await evaluate('alpha', T - 60, [
        result('linux-test', 'a1', 'pass'),
        result('extra-test', 'b2', 'fail'),
      ]);
      await evaluate('alpha', T, [
        result('linux-test', 'a1', 'pass'),
        result('linux-test', 'a2', 'fail'),
        result('linux-test', 'a3', 'error'),
        result('linux-test', 'a4', 'not_applicable'),
        result('extra-test', 'b1', 'pass'),
        result('extra-test', 'b2', 'pass'),
      ]);
      // bravo: a1 and a2 fail. charlie never reports.
      await evaluate('bravo', T + 60, [
        result('linux-test', 'a1', 'fail'),
        result('linux-test', 'a2', 'fail'),
      ]);
      // A state of a pack the server no longer loads is not counted.
      await h.vigil.db.kysely
        .insertInto('compliance_states')
        .values({
          host_id: ids.bravo!,
          pack_id: 'gone-pack',
          rule_id: 'g1',
          status: 'pass',
          detail: null,
          since: (T + 600) * 1000,
          evaluated_at: (T + 600) * 1000,
        })
        .execute();
    });
    after(async () => {
      await h?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test("every host's summary counts its current rule states of the loaded packs", async () => {
      assert.deepEqual(await listed(), {
        alpha: {
          framework: null,
          passing: 3,
          failing: 1,
          errors: 1,
          not_applicable: 1,
          total: 6,
          score: 0.75,
          evaluated_at: at(T),
        },
        bravo: {
          framework: null,
          passing: 0,
          failing: 2,
          errors: 0,
          not_applicable: 0,
          total: 2,
          score: 0,
          evaluated_at: at(T + 60),
        },
        charlie: zero(null),
      });
    });

    test("a framework limits the summary to a pack's rules or its references' rules", async () => {
      // A reference's framework contains the text, any case: a1..a3.
      for (const framework of ['CIS', 'cis debian linux 12', 'Linux']) {
        const all = await listed(framework);
        assert.deepEqual(all.alpha, {
          framework,
          passing: 1,
          failing: 1,
          errors: 1,
          not_applicable: 0,
          total: 3,
          score: 0.5,
          evaluated_at: at(T),
        });
        assert.deepEqual(all.bravo, {
          framework,
          passing: 0,
          failing: 2,
          errors: 0,
          not_applicable: 0,
          total: 2,
          score: 0,
          evaluated_at: at(T + 60),
        });
        assert.deepEqual(all.charlie, zero(framework));
      }
      // One rule of a pack by its reference.
      assert.deepEqual((await listed('stig')).alpha, {
        ...zero('stig'),
        not_applicable: 1,
        total: 1,
        evaluated_at: at(T),
      });
      // A pack by its id (the whole id, any case), whatever its rules' references.
      const extra = await listed('EXTRA-TEST');
      assert.deepEqual(extra.alpha, {
        ...zero('EXTRA-TEST'),
        passing: 2,
        total: 2,
        score: 1,
        evaluated_at: at(T),
      });
      assert.deepEqual(extra.bravo, zero('EXTRA-TEST'));
      assert.deepEqual((await listed('extra')).alpha, zero('extra'));
    });

    test('an unknown framework counts nothing and is echoed, not refused', async () => {
      const all = await listed('PCI DSS 4.0');
      for (const name of ['alpha', 'bravo', 'charlie'])
        assert.deepEqual(all[name], zero('PCI DSS 4.0'));
      assert.deepEqual(await detail('alpha', 'PCI DSS 4.0'), zero('PCI DSS 4.0'));
    });

    test("a host's detail answers the summary its list item does", async () => {
      for (const framework of [undefined, 'cis', 'extra-test', 'stig', 'nothing']) {
        const all = await listed(framework);
        for (const name of ['alpha', 'bravo', 'charlie'])
          assert.deepEqual(await detail(name, framework), all[name], `${name} ${framework}`);
      }
      // A page of the list carries its hosts' summaries too.
      const page = (await ok('/api/v1/hosts?limit=1&framework=cis')) as {
        items: { name: string; compliance: Summary }[];
      };
      assert.deepEqual(
        page.items.map((i) => [i.name, i.compliance.failing]),
        [['alpha', 1]],
      );
    });

    test('a set of many hosts is counted over the whole fleet, with the same figures', async () => {
      const summaries = createHostSummaries({
        catalog: h.vigil.compliance.catalog,
        store: createComplianceStore(h.vigil.db.kysely),
      });
      // Past 500 ids the query lists no ids; hosts not asked for stay out of the answer.
      const many = [...Array.from({ length: 600 }, (_, i) => `no-such-host-${i}`), ids.alpha!];
      for (const framework of [null, 'cis']) {
        const few = await summaries.summaries([ids.alpha!], framework);
        const got = await summaries.summaries(many, framework);
        assert.deepEqual([...got.keys()], [ids.alpha]);
        assert.deepEqual(got.get(ids.alpha!), few.get(ids.alpha!));
        assert.equal(got.get(ids.alpha!)?.failing, 1);
      }
      assert.equal((await summaries.summaries([], null)).size, 0);
    });

    test('a framework longer than 128 characters is 400 on both routes', async () => {
      const long = 'x'.repeat(129);
      for (const url of [
        `/api/v1/hosts?framework=${long}`,
        `/api/v1/hosts/${ids.alpha}?framework=${long}`,
      ]) {
        const res = await call(url);
        assert.equal(res.statusCode, 400, res.body);
        assert.equal(res.json().error.code, 'validation_failed');
      }
    });
  });
}
