// The benchmarks' simulated fleet: N agents registered through the openITCOCKPIT agent connector
// (auto-approved from loopback), each pushing the recorded Debian 12 document
// (test/fixtures/checkdata/debian12.json), varied per agent and per push, over HTTPS keep-alive,
// driven open loop at a fixed aggregate rate.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');

/** The recorded document every agent of the fleet pushes. */
export const FLEET_FIXTURE = path.join(ROOT, 'test', 'fixtures', 'checkdata', 'debian12.json');

/** A push's body in parts: everything before the time stamp, and everything after it. */
export interface PushBody {
  prefix: Buffer;
  suffix: Buffer;
}

/** One HTTPS POST; resolves with the status and body. */
export function post(
  agent: https.Agent,
  port: number,
  pathName: string,
  body: string | Buffer[],
): Promise<{ status: number; text: string }> {
  // A body in parts is written part by part: the fleet's documents are shared buffers with only
  // the time stamp differing, so the generator allocates next to nothing per push.
  const parts = typeof body === 'string' ? [Buffer.from(body)] : body;
  const length = parts.reduce((n, p) => n + p.length, 0);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: pathName,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': length },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    for (let i = 0; i < parts.length - 1; i++) req.write(parts[i]);
    req.end(parts[parts.length - 1]);
  });
}

/** A registered fleet. */
export interface Fleet {
  /** How many agents. */
  size: number;
  /** The recorded document the fleet's documents are made from. */
  template: Record<string, unknown>;
  /** The agent that pushes next in turn (round robin). */
  next(): number;
  /**
   * Agent `i`'s body for a push now (or `variant`'s, a body of the same agent made by
   * `variant()`), with its time stamp: the current second, and at least one second after the
   * agent's previous one (time stamps are in seconds), so no two pushes of an agent share one.
   */
  body(i: number, variant?: PushBody): { stamp: number; parts: Buffer[] };
  /** Another body for agent `i`: its document changed by `change`. */
  variant(i: number, change: (doc: Record<string, unknown>) => void): PushBody;
  /** Sends agent `i`'s push (or a variant's) now; rejects on an error or a status other than 200. */
  push(i: number, variant?: PushBody): { stamp: number; done: Promise<void> };
}

/**
 * Registers `count` agents (`bench-<n>`, 50 at a time) and prepares their documents: each
 * differs a little (host name, CPU and memory figures); the time stamp is spliced in per push.
 */
export async function registerFleet(
  agent: https.Agent,
  port: number,
  count: number,
): Promise<Fleet> {
  const template = JSON.parse(readFileSync(FLEET_FIXTURE, 'utf8')) as Record<string, unknown>;
  const docs: { uuid: string; password: string; doc: Record<string, unknown> }[] = [];
  const encode = (a: (typeof docs)[number], doc: Record<string, unknown>): PushBody => {
    const text = JSON.stringify({ agentuuid: a.uuid, password: a.password, checkdata: doc });
    const at = text.indexOf('1234567890');
    return { prefix: Buffer.from(text.slice(0, at)), suffix: Buffer.from(text.slice(at + 10)) };
  };
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, async (_, j) => {
        const n = i + j;
        const uuid = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
        const r = await post(
          agent,
          port,
          '/agentconnector/register_agent.json',
          JSON.stringify({ agentuuid: uuid, password: '', hostname: `bench-${n}` }),
        );
        if (r.status !== 201) throw new Error(`register ${n}: ${r.status} ${r.text}`);
        const { password } = JSON.parse(r.text) as { password: string };
        const doc = structuredClone(template);
        const a = doc.agent as Record<string, unknown>;
        a.hostname = `bench-${n}`;
        (doc.cpu as Record<string, unknown>).cpu_total_percentage = (n % 100) + 0.5;
        (doc.memory as Record<string, unknown>).percent = (n * 7) % 100;
        a.last_updated_timestamp = 1234567890;
        return { uuid, password, doc };
      }),
    );
    docs.push(...batch);
  }
  const bodies = docs.map((d) => encode(d, d.doc));
  const stamps = new Array<number>(count).fill(0);
  let next = 0;
  const body = (i: number, variant?: PushBody) => {
    stamps[i] = Math.max(stamps[i]! + 1, Math.floor(Date.now() / 1000));
    const b = variant ?? bodies[i]!;
    return { stamp: stamps[i]!, parts: [b.prefix, Buffer.from(String(stamps[i])), b.suffix] };
  };
  return {
    size: count,
    template,
    next() {
      const i = next;
      next = (next + 1) % count;
      return i;
    },
    body,
    variant(i, change) {
      const doc = structuredClone(docs[i]!.doc);
      change(doc);
      return encode(docs[i]!, doc);
    },
    push(i, variant) {
      const { stamp, parts } = body(i, variant);
      const done = post(agent, port, '/agentconnector/submit_checkdata.json', parts).then((r) => {
        if (r.status !== 200) throw new Error(`HTTP ${r.status} ${r.text.slice(0, 200)}`);
      });
      return { stamp, done };
    },
  };
}

/**
 * Open loop: every 10 ms, calls `send` once per push due at `rate` per second since the start,
 * for `seconds`; `send` must not wait for its push (latency then includes any queueing).
 */
export function drive(seconds: number, rate: number, send: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const startedAt = performance.now();
    let due = 0;
    const timer = setInterval(() => {
      const elapsed = (performance.now() - startedAt) / 1000;
      if (elapsed >= seconds) {
        clearInterval(timer);
        resolve();
        return;
      }
      const target = Math.floor(elapsed * rate);
      for (; due < target; due++) send();
    }, 10);
  });
}
