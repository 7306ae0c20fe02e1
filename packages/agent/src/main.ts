// First: V8 flags must be set before the rest of the agent is compiled.
import './lean.js';
import { main } from './cli.js';

// The bundle's entry point. CommonJS has no top-level await, so the promise is handled here.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // A finished command leaves nothing running; `run` returns only after stopping everything.
    // Exit once standard output has drained: writes to a pipe are asynchronous, and exiting
    // earlier cuts a document longer than the pipe's buffer (64 KiB) short.
    if (code !== 0 || process.argv[2] !== 'run')
      process.stdout.write('', () => setImmediate(() => process.exit(code)));
  },
  (err: unknown) => {
    process.stderr.write(
      `vigil-agent: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
