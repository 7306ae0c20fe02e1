// The Docker Engine API's log stream (`GET /containers/{id}/logs`): for a container without a
// TTY, frames of an 8-byte header (stream type: 0 stdin, 1 stdout, 2 stderr; three zero bytes;
// the payload length, 32-bit big-endian) and the payload; for a container with a TTY, the raw
// bytes (all of it stdout). With `timestamps=1` every line starts with an RFC 3339 time with
// nanoseconds and a space.

/** The stream a container's line was written to. */
export type DockerStream = 'stdout' | 'stderr';

/** One line of a container's log, split from its timestamp. */
export interface DockerLogLine {
  stream: DockerStream;
  /** The line's time as Docker printed it, normalised to 9 fraction digits (sorts as text). */
  time: string;
  /** The same time, epoch milliseconds. */
  timestamp: number;
  message: string;
}

const STAMPED = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z ?/;

/** The `since` query value (seconds.nanoseconds since the epoch) of a normalised time. */
export function dockerSince(time: string): string {
  const seconds = Math.floor(Date.parse(`${time.slice(0, 19)}Z`) / 1000);
  return `${seconds}.${time.slice(20, 29)}`;
}

/**
 * Splits one line as Docker sends it with `timestamps=1` into its time and message; a line
 * without a leading time (not expected from Docker) is dated `now`.
 */
export function parseStampedLine(stream: DockerStream, text: string, now: number): DockerLogLine {
  const m = STAMPED.exec(text);
  const message = text.endsWith('\r')
    ? text.slice(m?.[0].length ?? 0, -1)
    : text.slice(m?.[0].length ?? 0);
  if (!m) return { stream, time: '', timestamp: now, message };
  const time = `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}Z`;
  const timestamp = Date.parse(`${m[1]}Z`) + Math.floor(Number(`0.${m[2] ?? '0'}`) * 1000);
  return { stream, time, timestamp, message };
}

/** The longest line kept from a container, in bytes; the rest up to its newline is dropped. */
const LINE_MAX_BYTES = 64 * 1024;

/**
 * Turns a container's log stream into lines: demultiplexes the frames (unless `tty`), keeps an
 * incomplete line per stream until its newline, whichever way the bytes were split into chunks.
 */
export class DockerLogDecoder {
  private header = Buffer.alloc(0);
  private frameLeft = 0;
  private frameStream: DockerStream | undefined = 'stdout';
  private readonly partial: Record<DockerStream, Buffer[]> = { stdout: [], stderr: [] };
  private readonly partialBytes: Record<DockerStream, number> = { stdout: 0, stderr: 0 };

  /** Makes a decoder; `tty` for a container with a terminal (a raw stream). */
  constructor(private readonly tty: boolean) {}

  /** Takes the next chunk of the response and returns the lines it completed. */
  push(chunk: Buffer, now: number): DockerLogLine[] {
    const out: DockerLogLine[] = [];
    if (this.tty) {
      this.payload('stdout', chunk, now, out);
      return out;
    }
    let at = 0;
    while (at < chunk.length) {
      if (this.frameLeft === 0) {
        const need = 8 - this.header.length;
        this.header = Buffer.concat([this.header, chunk.subarray(at, at + need)]);
        at += Math.min(need, chunk.length - at);
        if (this.header.length < 8) break;
        const type = this.header[0];
        this.frameStream = type === 1 ? 'stdout' : type === 2 ? 'stderr' : undefined;
        this.frameLeft = this.header.readUInt32BE(4);
        this.header = Buffer.alloc(0);
        continue;
      }
      const take = Math.min(this.frameLeft, chunk.length - at);
      if (this.frameStream) this.payload(this.frameStream, chunk.subarray(at, at + take), now, out);
      this.frameLeft -= take;
      at += take;
    }
    return out;
  }

  /** The incomplete last lines, as lines (the stream ended). */
  end(now: number): DockerLogLine[] {
    const out: DockerLogLine[] = [];
    for (const stream of ['stdout', 'stderr'] as const)
      if (this.partialBytes[stream] > 0) {
        out.push(
          parseStampedLine(stream, Buffer.concat(this.partial[stream]).toString('utf8'), now),
        );
        this.partial[stream] = [];
        this.partialBytes[stream] = 0;
      }
    return out;
  }

  private payload(stream: DockerStream, data: Buffer, now: number, out: DockerLogLine[]): void {
    let start = 0;
    for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, start)) {
      this.keep(stream, data.subarray(start, nl));
      out.push(parseStampedLine(stream, Buffer.concat(this.partial[stream]).toString('utf8'), now));
      this.partial[stream] = [];
      this.partialBytes[stream] = 0;
      start = nl + 1;
    }
    if (start < data.length) this.keep(stream, data.subarray(start));
  }

  private keep(stream: DockerStream, bytes: Buffer): void {
    const room = LINE_MAX_BYTES - this.partialBytes[stream];
    if (room <= 0 || bytes.length === 0) return;
    const kept = Buffer.from(bytes.subarray(0, room));
    this.partial[stream].push(kept);
    this.partialBytes[stream] += kept.length;
  }
}
