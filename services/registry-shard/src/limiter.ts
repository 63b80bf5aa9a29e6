/** Small waiting helpers: a concurrency limiter whose waiters can give up, and a wake-or-timeout wait. */
import { ErrorCodes, UnavailableError } from "@stratreg/protocol";

const abandoned = () => new UnavailableError(ErrorCodes.Unavailable, "abandoned");

/** Runs at most `limit` tasks at once, the rest in the order they came; a waiter whose signal aborts leaves the line. */
export class Limiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw abandoned();
    if (this.running >= this.limit) {
      await new Promise<void>((resolve, reject) => {
        const go = () => {
          signal?.removeEventListener("abort", leave);
          resolve();
        };
        const leave = () => {
          const at = this.waiting.indexOf(go);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(abandoned());
        };
        signal?.addEventListener("abort", leave, { once: true });
        this.waiting.push(go);
      });
    }
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

/**
 * Waits until `subscribe`'s wake is called, `timeoutMs` passes, or `signal`
 * aborts (then it rejects). `subscribe` returns its own unsubscribe.
 */
export function waitFor(
  subscribe: (wake: () => void) => () => void,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(abandoned());
    let unsubscribe: () => void = () => undefined;
    let timer: NodeJS.Timeout | undefined;
    const finish = (error?: Error) => {
      clearTimeout(timer);
      unsubscribe();
      signal?.removeEventListener("abort", onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = () => finish(abandoned());
    signal?.addEventListener("abort", onAbort, { once: true });
    unsubscribe = subscribe(() => finish());
    if (Number.isFinite(timeoutMs)) timer = setTimeout(() => finish(), timeoutMs);
  });
}
