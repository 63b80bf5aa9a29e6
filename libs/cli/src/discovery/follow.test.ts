/**
 * Following a discovery run when things go wrong: its last message lost, discovery
 * gone quiet, a stop refused, Ctrl-C before the run has even started. Discovery is
 * played on its real subjects of the test run's nats-server (testing/discovery.ts).
 */
import { EventEmitter } from "node:events";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { DiscoveryClient } from "@stratreg/client";
import { ConflictError, ErrorCodes, StratregError } from "@stratreg/protocol";
import { uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { FakeDiscovery } from "../testing/discovery.js";
import { type FollowSettings, startAndFollow } from "./follow.js";
import type { LiveProgress } from "./progress.js";

let nc: NatsConnection;
let fake: FakeDiscovery;
let discovery: DiscoveryClient;

beforeAll(async () => {
  nc = await connect({ servers: inject("natsUrl") });
});

beforeEach(async () => {
  const cluster = uniqueClusterName("follow");
  fake = await FakeDiscovery.start(nc, cluster);
  discovery = new DiscoveryClient(nc, { cluster, timeoutMs: 1000 });
});

afterEach(() => fake?.close());

afterAll(async () => {
  await nc?.close();
});

/** A display that keeps what it was told. */
function recorded(): LiveProgress & { lines: string[]; notices: string[] } {
  const lines: string[] = [];
  const notices: string[] = [];
  return {
    lines,
    notices,
    update: (_done, _total, text) => lines.push(text),
    notice: (text) => notices.push(text),
    stop: () => undefined,
  };
}

function settings(display: LiveProgress, signals: EventEmitter, extra: Partial<FollowSettings> = {}): FollowSettings {
  return { display, signals, stopTimeoutMs: 1000, quietMs: 300, ...extra };
}

/** Starts a run and follows it, with a display that keeps what it was told and Ctrl-C sent by the test. */
function follow() {
  const display = recorded();
  const signals = new EventEmitter();
  let started = false;
  const following = startAndFollow(
    discovery,
    {},
    settings(display, signals, {
      onStarted: () => {
        started = true;
      },
    }),
  );
  return { display, signals, following, started: () => started };
}

describe("following a discovery run", () => {
  it("ends a run whose last message was lost, by asking discovery how it went", async () => {
    fake.plan = { steps: [{ phase: "scanning" }, { phase: "mining" }], outcome: "completed", loseLast: true };
    const display = recorded();
    const followed = await startAndFollow(discovery, {}, settings(display, new EventEmitter()));
    expect(followed.interrupted).toBe(false);
    expect(followed.final).toMatchObject({ runId: "run-1", outcome: "completed" });
    // The status was asked: the outcome came from there, not from a progress message.
    expect(fake.bodies("status").length).toBeGreaterThan(0);
  });

  it("says when discovery goes quiet, and a Ctrl-C whose stop cannot be sent leaves the run as it was", async () => {
    fake.plan = { steps: [{ phase: "scanning" }] };
    const { display, signals, following, started } = follow();
    await waitFor(started, { timeoutMs: 5000 });
    fake.close();
    await waitFor(() => display.notices.some((n) => /^no word from discovery for \d+ s$/.test(n)), {
      timeoutMs: 10_000,
    });
    signals.emit("SIGINT");
    const followed = await following;
    expect(display.notices).toContain("stopping run run-1, keeping its checkpoint (Ctrl-C again to quit now)");
    expect(followed.interrupted).toBe(true);
    expect(followed.stopError).toBeInstanceOf(StratregError);
    expect(followed.final.runId).toBe("run-1");
    expect(followed.final.outcome).toBeUndefined();
  });

  it("hands back the refusal of a stop, with the run's last progress", async () => {
    fake.plan = { steps: [{ phase: "scanning" }, { phase: "mining", generation: 1 }] };
    fake.refuseStop = new ConflictError(ErrorCodes.Conflict, "the run is checkpointing");
    const { display, signals, following, started } = follow();
    await waitFor(() => started() && display.lines.length >= 2, { timeoutMs: 5000 });
    signals.emit("SIGINT");
    const followed = await following;
    expect(followed.interrupted).toBe(true);
    expect(followed.stopError).toBeInstanceOf(ConflictError);
    expect((followed.stopError as ConflictError).message).toContain("the run is checkpointing");
    expect(followed.final).toMatchObject({ runId: "run-1" });
    expect(followed.final.outcome).toBeUndefined();
  });

  it("stops a run asked for before Ctrl-C, once it has started", async () => {
    fake.plan = { steps: [{ phase: "scanning" }] };
    const display = recorded();
    const signals = new EventEmitter();
    const following = startAndFollow(discovery, {}, settings(display, signals));
    // Ctrl-C before discovery has answered the run request.
    signals.emit("SIGINT");
    const followed = await following;
    expect(followed.interrupted).toBe(true);
    expect(followed.final).toMatchObject({ runId: "run-1", outcome: "stopped" });
    expect(fake.bodies("stop")).toEqual([{ runId: "run-1" }]);
  });
});
