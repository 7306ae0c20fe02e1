import { ParseError } from './parse.js';

/** One line of /proc/self/mounts. */
export interface MountEntry {
  device: string;
  mountpoint: string;
  fstype: string;
  opts: string[];
}

/** Undoes the octal escapes the kernel uses for space, tab, newline and backslash in mounts. */
function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses /proc/self/mounts (or /proc/mounts). */
export function parseMounts(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const f = line.split(' ');
    if (f.length < 4) throw new ParseError('mounts', `malformed line ${JSON.stringify(line)}`);
    out.push({
      device: unescapeMount(f[0]!),
      mountpoint: unescapeMount(f[1]!),
      fstype: f[2]!,
      opts: f[3]!.split(','),
    });
  }
  return out;
}
