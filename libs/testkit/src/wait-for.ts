import { setTimeout as sleep } from "node:timers/promises";

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long (default 10 000 ms). */
  timeoutMs?: number;
  /** Pause between attempts (default 50 ms). */
  intervalMs?: number;
  /** What was awaited, for the timeout error (default "condition"). */
  message?: string;
}

/** {@link waitFor} ran out of time; `cause` is the last error the predicate threw, if any. */
export class WaitForTimeoutError extends Error {
  override name = "WaitForTimeoutError";
  readonly code = "WAIT_FOR_TIMEOUT";
  readonly retryable = false;
  /** How many times the predicate ran. */
  readonly attempts: number;

  constructor(message: string, attempts: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.attempts = attempts;
  }
}

/**
 * Polls `fn` until it returns a truthy value and resolves with that value. A throw counts as
 * "not yet". On timeout rejects with {@link WaitForTimeoutError} whose message holds
 * `message` and the last error. Each attempt runs to completion: a hanging `fn` delays the
 * timeout, so give it its own deadline.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<Exclude<T, false | 0 | "" | null | undefined>> {
  const { timeoutMs = 10_000, intervalMs = 50, message = "condition" } = options;
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  let lastError: unknown;
  for (;;) {
    attempts++;
    try {
      const value = await fn();
      if (value) return value as Exclude<T, false | 0 | "" | null | undefined>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() + intervalMs > deadline) break;
    await sleep(intervalMs);
  }
  const last =
    lastError === undefined
      ? ""
      : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
  throw new WaitForTimeoutError(
    `timed out after ${timeoutMs} ms waiting for ${message} (${attempts} attempts${last})`,
    attempts,
    lastError,
  );
}
