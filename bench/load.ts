// One autocannon load run, as its own process so that the load generator does not share an event
// loop with the benchmark or the servers. bench/health.ts starts it.
//
// Usage: node --import tsx bench/load.ts '{"url":…,"connections":…,"seconds":…,"caFile":…}'
// It prints one line of JSON, a `LoadResult`, on stdout.
//
// autocannon's own latency histogram stores whole milliseconds (fractions are cut off), which
// says little about sub-millisecond loopback latencies, so this script also records every 2xx
// response time in microseconds from autocannon's `response` event and reports those percentiles.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createHistogram } from 'node:perf_hooks';

/** What one run is asked to do. */
export interface LoadSpec {
  url: string;
  connections: number;
  seconds: number;
  /** The CA certificate file handed to autocannon's TLS options. */
  caFile: string;
}

/** The figures of one run, printed as JSON. */
export interface LoadResult {
  /** Seconds the run lasted, as autocannon measured it. */
  durationS: number;
  /**
   * Requests per second: responses received divided by the run's measured duration. (autocannon's
   * own average is over its one-second samples, and a late sampling tick on a busy machine adds
   * a sample and skews it.)
   */
  rps: number;
  /** Responses received, any status. */
  total: number;
  /** 2xx responses received. */
  ok2xx: number;
  /** Connection errors plus timeouts. */
  errors: number;
  non2xx: number;
  /** Latency of 2xx responses in milliseconds, with microsecond resolution. */
  latencyMs: { mean: number; p50: number; p99: number; max: number };
}

/** The parts of autocannon's API and result that this script uses (it ships no types). */
interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  requests: { total: number };
}
interface AutocannonInstance {
  on(
    event: 'response',
    listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void,
  ): void;
}
type Autocannon = (
  opts: {
    url: string;
    connections: number;
    pipelining: number;
    duration: number;
    tlsOptions?: { ca?: Buffer[] };
  },
  done: (err: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const spec = JSON.parse(process.argv[2] ?? '') as LoadSpec;
const latencyUs = createHistogram();

const result = await new Promise<AutocannonResult>((resolve, reject) => {
  const instance = autocannon(
    {
      url: spec.url,
      connections: spec.connections,
      pipelining: 1,
      duration: spec.seconds,
      tlsOptions: { ca: [readFileSync(spec.caFile)] },
    },
    (err, res) => (err ? reject(err) : resolve(res)),
  );
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300)
      latencyUs.record(Math.max(1, Math.round(responseTime * 1000)));
  });
});

const ms = (us: number): number => us / 1000;
const out: LoadResult = {
  durationS: result.duration,
  rps: result.duration > 0 ? result.requests.total / result.duration : 0,
  total: result.requests.total,
  ok2xx: result['2xx'],
  errors: result.errors + result.timeouts,
  non2xx: result.non2xx,
  latencyMs: {
    mean: latencyUs.count > 0 ? ms(latencyUs.mean) : 0,
    p50: latencyUs.count > 0 ? ms(latencyUs.percentile(50)) : 0,
    p99: latencyUs.count > 0 ? ms(latencyUs.percentile(99)) : 0,
    max: latencyUs.count > 0 ? ms(latencyUs.max) : 0,
  },
};
process.stdout.write(`${JSON.stringify(out)}\n`);
