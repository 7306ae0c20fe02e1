import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ProbeContext } from '../src/compliance/context.js';

// Fixture trees for the compliance probes. Each tree is described by a JSON file in
// fixtures/compliance/ (file contents, symbolic links, modes) and built in a temporary directory,
// because git keeps neither file modes nor owners. `@UID@` and `@GID@` in a file stand for the
// user and group running the tests, so that /etc/passwd names the owner of the built files (root
// in the hardened trees, someone else in the weak ones). The answers no file gives on every
// system, whether a unit is active and which rpm packages are installed, come from the tree's
// `activeUnits` and `rpmPackages`, injected into the probe context as production injects
// systemctl and rpm.

/** A fixture tree as fixtures/compliance/<name>.json describes it. */
export interface TreeSpec {
  description?: string;
  files?: Record<string, string>;
  links?: Record<string, string>;
  /** Octal modes by path; other files are 0644, directories 0755. */
  modes?: Record<string, string>;
  activeUnits?: string[];
  /** Installed rpm packages; absent: no rpm to ask (dpkg trees). */
  rpmPackages?: string[];
  /** Pending security updates, or why they are unknown. */
  securityUpdates?: number | string;
}

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'compliance');
const built: string[] = [];

/** The named fixture tree's description. */
export const treeSpec = (name: string): TreeSpec =>
  JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')) as TreeSpec;

/** Builds a tree in a new temporary directory and returns its root and probe context. */
export function buildTree(spec: TreeSpec): { root: string; ctx: ProbeContext } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'vigil-compliance-'));
  built.push(root);
  const uid = String(process.getuid?.() ?? 0);
  const gid = String(process.getgid?.() ?? 0);
  for (const [file, text] of Object.entries(spec.files ?? {})) {
    const at = path.join(root, file);
    mkdirSync(path.dirname(at), { recursive: true, mode: 0o755 });
    writeFileSync(at, text.replaceAll('@UID@', uid).replaceAll('@GID@', gid));
    chmodSync(at, 0o644);
  }
  for (const [link, target] of Object.entries(spec.links ?? {})) {
    const at = path.join(root, link);
    mkdirSync(path.dirname(at), { recursive: true, mode: 0o755 });
    symlinkSync(target, at);
  }
  for (const [file, mode] of Object.entries(spec.modes ?? {}))
    chmodSync(path.join(root, file), Number.parseInt(mode, 8));
  const active = new Set(spec.activeUnits ?? []);
  const rpm = spec.rpmPackages ? new Set(spec.rpmPackages) : undefined;
  const ctx: ProbeContext = {
    root,
    procRoot: path.join(root, 'proc'),
    isActive: (unit) => Promise.resolve(active.has(unit)),
    ...(rpm ? { rpmInstalled: (name: string) => Promise.resolve(rpm.has(name)) } : {}),
    securityUpdates: () => spec.securityUpdates ?? 'no package inventory yet',
  };
  return { root, ctx };
}

/** Builds the named fixture tree (fixtures/compliance/<name>.json). */
export const fixtureTree = (name: string) => buildTree(treeSpec(name));

/** Removes every tree built so far (call from `after`). */
export function removeTrees(): void {
  for (const d of built.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** The linux-baseline pack as the server ships it. */
export const baselinePackText = (): string =>
  readFileSync(
    path.join(import.meta.dirname, '..', '..', 'server', 'compliance', 'linux-baseline.json'),
    'utf8',
  );
