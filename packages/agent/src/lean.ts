import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings for a small resident footprint, applied before anything else is loaded (main.ts
 * imports this module first). The agent's work is system calls, not hot JavaScript: the
 * optimizing compilers (TurboFan, Maglev) would add several megabytes of touched compiler code and
 * generated code to the resident set for no measurable gain, so only the interpreter and the
 * baseline compiler run, and the heap favours size over speed. Measured on Node 20 here: about 5 MB less RSS for about 1 ms more CPU per
 * collection cycle. Set VIGIL_AGENT_V8_OPTIMIZE=1 to keep V8's defaults.
 */
export const LEAN_V8_FLAGS = ['--no-opt', '--no-maglev', '--optimize-for-size'] as const;

if (process.env.VIGIL_AGENT_V8_OPTIMIZE !== '1')
  for (const flag of LEAN_V8_FLAGS) setFlagsFromString(flag);

// The thread pool serves only the occasional statfs and the agent's few asynchronous file
// operations; libuv starts four threads (each with its own stack and malloc arena) unless told
// otherwise. Read by libuv when the pool first starts, which is after this line.
process.env.UV_THREADPOOL_SIZE ??= '1';
