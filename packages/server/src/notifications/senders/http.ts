import type { SendResult } from '../model.js';

/**
 * POSTs a body and resolves with the status of a 2xx answer. Throws an Error naming the URL
 * and the cause for a non-2xx answer, a failed connection, or no answer within `timeoutMs`.
 */
export async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<SendResult> {
  const target = redactUrl(url);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (err) {
    const e = err as Error;
    if (e.name === 'TimeoutError' || e.name === 'AbortError')
      throw new Error(`${target}: no answer within ${timeoutMs} ms`, { cause: err });
    const cause = (e.cause as Error | undefined)?.message ?? e.message;
    throw new Error(`${target}: ${cause}`, { cause: err });
  }
  // The body is read (and dropped) so that the connection can be reused.
  const text = await res.text().catch(() => '');
  if (res.status < 200 || res.status > 299)
    throw new Error(
      `${target} answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
    );
  return { status: res.status };
}

/** A URL for messages: no user info, no query (either may carry a secret). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'the receiver';
  }
}

/** Headers a channel's settings carry, as a plain string map. */
export function headersOf(v: unknown): Record<string, string> {
  if (!v || typeof v !== 'object') return {};
  return Object.fromEntries(
    Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]),
  );
}
