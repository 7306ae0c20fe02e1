/**
 * A small Prometheus text-exposition registry (format 0.0.4): counters, gauges and histograms
 * with labels, plus gauges computed when scraped. No dependency: the server exposes a few dozen
 * series and needs nothing more.
 */

type Labels = Record<string, string>;

const NEEDS_ESCAPE = /[\\\n"]/;
/** Label values as the format quotes them; most need nothing (a request is observed per call). */
const escapeLabel = (v: string) =>
  NEEDS_ESCAPE.test(v) ? v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : v;
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const labelText = (l: Labels): string => {
  let out = '';
  for (const k in l) out += `${out === '' ? '{' : ','}${k}="${escapeLabel(l[k]!)}"`;
  return out === '' ? '' : `${out}}`;
};
const num = (v: number) =>
  Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';

/** Something that renders its lines of the exposition. */
interface Family {
  render(): string;
}

/** A value read when scraped. */
export class Gauge implements Family {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => { labels?: Labels; value: number }[],
  ) {}
  render(): string {
    let out = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} gauge\n`;
    for (const { labels, value } of this.read())
      out += `${this.name}${labelText(labels ?? {})} ${num(value)}\n`;
    return out;
  }
}

/** A count that only grows, read when scraped (a total kept by some service). */
export class CounterFn implements Family {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number,
  ) {}
  render(): string {
    return `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} counter\n${this.name} ${num(this.read())}\n`;
  }
}

/** Observations counted into cumulative buckets, with their sum and count. */
export class Histogram implements Family {
  private readonly series = new Map<
    string,
    { labels: Labels; counts: number[]; sum: number; count: number }
  >();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
  ) {}
  observe(value: number, labels: Labels = {}): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (!s)
      this.series.set(key, (s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]! += 1;
    s.sum += value;
    s.count += 1;
  }
  render(): string {
    let out = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} histogram\n`;
    for (const s of this.series.values()) {
      this.buckets.forEach((le, i) => {
        out += `${this.name}_bucket${labelText({ ...s.labels, le: num(le) })} ${s.counts[i]}\n`;
      });
      out += `${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}\n`;
      out += `${this.name}_sum${labelText(s.labels)} ${num(s.sum)}\n`;
      out += `${this.name}_count${labelText(s.labels)} ${s.count}\n`;
    }
    return out;
  }
}

/** The families the server exposes, rendered in registration order. */
export class MetricsRegistry {
  private readonly families: Family[] = [];
  /** Extra text appended to the exposition (the fleet's host metrics, when enabled). */
  private readonly extras: (() => Promise<string>)[] = [];
  register<T extends Family>(f: T): T {
    this.families.push(f);
    return f;
  }
  addExtra(fn: () => Promise<string>): void {
    this.extras.push(fn);
  }
  async render(): Promise<string> {
    let out = this.families.map((f) => f.render()).join('');
    for (const e of this.extras) out += await e();
    return out;
  }
}

/** Seconds buckets for request and commit durations. */
export const DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Seconds buckets for how late the event loop ran a timer. */
export const LOOP_DELAY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Measures how late the event loop runs a timer due every `everyMs` (its lateness, once per
 * tick, into `histogram`): while a synchronous piece of work, a collection or a blocking disk
 * sync holds the loop, no request is read or answered, and the tick it delayed shows for how
 * long. Returns a function that stops it; the timer never keeps the process alive.
 */
export function watchEventLoop(histogram: Histogram, everyMs = 20): () => void {
  let expected = performance.now() + everyMs;
  const timer = setInterval(() => {
    const t = performance.now();
    histogram.observe(Math.max(0, t - expected) / 1000);
    expected = t + everyMs;
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
