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
