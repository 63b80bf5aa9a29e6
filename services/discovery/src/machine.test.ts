/**
 * The discovery loop as the service drives it: every state and move a user of the service sees in
 * `status().state`, and the run bookkeeping in the context.
 */
import { type TradingState, TradingStates } from "@stratreg/protocol";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { createActor } from "xstate";
import {
  createDiscoveryMachine,
  type DiscoveryEvent,
  DiscoveryEvents,
  DiscoveryStates,
  type LoopSettings,
  mayRun,
} from "./machine.js";

/** A started loop, with the events sent so far. */
function loop(settings: LoopSettings = { autoRunBars: 0 }, ...events: DiscoveryEvent[]) {
  const actor = createActor(createDiscoveryMachine(settings));
  actor.subscribe({
    error: (err) => {
      throw err;
    },
  });
  actor.start();
  for (const event of events) actor.send(event);
  return actor;
}

const connected = (trading: TradingState | undefined): DiscoveryEvent => ({ type: DiscoveryEvents.Connected, trading });
const run = (runId: string): DiscoveryEvent => ({ type: DiscoveryEvents.Run, runId });
const ended = (runId: string, outcome = "completed"): DiscoveryEvent => ({
  type: DiscoveryEvents.RunEnded,
  runId,
  outcome,
});
const trading = (state: TradingState): DiscoveryEvent => ({ type: DiscoveryEvents.Trading, state });
const data = (bars: number): DiscoveryEvent => ({ type: DiscoveryEvents.Data, bars });
const stop: DiscoveryEvent = { type: DiscoveryEvents.Stop };
const stopped: DiscoveryEvent = { type: DiscoveryEvents.Stopped };

describe("starting up", () => {
  test("starts in starting, with nothing heard and no run", () => {
    const snapshot = loop().getSnapshot();
    expect(snapshot.value).toBe(DiscoveryStates.Starting);
    expect(snapshot.context).toEqual({ trading: undefined, runId: undefined, newBars: 0, runs: 0 });
  });

  test.each([undefined, TradingStates.Active, TradingStates.Reducing])(
    "CONNECTED with the trading state %s goes to idle and notes it",
    (state) => {
      const snapshot = loop({ autoRunBars: 0 }, connected(state)).getSnapshot();
      expect(snapshot.value).toBe(DiscoveryStates.Idle);
      expect(snapshot.context.trading).toBe(state);
    },
  );

  test("CONNECTED while trading is HALTED goes to halted", () => {
    const snapshot = loop({ autoRunBars: 0 }, connected(TradingStates.Halted)).getSnapshot();
    expect(snapshot.value).toBe(DiscoveryStates.Halted);
    expect(snapshot.context.trading).toBe(TradingStates.Halted);
  });

  test("ignores runs, bars and trading states before it is connected", () => {
    const snapshot = loop(
      { autoRunBars: 5 },
      run("r1"),
      data(100),
      trading(TradingStates.Active),
      ended("r1"),
    ).getSnapshot();
    expect(snapshot.value).toBe(DiscoveryStates.Starting);
    expect(snapshot.context).toEqual({ trading: undefined, runId: undefined, newBars: 0, runs: 0 });
  });
});

describe("operators' runs", () => {
  test.each([
    ["unknown", connected(undefined)],
    ["HALTED", connected(TradingStates.Halted)],
  ])("RUN is refused while the trading state is %s", (_, first) => {
    const actor = loop({ autoRunBars: 0 }, first, run("r1"));
    const { value, context } = actor.getSnapshot();
    expect(value).not.toBe(DiscoveryStates.Running);
    expect(context.runId).toBeUndefined();
    expect(context.runs).toBe(0);
  });

  test("RUN stays idle while the trading state is unknown, and is accepted once it is heard", () => {
    const actor = loop({ autoRunBars: 0 }, connected(undefined), run("r1"));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Idle);
    actor.send(trading(TradingStates.Active));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Idle);
    actor.send(run("r2"));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Running);
    expect(actor.getSnapshot().context.runId).toBe("r2");
  });

  test.each([TradingStates.Active, TradingStates.Reducing])(
    "RUN under %s runs, and RUN_ENDED goes back to idle",
    (state) => {
      const actor = loop({ autoRunBars: 0 }, connected(state), run("r1"));
      expect(actor.getSnapshot().value).toBe(DiscoveryStates.Running);
      expect(actor.getSnapshot().context).toMatchObject({ runId: "r1", runs: 1, newBars: 0 });
      // A second operator's run while one is going is not a new run.
      actor.send(run("r2"));
      expect(actor.getSnapshot().context).toMatchObject({ runId: "r1", runs: 1 });
      actor.send(ended("r1"));
      expect(actor.getSnapshot().value).toBe(DiscoveryStates.Idle);
      expect(actor.getSnapshot().context).toMatchObject({ runId: undefined, runs: 1 });
      actor.send(run("r3"));
      expect(actor.getSnapshot().value).toBe(DiscoveryStates.Running);
      expect(actor.getSnapshot().context).toMatchObject({ runId: "r3", runs: 2 });
    },
  );

  test("a trading state that is not a halt during a run is noted and the run goes on", () => {
    const actor = loop({ autoRunBars: 0 }, connected(TradingStates.Active), run("r1"));
    actor.send(trading(TradingStates.Reducing));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Running);
    expect(actor.getSnapshot().context).toMatchObject({ trading: TradingStates.Reducing, runId: "r1" });
  });
});

