import { describe, expect, test } from "vitest";
import { createActor } from "xstate";
import { loadConfig } from "./config.js";
import { GraphEvents, GraphStates, graphMachine } from "./machine.js";

describe("loadConfig", () => {
  test("defaults fill every setting the environment leaves out; the margin follows the lease", () => {
    expect(loadConfig([], { STRATREG_GRAPH_ID: "graph-1" })).toMatchObject({
      member: "graph-1",
      leaseMs: 3000,
      leaseMarginMs: 1000,
      projectWaitMs: 1500,
      cascadeParallelism: 32,
      startTimeoutMs: 30_000,
    });
    expect(loadConfig([], { STRATREG_GRAPH_LEASE_MS: "900" }).leaseMarginMs).toBe(300);
    expect(loadConfig([], {}).member).toMatch(new RegExp(`^graph-.+-${process.pid}$`));
  });

  test("flags override the environment, and a bad setting is named", () => {
    const config = loadConfig(["--id", "g-7"], {
      STRATREG_GRAPH_ID: "g-env",
      STRATREG_GRAPH_LEASE_MS: "1000",
      STRATREG_GRAPH_LEASE_MARGIN_MS: "100",
      STRATREG_GRAPH_PROJECT_WAIT_MS: "0",
      STRATREG_GRAPH_CASCADE_PARALLELISM: "4",
    });
    expect(config).toMatchObject({
      member: "g-7",
      leaseMs: 1000,
      leaseMarginMs: 100,
      projectWaitMs: 0,
      cascadeParallelism: 4,
    });
    expect(() => loadConfig([], { STRATREG_GRAPH_LEASE_MARGIN_MS: "5000" })).toThrow(/STRATREG_GRAPH_LEASE_MARGIN_MS/);
    expect(() => loadConfig(["--bogus"], {})).toThrow();
  });
});

describe("graphMachine", () => {
  test("standby → catching-up → leading, back to standby when leadership ends, and stopped for good", () => {
    const actor = createActor(graphMachine).start();
    actor.send({ type: GraphEvents.LeaseTaken, epoch: 4 });
    expect(actor.getSnapshot().value).toBe(GraphStates.CatchingUp);
    actor.send({ type: GraphEvents.TookOver, epoch: 4 });
    expect(actor.getSnapshot()).toMatchObject({ value: GraphStates.Leading, context: { epoch: 4 } });
    actor.send({ type: GraphEvents.SteppedDown, reason: "fenced" });
    expect(actor.getSnapshot()).toMatchObject({ value: GraphStates.Standby, context: { lastStepDown: "fenced" } });
    actor.send({ type: GraphEvents.LeaseTaken, epoch: 5 });
    actor.send({ type: GraphEvents.SteppedDown, reason: "lapsed" });
    expect(actor.getSnapshot().value).toBe(GraphStates.Standby);
    actor.send({ type: GraphEvents.Stop });
    expect(actor.getSnapshot().value).toBe(GraphStates.Stopping);
    actor.send({ type: GraphEvents.Stopped });
    expect(actor.getSnapshot().status).toBe("done");
  });
});
