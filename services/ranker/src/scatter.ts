/**
 * Scatter-gather with bounds: at most `maxQueries` queries asking partitions
 * directly at once (past that a query is answered OVERLOADED at once, with a
 * retry hint), and at most `concurrency` requests in flight per query.
 */
import { ErrorCodes, StratregError } from "@stratreg/protocol";

/** One partition's answer, or why it gave none. */
export type Gathered<T, R> = { item: T; ok: true; value: R } | { item: T; ok: false; error: unknown };

/** Limits of {@link Scatter}. */
export interface ScatterLimits {
  /** Most scatter queries in flight at once. */
  maxQueries: number;
  /** Most requests in flight per query. */
  concurrency: number;
  /** What an OVERLOADED reply suggests waiting, ms. */
  retryAfterMs: number;
}

export const DEFAULT_SCATTER_LIMITS: ScatterLimits = { maxQueries: 32, concurrency: 16, retryAfterMs: 100 };

export class Scatter {
  private running = 0;
  /** Queries turned away since start. */
  overloaded = 0;

  constructor(private readonly limits: ScatterLimits = DEFAULT_SCATTER_LIMITS) {}

  /** Scatter queries in flight. */
  get inFlight(): number {
    return this.running;
  }

  /**
   * Runs `ask` for every item, `concurrency` at a time, and returns every
   * outcome in the items' order; throws OVERLOADED (retryable) when
   * `maxQueries` scatter queries are already in flight.
   */
  async run<T, R>(items: readonly T[], ask: (item: T) => Promise<R>): Promise<Array<Gathered<T, R>>> {
    if (this.running >= this.limits.maxQueries) {
      this.overloaded++;
      throw new StratregError(
        ErrorCodes.Overloaded,
        `${this.running} queries are already asking partitions directly; retry shortly`,
        { details: { retryAfterMs: this.limits.retryAfterMs } },
      );
    }
    this.running++;
    try {
      const out = new Array<Gathered<T, R>>(items.length);
      let next = 0;
      const worker = async () => {
        while (next < items.length) {
          const at = next++;
          const item = items[at] as T;
          try {
            out[at] = { item, ok: true, value: await ask(item) };
          } catch (error) {
            out[at] = { item, ok: false, error };
          }
        }
      };
      const workers = Math.max(1, Math.min(this.limits.concurrency, items.length));
      await Promise.all(Array.from({ length: workers }, worker));
      return out;
    } finally {
      this.running--;
    }
  }
}
