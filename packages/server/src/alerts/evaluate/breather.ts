import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * A pause for loops over the fleet: it yields to the event loop once `sliceMs` of work ran since
 * the last yield, and is a no-op otherwise. On SQLite every query runs synchronously, and an
 * `await` of a query settles without giving requests a turn: a loop over 2,000 hosts would hold
 * every request up until it ends.
 */
export function breather(sliceMs = 10): () => Promise<void> | undefined {
  let since = performance.now();
  return () => {
    if (performance.now() - since < sliceMs) return undefined;
    return nextTurn().then(() => {
      since = performance.now();
    });
  };
}
