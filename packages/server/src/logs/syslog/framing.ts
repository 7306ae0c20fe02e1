/**
 * Syslog over TCP (RFC 6587): a stream carries frames either with octet counting (`LEN SP MSG`)
 * or with non-transparent framing (each message ends with LF). Senders pick one, and a relay may
 * mix them, so each frame's first byte decides: a digit 1–9 followed by digits and a space is a
 * count, anything else (a message starts with `<`) runs to the next LF.
 */

/** Splits a TCP stream into syslog frames. */
export interface FrameDecoder {
  /** Takes the next bytes of the stream; returns the frames they complete, decoded as UTF-8. */
  push(chunk: Buffer): string[];
  /** The stream ended: returns a last frame left without its LF (senders often omit it). */
  end(): string[];
  /** Frames cut at the limit so far (the rest of each was skipped). */
  readonly truncated: number;
}

/** Longest octet count read: ten digits, more than any frame the limit lets through. */
const COUNT_DIGITS_MAX = 10;
const LF = 0x0a;
const SP = 0x20;

/**
 * A decoder for one connection. A frame over `maxFrameBytes` is cut there: the first
 * `maxFrameBytes` are kept, the rest of it is skipped, and `truncated` counts it.
 */
export function createFrameDecoder(maxFrameBytes: number): FrameDecoder {
  let buf: Buffer = Buffer.alloc(0);
  /** Octet counting: bytes of the current frame still to come. */
  let need = 0;
  let parts: Buffer[] = [];
  let kept = 0;
  /** Non-transparent framing: the rest of an over-long line is being skipped. */
  let skipping = false;
  let truncated = 0;
  const text = (b: Buffer) => b.toString('utf8');

  return {
    get truncated() {
      return truncated;
    },
    push(chunk: Buffer): string[] {
      buf = buf.length > 0 ? Buffer.concat([buf, chunk]) : chunk;
      const out: string[] = [];
      let i = 0;
      while (i < buf.length) {
        if (need > 0) {
          const take = Math.min(need, buf.length - i);
          const keep = Math.min(take, maxFrameBytes - kept);
          if (keep > 0) {
            parts.push(buf.subarray(i, i + keep));
            kept += keep;
          }
          need -= take;
          i += take;
          if (need === 0) {
            out.push(text(Buffer.concat(parts)));
            parts = [];
            kept = 0;
          }
          continue;
        }
        if (skipping) {
          const lf = buf.indexOf(LF, i);
          if (lf < 0) {
            i = buf.length;
            break;
          }
          skipping = false;
          i = lf + 1;
          continue;
        }
        const first = buf[i]!;
        if (first >= 0x31 && first <= 0x39) {
          let j = i + 1;
          while (j < buf.length && j - i <= COUNT_DIGITS_MAX && buf[j]! >= 0x30 && buf[j]! <= 0x39)
            j++;
          // The count is not complete yet: wait for the next bytes.
          if (j === buf.length && j - i <= COUNT_DIGITS_MAX) break;
          if (buf[j] === SP && j - i <= COUNT_DIGITS_MAX) {
            need = Number(buf.toString('latin1', i, j));
            if (need > maxFrameBytes) truncated++;
            i = j + 1;
            continue;
          }
          // Digits without a space: a line that starts with a digit.
        }
        const lf = buf.indexOf(LF, i);
        if (lf < 0) {
          if (buf.length - i > maxFrameBytes) {
            out.push(text(buf.subarray(i, i + maxFrameBytes)));
            truncated++;
            skipping = true;
            i = buf.length;
          }
          break;
        }
        if (lf - i > maxFrameBytes) truncated++;
        out.push(text(buf.subarray(i, Math.min(lf, i + maxFrameBytes))));
        i = lf + 1;
      }
      // A copy, so that a small rest does not hold a large chunk in memory.
      buf = i >= buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(i));
      return out;
    },
    end(): string[] {
      const out: string[] = [];
      if (need > 0) {
        // A counted frame cut short by the end of the stream: what came is kept.
        if (kept > 0) out.push(text(Buffer.concat(parts)));
        truncated++;
      } else if (!skipping && buf.length > 0) {
        out.push(text(buf.subarray(0, maxFrameBytes)));
      }
      buf = Buffer.alloc(0);
      parts = [];
      need = 0;
      kept = 0;
      skipping = false;
      return out;
    },
  };
}
