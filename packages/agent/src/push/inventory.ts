import { errorText, type HttpAnswer } from './http.js';

/** First and longest wait before an inventory that failed for a passing reason is sent again. */
const RETRY_BASE_MS = 60_000;
const RETRY_MAX_MS = 3_600_000;

/**
 * Delivers finished package scans to a server beside the check-data pushes: only the latest scan
 * not sent yet is kept, and one is in flight at a time.
 */
export interface InventorySender {
  /**
   * Sends a finished package scan (the `GET /packages` answer, as JSON text) at once, in place
   * of any earlier one not sent yet; resolves when that try is over. Never throws: a failure is
   * logged. An inventory the server refused (any 4xx but 408 and 429) is not sent again; the
   * next scan is. One that failed for a passing reason (no answer, 5xx, 408, 429) is sent again
   * after a later check-data push the server takes (`afterPush`), waiting 1 minute after the
   * first failure, doubling up to an hour.
   */
  submit(inventoryJson: string): Promise<void>;
  /** Tells the sender the server took a check-data push: a waiting inventory goes when due. */
  afterPush(): void;
}

/** How an inventory sender reaches its server. */
export interface InventorySenderOptions {
  /** Posts one inventory; throws when no answer came (connection, TLS, timeout). */
  post(inventoryJson: string): Promise<HttpAnswer>;
  /** Whether the client can send yet (registered, approved); until then the scan waits. */
  ready(): boolean;
  /** The status with which the server takes an inventory. */
  acceptedStatus: number;
  /**
   * What a failed answer means, for the log; undefined (or no function) for the default,
   * `HTTP <status>: <error text>`.
   */
  failure?(answer: HttpAnswer): string | undefined;
  log(line: string): void;
  /** The clock, in milliseconds. */
  now(): number;
}

/** An inventory sender (see `InventorySender`) over `opts.post`. */
export function createInventorySender(opts: InventorySenderOptions): InventorySender {
  const { log, now } = opts;
  // The latest scan not sent yet, and when a failed one may be sent again.
  let unsent: string | undefined;
  let inFlight: Promise<void> | undefined;
  let failures = 0;
  let retryAt = 0;

  const sendOnce = async (): Promise<void> => {
    const inventory = unsent;
    if (inventory === undefined || !opts.ready()) return;
    const forget = () => {
      if (unsent === inventory) unsent = undefined;
    };
    let failure: string;
    try {
      const a = await opts.post(inventory);
      if (a.status === opts.acceptedStatus) {
        forget();
        failures = 0;
        log('push: package inventory sent');
        return;
      }
      failure = opts.failure?.(a) ?? `HTTP ${a.status}: ${errorText(a)}`;
      // A refusal stands until something changes: the same inventory is not sent again, the
      // next scan is.
      if (a.status >= 400 && a.status < 500 && a.status !== 408 && a.status !== 429) {
        forget();
        log(`push: package inventory refused (${failure}); waiting for the next scan`);
        return;
      }
    } catch (err) {
      failure = (err as Error).message;
    }
    failures += 1;
    const waitMs = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (failures - 1));
    retryAt = now() + waitMs;
    log(
      `push: package inventory not sent (${failure}); trying again in ${Math.round(waitMs / 1000)} s at the earliest`,
    );
  };
  const flush = (): Promise<void> => {
    inFlight ??= sendOnce().finally(() => (inFlight = undefined));
    return inFlight;
  };

  return {
    async submit(inventoryJson) {
      // A new scan goes at once, as openITCOCKPIT agents send each scan when it finishes.
      unsent = inventoryJson;
      retryAt = 0;
      await inFlight;
      await flush();
    },
    afterPush() {
      if (unsent !== undefined && now() >= retryAt) void flush();
    },
  };
}
