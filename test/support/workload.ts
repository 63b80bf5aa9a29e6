/**
 * A recorded client workload for fault tests: several workers, each writing its
 * own strategies (so it knows their versions) and reading anyone's, every
 * operation recorded in a {@link History} for the checker.
 */
import { nuid } from "@nats-io/transport-node";
import type { StratregClient } from "@stratreg/client";
import { History, type Operation } from "@stratreg/testkit";

export interface WorkloadOptions {
  workers: number;
  /** Strategies each worker owns and writes. */
  idsPerWorker: number;
  /** Prefix of the strategy ids. */
  prefix: string;
  /** Deadline of each call (the client retries inside it). */
  timeoutMs?: number;
}

export interface Workload {
  history: History;
  /** Every id the workload may have written. */
  ids: string[];
  /** Stops the workers and waits for their last calls. */
  stop(): Promise<void>;
  /** Acknowledged writes so far. */
  acknowledgedWrites(): number;
  /** Operations completed (any outcome) after `since` (monotonic ms). */
  completedSince(since: number): Operation[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts the workers; they run until `stop()`. */
export function startWorkload(client: StratregClient, options: WorkloadOptions): Workload {
  const history = new History();
  const timeoutMs = options.timeoutMs ?? 20_000;
  const ids: string[] = [];
  const owned: string[][] = [];
  for (let w = 0; w < options.workers; w++) {
    owned.push(Array.from({ length: options.idsPerWorker }, (_, i) => `${options.prefix}-w${w}-${i}`));
    ids.push(...(owned[w] as string[]));
  }
  let running = true;

  const worker = async (w: number) => {
    const mine = owned[w] as string[];
    // What this worker knows of its strategies' versions; undefined: not registered yet, or unsure.
    const known = new Map<string, number | undefined>();
    let n = 0;
    while (running) {
      n++;
      const id = mine[n % mine.length] as string;
      const roll = (n * 7 + w) % 10;
      if (roll < 4) {
        const any = ids[(n * 31 + w * 17) % ids.length] as string;
        const read = await history.run(w, "read", any, () => client.get(any, { timeoutMs }));
        if (read.outcome === "ok" && any === id) known.set(id, read.value.version);
        continue;
      }
      const version = known.get(id);
      const cid = nuid.next();
      if (version === undefined && !known.has(id)) {
        const reg = await history.run(
          w,
          "register",
          id,
          () => client.register({ id, name: `${id} v1`, owner: "fault" }, { timeoutMs, cid }),
          { cid, value: `${id}/1` },
        );
        if (reg.outcome === "ok") known.set(id, 1);
        else if ((reg.error as { code?: string }).code === "ALREADY_EXISTS") known.set(id, undefined);
        else known.set(id, undefined);
      } else if (version === undefined) {
        // Unsure after an unknown outcome: learn the version first.
        const read = await history.run(w, "read", id, () => client.get(id, { timeoutMs }));
        known.set(id, read.outcome === "ok" ? read.value.version : undefined);
        if (read.outcome === "absent") known.delete(id);
      } else {
        const tag = `${id}/${version + 1}`;
        const put = await history.run(
          w,
          "update",
          id,
          () => client.update(id, version, { description: tag }, { timeoutMs, cid }),
          { cid, value: tag },
        );
        known.set(id, put.outcome === "ok" ? put.value.version : undefined);
      }
      if (n % 50 === 0) await sleep(1);
    }
  };
  const done = Promise.all(Array.from({ length: options.workers }, (_, w) => worker(w)));
  return {
    history,
    ids,
    stop: async () => {
      running = false;
      await done;
    },
    acknowledgedWrites: () => history.operations.filter((op) => op.kind !== "read" && op.outcome === "ok").length,
    completedSince: (since) =>
      history.operations.filter((op) => op.completedAt !== undefined && op.completedAt >= since),
  };
}
