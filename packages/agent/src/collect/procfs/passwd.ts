/** Parses /etc/passwd into user names by numeric uid (the first name wins for shared uids). */
export function parsePasswd(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3) continue;
    const uid = Number(f[2]);
    if (Number.isInteger(uid) && !out.has(uid)) out.set(uid, f[0]!);
  }
  return out;
}

/** One account of /etc/passwd (never its password field). */
export interface PasswdAccount {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/**
 * Parses /etc/passwd into its accounts, in file order: `name:password:uid:gid:gecos:home:shell`.
 * Comments, blank lines, NIS inclusions (`+`, `-`) and lines without seven fields or with
 * non-numeric ids are skipped; a name listed twice keeps its first line (as the C library reads it).
 */
export function parsePasswdAccounts(text: string): PasswdAccount[] {
  const out: PasswdAccount[] = [];
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-'))
      continue;
    const f = line.split(':');
    if (f.length !== 7 || f[0] === '') continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!/^\d+$/.test(f[2]!) || !/^\d+$/.test(f[3]!) || seen.has(f[0]!)) continue;
    seen.add(f[0]!);
    out.push({ name: f[0]!, uid, gid, home: f[5]!, shell: f[6]!.trim() });
  }
  return out;
}
