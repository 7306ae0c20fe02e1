/** The size of one glibc `struct utmp` record on Linux (x86_64, aarch64 and the other 64-bit ABIs). */
export const UTMP_RECORD_BYTES = 384;
/** `ut_type` of a logged-in user's session. */
const USER_PROCESS = 7;

/** A NUL-terminated string field of a record. */
function cstring(buf: Buffer, offset: number, length: number): string {
  const field = buf.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

/** The logged-in users from a utmp file: name, terminal, remote host and login time (Unix s). */
export function parseUtmp(buf: Buffer) {
  const out = [];
  for (let off = 0; off + UTMP_RECORD_BYTES <= buf.length; off += UTMP_RECORD_BYTES) {
    if (buf.readInt32LE(off) !== USER_PROCESS) continue;
    out.push({
      name: cstring(buf, off + 44, 32),
      terminal: cstring(buf, off + 8, 32),
      host: cstring(buf, off + 76, 256),
      started: buf.readInt32LE(off + 340),
    });
  }
  return out;
}
