/**
 * What the guard needs to know of a strategy before it decides an order: that
 * it is registered and not retired, and its family (a limit scope). Asked of
 * the registry and cached for a short while; concurrent lookups of one strategy
 * share one request.
 */
import { performance } from "node:perf_hooks";
import { ErrorCodes, type Strategy, StratregError } from "@stratreg/protocol";

/** A strategy as the guard sees it. */
export interface KnownStrategy {
  family: string;
  retired: boolean;
}

/** Looks a strategy up; resolves undefined when it is not registered. */
export type StrategySource = (id: string) => Promise<Pick<Strategy, "family" | "state"> | undefined>;

export class StrategyCache {
  private readonly known = new Map<string, { value: KnownStrategy | undefined; at: number }>();
  private readonly asking = new Map<string, Promise<KnownStrategy | undefined>>();

  constructor(
    private readonly source: StrategySource,
    private readonly ttlMs: number,
  ) {}

  /** The strategy if cached and fresh (the hot path: no promise). */
  cached(id: string, now = performance.now()): KnownStrategy | undefined | null {
    const hit = this.known.get(id);
    if (hit === undefined || now - hit.at > this.ttlMs) return null;
    return hit.value;
  }

  /** The strategy, from the cache or the registry; undefined when it is not registered. */
  get(id: string): Promise<KnownStrategy | undefined> {
    const hit = this.cached(id);
    if (hit !== null) return Promise.resolve(hit);
    let asking = this.asking.get(id);
    if (asking === undefined) {
      asking = this.source(id)
        .then(
          (strategy) => {
            const value =
              strategy === undefined
                ? undefined
                : { family: strategy.family ?? "", retired: strategy.state === "retired" };
            this.known.set(id, { value, at: performance.now() });
            return value;
          },
          (err: unknown) => {
            throw err instanceof StratregError && err.code === ErrorCodes.NotFound
              ? err
              : new StratregError(ErrorCodes.Unavailable, `the registry did not say what strategy ${id} is`, {
                  cause: err,
                  retryable: true,
                });
          },
        )
        .finally(() => this.asking.delete(id));
      this.asking.set(id, asking);
    }
    return asking;
  }
}
