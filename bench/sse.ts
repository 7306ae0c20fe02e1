// The live stream's fan-out: `subscribers` HTTPS connections to `GET /api/v1/stream` (every
// event to every one of them), while a few agents push at a fixed total rate. The lag of an event
// is the time from the start of the push that caused it to its arrival at a subscriber: commit,
// publication, serialisation and delivery, as an operator's screen sees it.
import type { ClientRequest } from 'node:http';
import https from 'node:https';

export interface FanOutResult {
  subscribers: number;
  eventsPerSecond: number;
  expected: number;
  received: number;
  p50: number;
  p99: number;
  max: number;
  serverDropped: number;
}

const pct = (sorted: number[], p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

/**
 * Runs the fan-out: connects the subscribers, then drives `push(i)` for the agents in turn at
 * `rate` pushes per second for `seconds` (after `warmupSeconds`); `push` answers the time stamp
 * (seconds) the push carries, new for each push of an agent.
 */
export async function fanOut(opts: {
  port: number;
  ca: Buffer;
  token: string;
  subscribers: number;
  agentIds: string[];
  rate: number;
  seconds: number;
  warmupSeconds: number;
  push: (agent: number) => { stamp: number; done: Promise<void> };
  droppedNow: () => Promise<number>;
}): Promise<FanOutResult> {
  const { agentIds } = opts;
  /** When each (agent, time stamp) push began. */
  const sentAt = new Map<string, number>();
  const lags: number[] = [];
  let received = 0;
  let measuring = false;
  const streams: ClientRequest[] = [];
  const agent = new https.Agent({ keepAlive: true, maxSockets: Infinity, ca: opts.ca });
  const frameHead = /"timestamp":"([^"]+)","agent_id":"([^"]+)"/;

  const connect = () =>
    new Promise<void>((resolve, reject) => {
      const req = https.get(
        {
          host: '127.0.0.1',
          port: opts.port,
          path: '/api/v1/stream',
          agent,
          headers: { authorization: `Bearer ${opts.token}`, accept: 'text/event-stream' },
        },
        (res) => {
          if (res.statusCode !== 200) {
            reject(new Error(`stream: HTTP ${res.statusCode}`));
            res.resume();
            return;
          }
          resolve();
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            const now = performance.now();
            buf += chunk;
            let end: number;
            while ((end = buf.indexOf('\n\n')) >= 0) {
              const frame = buf.slice(0, end);
              buf = buf.slice(end + 2);
              if (!frame.includes('event: metrics')) continue;
              const m = frameHead.exec(frame.slice(0, 400));
              if (!m) continue;
              const t0 = sentAt.get(`${m[2]}|${m[1]}`);
              if (t0 === undefined || !measuring) continue;
              received += 1;
              lags.push(now - t0);
            }
          });
        },
      );
      req.on('error', reject);
      streams.push(req);
    });

  try {
    for (let i = 0; i < opts.subscribers; i += 50)
      await Promise.all(Array.from({ length: Math.min(50, opts.subscribers - i) }, connect));

    let next = 0;
    let pushes = 0;
    const drive = (seconds: number) =>
      new Promise<void>((resolve) => {
        const startedAt = performance.now();
        let due = 0;
        const timer = setInterval(() => {
          const elapsed = (performance.now() - startedAt) / 1000;
          if (elapsed >= seconds) {
            clearInterval(timer);
            resolve();
            return;
          }
          for (const target = Math.floor(elapsed * opts.rate); due < target; due++) {
            const i = next;
            next = (next + 1) % agentIds.length;
            const t0 = performance.now();
            const { stamp, done } = opts.push(i);
            // The event cannot arrive before this turn of the event loop ends.
            if (measuring) {
              sentAt.set(`${agentIds[i]}|${new Date(stamp * 1000).toISOString()}`, t0);
              pushes += 1;
            }
            done.catch((err: Error) => {
              process.stderr.write(`fan-out push failed: ${err.message}\n`);
            });
          }
        }, 5);
      });
    await drive(opts.warmupSeconds);
    const dropped0 = await opts.droppedNow();
    measuring = true;
    await drive(opts.seconds);
    // Let the last events arrive.
    await new Promise((r) => setTimeout(r, 2000));
    measuring = false;
    lags.sort((a, b) => a - b);
    return {
      subscribers: opts.subscribers,
      eventsPerSecond: pushes / opts.seconds,
      expected: pushes * opts.subscribers,
      received,
      p50: pct(lags, 0.5),
      p99: pct(lags, 0.99),
      max: lags[lags.length - 1] ?? NaN,
      serverDropped: (await opts.droppedNow()) - dropped0,
    };
  } finally {
    for (const s of streams) s.destroy();
    agent.destroy();
  }
}
