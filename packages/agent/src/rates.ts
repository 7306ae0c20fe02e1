/**
 * Per-second rates from monotonically increasing kernel counters, kept between collection
 * cycles. A counter that went down either wrapped (32-bit counters, still used by some network
 * drivers) or was reset (a device that disappeared and came back, a driver reload). It counts as a
 * 32-bit wrap when its previous value fits in 32 bits and the increase that a wrap implies is
 * below 2^31 (a plausible amount for one interval); otherwise as a reset, and then the new value
 * is the increase since the reset, as Prometheus' `rate()` assumes. A series seen for the first time has no rate yet. Series not seen in a cycle
 * are forgotten, so a returning device starts fresh instead of producing a huge delta.
 */
export class RateTracker {
  private previous = new Map<string, { value: number; atMs: number }>();
  private seen = new Set<string>();

  /**
   * Records `value` for `key` at `atMs` and returns the increase per second since the previous
   * record, or undefined on the first one (or when no time has passed).
   */
  rate(key: string, value: number, atMs: number): number | undefined {
    this.seen.add(key);
    const prev = this.previous.get(key);
    this.previous.set(key, { value, atMs });
    if (!prev || atMs <= prev.atMs) return undefined;
    return counterDelta(prev.value, value) / ((atMs - prev.atMs) / 1000);
  }

  /** The increase since the previous record (no division by time), or undefined on the first. */
  delta(key: string, value: number, atMs: number): number | undefined {
    this.seen.add(key);
    const prev = this.previous.get(key);
    this.previous.set(key, { value, atMs });
    if (!prev) return undefined;
    return counterDelta(prev.value, value);
  }

  /** Ends a cycle: forgets every series not recorded since the previous call. */
  sweep(): void {
    for (const key of this.previous.keys()) if (!this.seen.has(key)) this.previous.delete(key);
    this.seen.clear();
  }
}

/** 2^32, the modulus of a 32-bit counter. */
const WRAP32 = 2 ** 32;

/** The increase from `prev` to `cur` of a counter, across a 32-bit wrap or a reset. */
export function counterDelta(prev: number, cur: number): number {
  if (cur >= prev) return cur - prev;
  const wrapped = WRAP32 - prev + cur;
  if (prev < WRAP32 && wrapped < WRAP32 / 2) return wrapped;
  return cur;
}
