import { describe, expect, test } from "vitest";
import { createActor } from "xstate";
import { answers, createSearchMachine, SearchEvents, type SearchState, SearchStates } from "./machine.js";

const stateOf = (actor: { getSnapshot(): { value: unknown } }) => actor.getSnapshot().value as SearchState;

describe("search lifecycle", () => {
  test("starting → loading → serving ⇄ lagging → stopping → stopped", () => {
    const actor = createActor(createSearchMachine(1000)).start();
    expect(stateOf(actor)).toBe(SearchStates.Starting);
    expect(actor.getSnapshot().context).toEqual({ maxLagMs: 1000, lagMs: Number.POSITIVE_INFINITY });
    actor.send({ type: SearchEvents.Connected });
    expect(stateOf(actor)).toBe(SearchStates.Loading);
    actor.send({ type: SearchEvents.Loaded, strategies: 12 });
    expect(stateOf(actor)).toBe(SearchStates.Serving);

    // Within the bound (the bound itself included) it keeps serving, noting the lag.
    actor.send({ type: SearchEvents.Lag, ms: 1000 });
    expect(stateOf(actor)).toBe(SearchStates.Serving);
    expect(actor.getSnapshot().context.lagMs).toBe(1000);
    actor.send({ type: SearchEvents.Lag, ms: 1001 });
    expect(stateOf(actor)).toBe(SearchStates.Lagging);
    expect(actor.getSnapshot().context.lagMs).toBe(1001);
    // Still past the bound: still lagging, the new lag noted.
    actor.send({ type: SearchEvents.Lag, ms: 5000 });
    expect(stateOf(actor)).toBe(SearchStates.Lagging);
    expect(actor.getSnapshot().context.lagMs).toBe(5000);
    actor.send({ type: SearchEvents.Lag, ms: 1000 });
    expect(stateOf(actor)).toBe(SearchStates.Serving);
    expect(actor.getSnapshot().context.lagMs).toBe(1000);
    // An infinite lag (not yet current) is past any bound.
    actor.send({ type: SearchEvents.Lag, ms: Number.POSITIVE_INFINITY });
    expect(stateOf(actor)).toBe(SearchStates.Lagging);

    actor.send({ type: SearchEvents.Stop });
    expect(stateOf(actor)).toBe(SearchStates.Stopping);
    // A second STOP and late lag reports change nothing while stopping.
    actor.send({ type: SearchEvents.Stop });
    actor.send({ type: SearchEvents.Lag, ms: 0 });
    expect(stateOf(actor)).toBe(SearchStates.Stopping);
    actor.send({ type: SearchEvents.Stopped });
    expect(stateOf(actor)).toBe(SearchStates.Stopped);
    expect(actor.getSnapshot().status).toBe("done");
  });

  test("events out of order are ignored", () => {
    const actor = createActor(createSearchMachine(1000)).start();
    actor.send({ type: SearchEvents.Loaded, strategies: 0 });
    actor.send({ type: SearchEvents.Lag, ms: 5000 });
    actor.send({ type: SearchEvents.Stopped });
    expect(stateOf(actor)).toBe(SearchStates.Starting);
    actor.send({ type: SearchEvents.Connected });
    actor.send({ type: SearchEvents.Lag, ms: 5000 });
    actor.send({ type: SearchEvents.Connected });
    expect(stateOf(actor)).toBe(SearchStates.Loading);
    // Lag while loading is not noted: it only counts once the process serves.
    expect(actor.getSnapshot().context.lagMs).toBe(Number.POSITIVE_INFINITY);
    actor.send({ type: SearchEvents.Loaded, strategies: 3 });
    actor.send({ type: SearchEvents.Connected });
    actor.send({ type: SearchEvents.Loaded, strategies: 3 });
    expect(stateOf(actor)).toBe(SearchStates.Serving);
    actor.stop();
  });

  test.each([
    ["starting", [] as const],
    ["loading", [{ type: SearchEvents.Connected }] as const],
    ["serving", [{ type: SearchEvents.Connected }, { type: SearchEvents.Loaded, strategies: 1 }] as const],
    [
      "lagging",
      [
        { type: SearchEvents.Connected },
        { type: SearchEvents.Loaded, strategies: 1 },
        { type: SearchEvents.Lag, ms: 10_000 },
      ] as const,
    ],
  ])("STOP from %s goes to stopping, then STOPPED to stopped", (from, events) => {
    const actor = createActor(createSearchMachine(1000)).start();
    for (const event of events) actor.send(event);
    expect(stateOf(actor)).toBe(from);
    actor.send({ type: SearchEvents.Stop });
    expect(stateOf(actor)).toBe(SearchStates.Stopping);
    actor.send({ type: SearchEvents.Stopped });
    expect(stateOf(actor)).toBe(SearchStates.Stopped);
  });

  test("stopped is final", () => {
    const actor = createActor(createSearchMachine(1000)).start();
    actor.send({ type: SearchEvents.Stop });
    actor.send({ type: SearchEvents.Stopped });
    expect(stateOf(actor)).toBe(SearchStates.Stopped);
    expect(actor.getSnapshot().status).toBe("done");
  });

  test("only serving and lagging answer queries", () => {
    const answering = Object.values(SearchStates).filter(answers);
    expect(answering.sort()).toEqual([SearchStates.Lagging, SearchStates.Serving]);
  });
});
