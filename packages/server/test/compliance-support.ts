import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CompliancePack, ComplianceSeverity } from '@vigil/protocol';

/** A small valid pack: one sysctl rule per entry of `rules` (id and severity). */
export function testPack(
  id: string,
  rules: readonly (readonly [string, ComplianceSeverity])[],
  version = '1.0.0',
): CompliancePack {
  return {
    id,
    version,
    title: `Pack ${id}`,
    description: `Test pack ${id}.`,
    rules: rules.map(([rid, severity]) => ({
      id: rid,
      title: `Rule ${rid}`,
      severity,
      rationale: `Why ${rid}.`,
      remediation: `Fix ${rid}.`,
      references: [{ framework: 'CIS Debian Linux 12', section: '1.1.1' }],
      platforms: ['debian', 'rhel'],
      probe: { kind: 'sysctl', key: 'net.ipv4.ip_forward', op: 'eq', value: 0 },
    })),
  };
}

/** Writes packs into a fresh directory under `root` (one `<id>.json` file each) and returns it. */
export function writePacks(root: string, name: string, packs: readonly CompliancePack[]): string {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const p of packs) writeFileSync(path.join(dir, `${p.id}.json`), JSON.stringify(p));
  return dir;
}
