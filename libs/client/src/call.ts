/**
 * One request with a deadline: retries retryable failures (no shard serving the
 * partition yet, ownership moving, a lost reply) with the same payload — and so
 * the same command id — until the deadline, with capped exponential backoff.
 * Requests go through the connection's {@link RequestMux}; a failure becomes a
 * StratregError here, in the awaiting call, so its stack names the caller.
 */
import type { MsgHdrs, NatsConnection } from "@nats-io/transport-node";
import {
  decode,
  ErrorCodes,
  errorFromWire,
  type Reply,
  StratregError,
  TimeoutError,
  UnavailableError,
} from "@stratreg/protocol";
import { NoRespondersError, ReplyTimeoutError, RequestMux } from "./request-mux.js";

/** How a client paces retries. */
export interface RetryPolicy {
  /** Longest wait for one attempt's reply, ms. */
  attemptTimeoutMs: number;
  /** First backoff, ms; doubles per attempt. */
  initialBackoffMs: number;
  /** Longest backoff, ms. */
  maxBackoffMs: number;
  /**
   * Longest backoff while nobody serves the partition (NATS answers "no responders" at
   * once, so asking often is cheap, and a partition moving between shards is back within
   * a few hundred ms: a long backoff would only add to the wait).
   */
  maxNoResponderBackoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attemptTimeoutMs: 2000,
  initialBackoffMs: 20,
  maxBackoffMs: 500,
  maxNoResponderBackoffMs: 50,
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What one failed attempt means: an error to throw now, or one to retry after. */
function classify(err: unknown, subject: string): StratregError {
  if (err instanceof StratregError) return err;
  if (err instanceof NoRespondersError) {
    return new UnavailableError(ErrorCodes.Unavailable, `no shard is serving ${subject} right now`, {
      cause: err,
      details: { noResponders: true },
    });
  }
  if (err instanceof ReplyTimeoutError) {
    return new TimeoutError(`no reply on ${subject} in time`, { cause: err, retryable: true });
  }
  return new StratregError(ErrorCodes.Unavailable, `request on ${subject} failed: ${(err as Error).message}`, {
    cause: err,
    retryable: false,
  });
}

/**
 * Sends `payload` (or what `payload(attemptMs)` builds for each attempt) to
 * `subject` until a reply arrives or `deadline` (on the monotonic clock,
 * `performance.now()`) passes; returns the reply body or throws the typed error the shard sent.
 */
export async function callWithRetry<B>(
  nc: NatsConnection,
  subject: string,
  payload: Uint8Array | ((attemptMs: number) => Uint8Array),
  deadline: number,
  policy: RetryPolicy,
  headers?: MsgHdrs,
): Promise<B> {
  let lastError: StratregError | undefined;
  // Whether nobody was there to hear the attempts: one met no responders, and none since got an answer.
  // An attempt cut short by the deadline times out without saying so, and does not change it.
  let unanswered = false;
  const deadlinePassed = () =>
    new TimeoutError(`deadline passed on ${subject}${lastError ? `: ${lastError.message}` : ""}`, {
      cause: lastError,
      details: lastError ? { lastCode: lastError.code, ...(unanswered ? { noResponders: true } : {}) } : undefined,
    });
  for (let attempt = 0; ; attempt++) {
    const remaining = deadline - performance.now();
    if (remaining <= 0) throw deadlinePassed();
    let error: StratregError;
    let answered = false;
    const attemptMs = Math.max(1, Math.min(remaining, policy.attemptTimeoutMs));
    try {
      // Each attempt says how long it will be waited for, so a shard drops an attempt nobody awaits any more.
      const bytes = typeof payload === "function" ? payload(attemptMs) : payload;
      const msg = await RequestMux.of(nc).request(subject, bytes, { timeout: attemptMs, headers });
      const reply = decode(msg.data) as Reply<B>;
      if (reply.ok) return reply.body;
      answered = true;
      error = errorFromWire(reply.error);
    } catch (err) {
      error = classify(err, subject);
    }
    if (!error.retryable) throw error;
    // An attempt the deadline cut short that then timed out says nothing new: the error before it stands.
    const cutShort = !answered && error.code === ErrorCodes.Timeout && attemptMs < policy.attemptTimeoutMs;
    if (!cutShort || lastError === undefined) lastError = error;
    // It waited for all the time there was: the deadline has passed, even if the timer fired a little before
    // it by this clock (another attempt in that last millisecond would send a command nobody awaits).
    if (cutShort) throw deadlinePassed();
    if (answered) unanswered = false;
    else if (error.details?.noResponders === true) unanswered = true;
    // An overloaded shard says how long to stay away; otherwise back off exponentially.
    const suggested = error.details?.retryAfterMs;
    const backoff =
      typeof suggested === "number" && suggested > 0
        ? Math.min(suggested * (0.5 + Math.random()), policy.maxBackoffMs * 4)
        : Math.min(
            policy.initialBackoffMs * 2 ** attempt,
            error.details?.noResponders === true ? policy.maxNoResponderBackoffMs : policy.maxBackoffMs,
          );
    await sleep(Math.min(backoff, Math.max(0, deadline - performance.now())));
  }
}
