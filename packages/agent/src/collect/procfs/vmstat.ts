/** Parses /proc/vmstat (`name value` lines) into numbers by name. */
export function parseVmstat(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 2) continue;
    const v = Number(f[1]);
    if (Number.isFinite(v)) out.set(f[0]!, v);
  }
  return out;
}
