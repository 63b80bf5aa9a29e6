import { describe, expect, test } from "vitest";
import { createActor } from "xstate";
import { GuardEvents, GuardStates, guardMachine } from "./machine.js";

describe("the guard's lifecycle", () => {
  test("starts, recovers, stands by, takes over, is fenced and recovers again, stops", () => {
    const actor = createActor(guardMachine).start();
    const state = () => actor.getSnapshot().value;
    actor.send({ type: GuardEvents.Connected });
    expect(state()).toBe(GuardStates.Recovering);
    // Leading is only possible from standby.
    actor.send({ type: GuardEvents.LeaseTaken, epoch: 4 });
    expect(state()).toBe(GuardStates.Recovering);
    actor.send({ type: GuardEvents.Recovered, seq: 10 });
    actor.send({ type: GuardEvents.LeaseTaken, epoch: 4 });
    expect(state()).toBe(GuardStates.TakingOver);
    actor.send({ type: GuardEvents.TookOver, epoch: 4 });
    expect(actor.getSnapshot().context).toMatchObject({ epoch: 4, takeovers: 1 });
    actor.send({ type: GuardEvents.Fenced, reason: "lease taken" });
    expect(state()).toBe(GuardStates.Recovering);
    expect(actor.getSnapshot().context).toMatchObject({ fenced: 1, lastReason: "lease taken" });
    actor.send({ type: GuardEvents.Recovered, seq: 12 });
    actor.send({ type: GuardEvents.LeaseTaken, epoch: 6 });
    actor.send({ type: GuardEvents.TakeoverFailed, reason: "newer epoch in the log" });
    expect(state()).toBe(GuardStates.Recovering);
    expect(actor.getSnapshot().context.lastReason).toBe("newer epoch in the log");
    actor.send({ type: GuardEvents.Stop });
    expect(state()).toBe(GuardStates.Stopping);
    actor.send({ type: GuardEvents.Stop });
    actor.send({ type: GuardEvents.Stopped });
    expect(state()).toBe(GuardStates.Stopped);
  });
});
