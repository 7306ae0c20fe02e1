import { ParseError } from './parse.js';

/** Parses /proc/meminfo into bytes by field name (`kB` values multiplied by 1024). */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const m = /^([^:\s]+):\s+(\d+)(?:\s+(kB))?\s*$/.exec(line);
    if (!m) throw new ParseError('meminfo', `malformed line ${JSON.stringify(line)}`);
    out.set(m[1]!, Number(m[2]) * (m[3] ? 1024 : 1));
  }
  if (!out.has('MemTotal')) throw new ParseError('meminfo', 'no MemTotal');
  return out;
}
