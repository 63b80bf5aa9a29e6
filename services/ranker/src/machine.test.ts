import { describe, expect, test, vi } from "vitest";
import { createActor } from "xstate";
import { createRankerMachine, RankerEvents, RankerStates } from "./machine.js";

describe("ranker lifecycle", () => {
  test("starting → syncing → serving ⇄ degraded → stopping → stopped", () => {
    const actor = createActor(createRankerMachine(60_000)).start();
    expect(actor.getSnapshot().value).toBe(RankerStates.Starting);
    actor.send({ type: RankerEvents.Connected, partitions: 4 });
    expect(actor.getSnapshot().value).toBe(RankerStates.Syncing);
    expect(actor.getSnapshot().context).toEqual({ partitions: 4, missing: 4 });
    actor.send({ type: RankerEvents.Views, missing: 2 });
    expect(actor.getSnapshot().value).toBe(RankerStates.Syncing);
    actor.send({ type: RankerEvents.Views, missing: 0 });
    expect(actor.getSnapshot().value).toBe(RankerStates.Serving);
    actor.send({ type: RankerEvents.Views, missing: 1 });
    expect(actor.getSnapshot().value).toBe(RankerStates.Degraded);
    expect(actor.getSnapshot().context.missing).toBe(1);
    actor.send({ type: RankerEvents.Views, missing: 0 });
    expect(actor.getSnapshot().value).toBe(RankerStates.Serving);
    actor.send({ type: RankerEvents.Stop });
    expect(actor.getSnapshot().value).toBe(RankerStates.Stopping);
    actor.send({ type: RankerEvents.Views, missing: 3 });
    expect(actor.getSnapshot().value).toBe(RankerStates.Stopping);
    actor.send({ type: RankerEvents.Stopped });
    expect(actor.getSnapshot().value).toBe(RankerStates.Stopped);
    expect(actor.getSnapshot().status).toBe("done");
  });

  test("syncing that does not complete within the grace period is degraded", () => {
    vi.useFakeTimers();
    try {
      const actor = createActor(createRankerMachine(1000)).start();
      actor.send({ type: RankerEvents.Connected, partitions: 2 });
      vi.advanceTimersByTime(1001);
      expect(actor.getSnapshot().value).toBe(RankerStates.Degraded);
      actor.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  test("a stop before connecting goes straight to stopping", () => {
    const actor = createActor(createRankerMachine(1000)).start();
    actor.send({ type: RankerEvents.Stop });
    expect(actor.getSnapshot().value).toBe(RankerStates.Stopping);
    actor.stop();
  });
});
