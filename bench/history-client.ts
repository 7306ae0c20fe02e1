// One series of history reads, as its own process: a script or a browser that reads history does
// not share its event loop and heap with a simulated fleet of thousands of agents, and timing the
// reads from the fleet's process measured that process's own garbage collection as well.
// bench/ingest.ts starts it.
//
// Usage: node --import tsx bench/history-client.ts '{"port":…,"caFile":…,"token":…,…}'
// It prints one line of JSON, a `HistoryResult`, on stdout.
import { readFileSync } from 'node:fs';
import https from 'node:https';

/** What one series of reads is asked to do. */
export interface HistorySpec {
  port: number;
  /** The server's CA certificate file. */
  caFile: string;
  /** A bearer token. */
  token: string;
  /** Hosts read in turn, one request at a time. */
  hostIds: string[];
  /** The range, RFC 3339. */
  from: string;
  to: string;
  /** Points each answer must hold at 5m. */
  expected: number;
  /** Measured requests, after `warmup` unmeasured ones. */
  queries: number;
  warmup: number;
  /** Tyto's `metrics` list, or none for the default answer. */
  metrics?: string;
}

/** The figures of one series, printed as JSON. */
export interface HistoryResult {
  points: number;
  /** Mean answer size in bytes. */
  bytes: number;
  /** Latency from sending the request to the answer's last byte, in milliseconds. */
  p50: number;
  p99: number;
  max: number;
}

const spec = JSON.parse(process.argv[2] ?? '') as HistorySpec;
const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: readFileSync(spec.caFile) });

/** One GET; the body as one buffer, decoded by the caller outside the timed part. */
function get(pathName: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    https
      .get(
        {
          host: '127.0.0.1',
          port: spec.port,
          path: pathName,
          agent,
          headers: { authorization: `Bearer ${spec.token}` },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const body = Buffer.concat(chunks);
            if (res.statusCode === 200) resolve(body);
            else
              reject(
                new Error(`GET ${pathName}: HTTP ${res.statusCode} ${String(body).slice(0, 300)}`),
              );
          });
        },
      )
      .on('error', reject);
  });
}

const latencies: number[] = [];
let bytes = 0;
const n = spec.hostIds.length;
for (let i = -spec.warmup; i < spec.queries; i++) {
  const host = spec.hostIds[((i % n) + n) % n]!;
  const t0 = performance.now();
  const body = await get(
    `/api/v1/history?host_id=${host}&from=${spec.from}&to=${spec.to}&resolution=5m${spec.metrics ? `&metrics=${spec.metrics}` : ''}`,
  );
  const ms = performance.now() - t0;
  const answer = JSON.parse(body.toString('utf8')) as { resolution: string; data: unknown[] };
  if (answer.resolution !== '5m' || answer.data.length !== spec.expected)
    throw new Error(
      `history of ${host}: ${answer.data.length} points at ${answer.resolution}, expected ${spec.expected} at 5m`,
    );
  if (i >= 0) {
    latencies.push(ms);
    bytes += body.length;
  }
}
agent.destroy();
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!;
const result: HistoryResult = {
  points: spec.expected,
  bytes: bytes / latencies.length,
  p50: pct(0.5),
  p99: pct(0.99),
  max: latencies[latencies.length - 1]!,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
