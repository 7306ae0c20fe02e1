// Loaded into every test file's process (`scripts/test.ts`): once the file's tests are done, a
// handle left open (a peer's socket, a timer) must not hold the process until the file's
// timeout turns a passing file into a cancelled one. Node's own `--test-force-exit` is not used:
// on Node 22 it ends some files before all of their tests ran.
import { after } from 'node:test';

/** How long a file whose tests are done may take to exit by itself. */
const GRACE_MS = 10_000;

after(() => {
  setTimeout(() => process.exit(), GRACE_MS).unref();
});