describe("halts", () => {
  test("a halt while idle goes to halted, where RUN is refused; a state that is not a halt lifts it", () => {
    const actor = loop({ autoRunBars: 0 }, connected(TradingStates.Active), trading(TradingStates.Halted));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Halted);
    actor.send(run("r1"));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Halted);
    expect(actor.getSnapshot().context.runs).toBe(0);
    // Another halt broadcast keeps it halted.
    actor.send(trading(TradingStates.Halted));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Halted);
    actor.send(trading(TradingStates.Reducing));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Idle);
    expect(actor.getSnapshot().context.trading).toBe(TradingStates.Reducing);
    actor.send(run("r1"));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Running);
  });

  test.each([TradingStates.Active, TradingStates.Reducing])("%s lifts a halt heard on connecting", (state) => {
    const actor = loop({ autoRunBars: 0 }, connected(TradingStates.Halted), trading(state));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Idle);
    expect(actor.getSnapshot().context.trading).toBe(state);
  });

  test("a halt during a run goes to halting until the run has ended, then to halted", () => {
    const actor = loop({ autoRunBars: 0 }, connected(TradingStates.Active), run("r1"), trading(TradingStates.Halted));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Halting);
    // The run being stopped is still the one in the context until it has ended.
    expect(actor.getSnapshot().context).toMatchObject({ trading: TradingStates.Halted, runId: "r1" });
    actor.send(run("r2"));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Halting);
    expect(actor.getSnapshot().context.runId).toBe("r1");
    actor.send(ended("r1", "halted"));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Halted);
    expect(actor.getSnapshot().context).toMatchObject({ runId: undefined, runs: 1 });
    actor.send(trading(TradingStates.Active));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Idle);
  });

  test("a halt lifted while the halted run is still stopping leaves it idle once the run has ended", () => {
    const actor = loop(
      { autoRunBars: 0 },
      connected(TradingStates.Active),
      run("r1"),
      trading(TradingStates.Halted),
      trading(TradingStates.Active),
    );
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Halting);
    actor.send(ended("r1", "halted"));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Idle);
    actor.send(run("r2"));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Running);
  });
});

describe("auto-runs on new bars", () => {
  test("bars accumulate in newBars, and reaching the threshold starts a run that resets the count", () => {
    const actor = loop({ autoRunBars: 10 }, connected(TradingStates.Active), data(4), data(5));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Idle);
    expect(actor.getSnapshot().context.newBars).toBe(9);
    actor.send(data(1));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Running);
    // An auto-run has no operator's run id: the service names it.
    expect(actor.getSnapshot().context).toMatchObject({ newBars: 0, runs: 1, runId: undefined });
    // Bars keep arriving during the run and count towards the next one.
    actor.send(data(7));
    expect(actor.getSnapshot().context.newBars).toBe(7);
    actor.send(ended("auto-1"));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Idle);
    expect(actor.getSnapshot().context.newBars).toBe(7);
    actor.send(data(3));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Running);
    expect(actor.getSnapshot().context).toMatchObject({ newBars: 0, runs: 2 });
  });

  test("one batch at or past the threshold starts a run by itself", () => {
    const actor = loop({ autoRunBars: 10 }, connected(TradingStates.Reducing), data(25));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Running);
    expect(actor.getSnapshot().context).toMatchObject({ newBars: 0, runs: 1 });
  });

  test("with autoRunBars 0, bars only accumulate", () => {
    const actor = loop({ autoRunBars: 0 }, connected(TradingStates.Active), data(1_000_000), data(1));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Idle);
    expect(actor.getSnapshot().context).toMatchObject({ newBars: 1_000_001, runs: 0 });
  });

  test("no auto-run while the trading state is unknown; bars still count", () => {
    const actor = loop({ autoRunBars: 10 }, connected(undefined), data(50));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Idle);
    expect(actor.getSnapshot().context).toMatchObject({ newBars: 50, runs: 0 });
    actor.send(data(1));
    expect(actor.getSnapshot().context.newBars).toBe(51);
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Idle);
  });

  test("no auto-run while halted; bars count while halted and halting, and start a run once the halt is lifted", () => {
    const actor = loop({ autoRunBars: 10 }, connected(TradingStates.Active), run("r1"));
    actor.send(data(3));
    actor.send(trading(TradingStates.Halted));
    actor.send(data(4));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Halting);
    actor.send(ended("r1", "halted"));
    actor.send(data(20));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Halted);
    expect(actor.getSnapshot().context).toMatchObject({ newBars: 27, runs: 1 });
    actor.send(trading(TradingStates.Active));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Idle);
    actor.send(data(1));
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Running);
    expect(actor.getSnapshot().context).toMatchObject({ newBars: 0, runs: 2 });
  });
});

