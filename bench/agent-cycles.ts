// Runs the agent's collection cycle back to back in this process and prints, as one JSON line,
// the CPU time (user + system) of each cycle and the number of numeric values in the document.
// bench/agent.ts starts it as a separate process, so that nothing else shares its CPU counters.
//
// Usage: node --import tsx bench/agent-cycles.ts CYCLES PAUSE_MS
// The agent's own V8 settings first, as in the bundle's entry point.
import '../packages/agent/src/lean.js';
import { runCollectors } from '../packages/agent/src/collect/collector.js';
import { enabledCollectors } from '../packages/agent/src/collect/index.js';
import { TOGGLES } from '../packages/agent/src/config.js';
import { realHost } from '../packages/agent/src/host.js';

const cycles = Number(process.argv[2] ?? 100);
const pauseMs = Number(process.argv[3] ?? 100);

/** Counts the numbers in a JSON value (what a scrape would call samples). */
function countNumbers(v: unknown): number {
  if (typeof v === 'number') return 1;
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + countNumbers(x), 0);
  if (v && typeof v === 'object')
    return Object.values(v).reduce((n: number, x) => n + countNumbers(x), 0);
  return 0;
}

const collectors = enabledCollectors(TOGGLES);
const host = realHost();
const cpuMicros: number[] = [];
let samples = 0;
let failed: string[] = [];
// One unmeasured cycle first: it loads code paths and fills the rate state.
await runCollectors(collectors, { host, nowMs: Date.now(), intervalSeconds: 10 });
for (let i = 0; i < cycles; i++) {
  await new Promise((r) => setTimeout(r, pauseMs));
  const before = process.cpuUsage();
  const { document, outcomes } = await runCollectors(collectors, {
    host,
    nowMs: Date.now(),
    intervalSeconds: 10,
  });
  // Serialising the document is part of the cycle: the agent does it for every GET / and push.
  const text = JSON.stringify(document);
  const used = process.cpuUsage(before);
  cpuMicros.push(used.user + used.system);
  samples = countNumbers(JSON.parse(text));
  failed = outcomes.filter((o) => !o.ok).map((o) => `${o.key}: ${o.error}`);
}
process.stdout.write(`${JSON.stringify({ cpuMicros, samples, failed })}\n`);
