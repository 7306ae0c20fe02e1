import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { CompliancePack, type ComplianceResult } from '@vigil/protocol';
import { evaluatePacks } from '../src/compliance/evaluate.js';
import { readPack } from '../src/compliance/pack.js';
import { baselinePackText, fixtureTree, removeTrees } from './compliance-support.js';

// The linux-baseline pack: valid against the protocol's schema, read whole by the agent, and every
// rule passing on a hardened system of its family and failing on a weak one.

after(removeTrees);

const raw = JSON.parse(baselinePackText()) as CompliancePack;

describe('the linux-baseline pack', () => {
  test('validates against CompliancePack and holds at least 30 rules', () => {
    const errors = [...Value.Errors(CompliancePack, raw)].map((e) => `${e.path}: ${e.message}`);
    assert.deepEqual(errors, []);
    assert.equal(raw.id, 'linux-baseline');
    assert.equal(raw.version, '1.0.0');
    assert.ok(raw.rules.length >= 30, `${raw.rules.length} rules`);
  });

  test('every rule names a CIS benchmark section or another framework, and applies somewhere', () => {
    for (const r of raw.rules) {
      assert.ok(r.references.length > 0, r.id);
      for (const ref of r.references)
        assert.match(ref.section, /^(\d+(\.\d+)*|RHEL-09-\d+)$/, r.id);
      assert.ok(r.remediation.length > 20 && r.rationale.length > 20, r.id);
    }
    const families = (p: string) => raw.rules.filter((r) => r.platforms.includes(p as never));
    assert.ok(families('debian').length >= 30 && families('rhel').length >= 30);
  });

  test('the agent reads every rule without a complaint', () => {
    const held = readPack(raw)!;
    assert.equal(held.rules.length, raw.rules.length);
    assert.deepEqual(
      held.rules.filter((r) => r.invalid).map((r) => [r.id, r.invalid]),
      [],
    );
  });

  const families = [
    { tree: 'debian', platform: 'debian' },
    { tree: 'rhel', platform: 'rhel' },
  ];
  for (const { tree, platform } of families) {
    const applies = raw.rules.filter((r) => r.platforms.includes(platform as never));
    const foreign = raw.rules.filter((r) => !r.platforms.includes(platform as never));
    for (const [variant, expected] of [
      ['hardened', 'pass'],
      ['weak', 'fail'],
    ] as const) {
      test(`${tree}-${variant}: every applicable rule is ${expected}, the others not applicable`, async () => {
        const { ctx } = fixtureTree(`${tree}-${variant}`);
        const report = await evaluatePacks([readPack(raw)!], 'sum', ctx);
        const byRule = new Map(report.results.map((r) => [r.rule, r]));
        const wrong = (want: string, rules: typeof applies) =>
          rules
            .map((r) => byRule.get(r.id) as ComplianceResult)
            .filter((r) => r.status !== want)
            .map((r) => `${r.rule}: ${r.status} (${r.detail})`);
        assert.deepEqual(wrong(expected, applies), []);
        assert.deepEqual(wrong('not_applicable', foreign), []);
        assert.ok(foreign.length > 0, 'some rules belong to the other family');
        assert.equal(report.checksum, 'sum');
        assert.deepEqual(report.packs, [{ id: 'linux-baseline', version: '1.0.0' }]);
      });
    }
  }
});