describe("stopping", () => {
  const reach: Record<string, DiscoveryEvent[]> = {
    [DiscoveryStates.Starting]: [],
    [DiscoveryStates.Idle]: [connected(TradingStates.Active)],
    [DiscoveryStates.Running]: [connected(TradingStates.Active), run("r1")],
    [DiscoveryStates.Halting]: [connected(TradingStates.Active), run("r1"), trading(TradingStates.Halted)],
    [DiscoveryStates.Halted]: [connected(TradingStates.Halted)],
  };

  test.each(Object.entries(reach))("STOP from %s → stopping → STOPPED → stopped", (from, events) => {
    const actor = loop({ autoRunBars: 1 }, ...events);
    expect(actor.getSnapshot().value).toBe(from);
    actor.send(stop);
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Stopping);
    // Nothing but STOPPED leaves stopping: no run starts, ends or halts there.
    for (const event of [
      run("r9"),
      data(100),
      ended("r1"),
      trading(TradingStates.Halted),
      trading(TradingStates.Active),
      stop,
    ]) {
      actor.send(event);
      expect(actor.getSnapshot().value).toBe(DiscoveryStates.Stopping);
    }
    actor.send(stopped);
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Stopped);
    expect(actor.getSnapshot().status).toBe("done");
  });

  test("STOPPED before STOP does nothing", () => {
    const actor = loop({ autoRunBars: 0 }, connected(TradingStates.Active), stopped);
    expect(actor.getSnapshot().value).toBe(DiscoveryStates.Idle);
    actor.stop();
  });
});

describe("mayRun", () => {
  test("is true for ACTIVE and REDUCING only", () => {
    expect(mayRun(undefined)).toBe(false);
    expect(mayRun(TradingStates.Halted)).toBe(false);
    expect(mayRun(TradingStates.Active)).toBe(true);
    expect(mayRun(TradingStates.Reducing)).toBe(true);
  });
});

describe("any sequence of events", () => {
  const tradingStates = fc.constantFrom<TradingState>(
    TradingStates.Active,
    TradingStates.Reducing,
    TradingStates.Halted,
  );
  const event: fc.Arbitrary<DiscoveryEvent> = fc.oneof(
    fc.option(tradingStates, { nil: undefined }).map(connected),
    fc.constantFrom("r1", "r2").map(run),
    fc.integer({ min: 1, max: 8 }).map(data),
    tradingStates.map(trading),
    fc.constantFrom("r1", "r2").map((id) => ended(id)),
    fc.constant(stop),
  );

  test("starts a run only when the trading state allows it, counts every run and every bar, and is idle only when not halted", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 12 }), fc.array(event, { maxLength: 40 }), (autoRunBars, events) => {
        const actor = loop({ autoRunBars });
        let before = actor.getSnapshot();
        for (const e of events) {
          actor.send(e);
          const after = actor.getSnapshot();
          if (after.value === DiscoveryStates.Running && before.value !== DiscoveryStates.Running) {
            expect(mayRun(after.context.trading)).toBe(true);
            expect(after.context.runs).toBe(before.context.runs + 1);
            expect(after.context.newBars).toBe(0);
            if (e.type === DiscoveryEvents.Run) expect(after.context.runId).toBe(e.runId);
            else expect(e.type === DiscoveryEvents.Data && autoRunBars > 0).toBe(true);
          } else {
            expect(after.context.runs).toBe(before.context.runs);
          }
          if (after.value === DiscoveryStates.Idle) expect(after.context.trading).not.toBe(TradingStates.Halted);
          if (after.value === DiscoveryStates.Halted) expect(after.context.trading).toBe(TradingStates.Halted);
          if (
            e.type === DiscoveryEvents.Data &&
            after.value === before.value &&
            before.value !== DiscoveryStates.Starting &&
            before.value !== DiscoveryStates.Stopping
          ) {
            expect(after.context.newBars).toBe(before.context.newBars + e.bars);
          }
          before = after;
        }
        actor.stop();
      }),
      { numRuns: 300 },
    );
  });
});
