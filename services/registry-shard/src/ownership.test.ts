/**
 * The ownership actors with effects recorded instead of performed: every
 * state and move of the machine, an abandoned load cancelled (its slot freed),
 * a lost partition dropped without a release.
 */
import { performance } from "node:perf_hooks";
import { Lease } from "@stratreg/fencing";
import { pino } from "pino";
import { describe, expect, test } from "vitest";
import { Limiter, waitFor } from "./limiter.js";
import { type OwnershipEffects, OwnershipManager, type OwnershipState } from "./ownership.js";
import type { Partition } from "./partition.js";

const silent = pino({ level: "silent" });
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

/** Effects that record what they were asked, with a load the test completes by hand. */
function recorder() {
  const calls: string[] = [];
  const loads = new Map<number, { resolve: (p: Partition) => void; reject: (e: Error) => void; signal: AbortSignal }>();
  const effects: OwnershipEffects = {
    acquire: async (p) => {
      calls.push(`acquire ${p}`);
      return new Lease(p, 1, 1, performance.now(), 60_000);
    },
    load: (p, _lease, signal) =>
      new Promise<Partition>((resolve, reject) => {
        calls.push(`load ${p}`);
        loads.set(p, { resolve, reject, signal });
      }),
    serve: (p) => calls.push(`serve ${p.id}`),
    handOff: async (p, lease) => {
      calls.push(`hand-off ${p?.id ?? "-"} lease ${lease?.partition ?? "-"}`);
    },
    drop: (p, lease) => calls.push(`drop ${p?.id ?? "-"} lease ${lease?.partition ?? "-"}`),
  };
  return { calls, loads, effects };
}

const partitionObject = (id: number) => ({ id }) as unknown as Partition;

describe("partition ownership", () => {
  test("unowned → acquiring → loading → serving → handing-off → unowned, with a change reported at each step", async () => {
    const { calls, loads, effects } = recorder();
    const changes: string[] = [];
    const manager = new OwnershipManager(2, effects, silent, (p, from, to, lease) =>
      changes.push(`${p}: ${from}→${to} epoch ${lease?.epoch ?? 0}`),
    );
    manager.reconcile(new Set([1]));
    await tick();
    loads.get(1)?.resolve(partitionObject(1));
    await tick();
    expect(manager.byState()).toEqual({ unowned: [0], serving: [1] });
    expect(manager.served().map((p) => p.id)).toEqual([1]);
    manager.reconcile(new Set());
    await tick();
    expect(manager.byState()).toEqual({ unowned: [0, 1] });
    expect(calls).toEqual(["acquire 1", "load 1", "serve 1", "hand-off 1 lease 1"]);
    expect(changes).toEqual([
      "1: unowned→acquiring epoch 0",
      "1: acquiring→loading epoch 1",
      "1: loading→serving epoch 1",
      "1: serving→handing-off epoch 1",
      // The release names the epoch it ends.
      "1: handing-off→unowned epoch 1",
    ]);
    manager.stop();
  });

  test("a load no longer wanted is cancelled (its signal aborts) and its lease handed back", async () => {
    const { calls, loads, effects } = recorder();
    const manager = new OwnershipManager(1, effects, silent, () => undefined);
    manager.reconcile(new Set([0]));
    await tick();
    const load = loads.get(0);
    expect(load?.signal.aborted).toBe(false);
    manager.reconcile(new Set());
    await tick();
    expect(load?.signal.aborted).toBe(true);
    expect(calls).toEqual(["acquire 0", "load 0", "hand-off - lease 0"]);
    expect(manager.byState()).toEqual({ unowned: [0] });
    manager.stop();
  });

  test("a partition taken over is dropped at once, without a release, and can be wanted again", async () => {
    const { calls, loads, effects } = recorder();
    const states: OwnershipState[] = [];
    const manager = new OwnershipManager(1, effects, silent, (_p, _from, to) => states.push(to));
    manager.reconcile(new Set([0]));
    await tick();
    loads.get(0)?.resolve(partitionObject(0));
    await tick();
    manager.lost(0, "fenced");
    await tick();
    expect(calls).toEqual(["acquire 0", "load 0", "serve 0", "drop 0 lease 0"]);
    expect(states.at(-1)).toBe("unowned");
    manager.reconcile(new Set([0]));
    await tick();
    expect(calls.at(-1)).toBe("load 0");
    manager.stop();
  });

  test("a failed load is retried after a delay, holding the lease", async () => {
    const { calls, loads, effects } = recorder();
    const manager = new OwnershipManager(1, effects, silent, () => undefined, 10);
    manager.reconcile(new Set([0]));
    await tick();
    loads.get(0)?.reject(new Error("log unreadable"));
    await tick();
    expect(manager.byState()).toEqual({ retrying: [0] });
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(calls).toEqual(["acquire 0", "load 0", "load 0"]);
    manager.stop();
  });
});

describe("Limiter and waitFor", () => {
  test("a waiter whose signal aborts leaves the line and frees its place for the next", async () => {
    const limiter = new Limiter(1);
    let release: () => void = () => undefined;
    const first = limiter.run(() => new Promise<void>((resolve) => (release = resolve)));
    const abandon = new AbortController();
    const second = limiter.run(async () => "second ran", abandon.signal);
    const third = limiter.run(async () => "third ran");
    abandon.abort();
    await expect(second).rejects.toMatchObject({ code: "UNAVAILABLE" });
    release();
    await first;
    await expect(third).resolves.toBe("third ran");
  });

  test("waitFor ends on a wake, on its timeout, or rejects when aborted", async () => {
    await waitFor((wake) => {
      const timer = setTimeout(wake, 5);
      return () => clearTimeout(timer);
    }, 10_000);
    const began = performance.now();
    await waitFor(() => () => undefined, 20);
    expect(performance.now() - began).toBeGreaterThanOrEqual(15);
    const abort = new AbortController();
    const waiting = waitFor(() => () => undefined, 10_000, abort.signal);
    abort.abort();
    await expect(waiting).rejects.toMatchObject({ code: "UNAVAILABLE" });
  });
});
