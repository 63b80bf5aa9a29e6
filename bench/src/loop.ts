/** Closed-loop load: `concurrency` workers, each sending its next request as soon as the last one answers. */
import { performance } from "node:perf_hooks";

export interface LoopResult {
  ops: number;
  seconds: number;
  perSecond: number;
  p50Us: number;
  p99Us: number;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** Runs `op` from `concurrency` workers for `seconds`, after `warmupSeconds` of unmeasured load. */
export async function closedLoop(
  concurrency: number,
  seconds: number,
  op: (worker: number, i: number) => Promise<unknown>,
  warmupSeconds = 1,
): Promise<LoopResult> {
  const latencies: number[] = [];
  let measuring = false;
  let stop = false;
  let ops = 0;
  const worker = async (w: number) => {
    for (let i = 0; !stop; i++) {
      const t = performance.now();
      await op(w, i);
      if (measuring) {
        ops++;
        latencies.push((performance.now() - t) * 1000);
      }
    }
  };
  const workers = Array.from({ length: concurrency }, (_, w) => worker(w));
  await new Promise((r) => setTimeout(r, warmupSeconds * 1000));
  measuring = true;
  const began = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - began) / 1000;
  stop = true;
  await Promise.all(workers);
  const sorted = Float64Array.from(latencies).sort();
  return {
    ops,
    seconds: elapsed,
    perSecond: ops / elapsed,
    p50Us: percentile(sorted, 0.5),
    p99Us: percentile(sorted, 0.99),
  };
}

/** Sends every item through `op`, `concurrency` at a time; returns elapsed seconds. */
export async function drain<T>(items: T[], concurrency: number, op: (item: T) => Promise<unknown>): Promise<number> {
  let next = 0;
  const began = performance.now();
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await op(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return (performance.now() - began) / 1000;
}
