import { describe, expect, it } from "vitest";
import { createActor } from "xstate";
import { answers, createVersionsMachine, VersionsEvents, VersionsStates } from "./machine.js";

describe("the versions lifecycle", () => {
  it("answers only once the copy caught up, lags past the bound and recovers", () => {
    const actor = createActor(createVersionsMachine(100));
    actor.start();
    const state = () => actor.getSnapshot().value as (typeof VersionsStates)[keyof typeof VersionsStates];
    expect(state()).toBe(VersionsStates.Starting);
    actor.send({ type: VersionsEvents.Connected });
    actor.send({ type: VersionsEvents.Lag, entries: 5000 });
    expect(state()).toBe(VersionsStates.CatchingUp);
    expect(answers(state())).toBe(false);
    actor.send({ type: VersionsEvents.CaughtUp });
    expect(state()).toBe(VersionsStates.Serving);
    actor.send({ type: VersionsEvents.Lag, entries: 101 });
    expect(state()).toBe(VersionsStates.Lagging);
    expect(answers(state())).toBe(true);
    actor.send({ type: VersionsEvents.Lag, entries: 3 });
    expect(state()).toBe(VersionsStates.Serving);
    expect(actor.getSnapshot().context.lagEntries).toBe(3);
    actor.send({ type: VersionsEvents.Stop });
    actor.send({ type: VersionsEvents.Stopped });
    expect(state()).toBe(VersionsStates.Stopped);
    expect(answers(state())).toBe(false);
  });
});
