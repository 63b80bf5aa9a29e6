/**
 * Lifecycle events: what an entry means to watchers, and how the publisher behaves on a real
 * nats-server when the stream takes the event, takes it twice, or is not there at all.
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  clusterSubjects,
  decode,
  LifecycleEventKinds,
  type LifecycleEventMessage,
  LifecycleEvents,
  LogOps,
  PROTOCOL_VERSION,
} from "@stratreg/protocol";
import { uniqueClusterName, waitFor } from "@stratreg/testkit";
import { type Logger, pino } from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type AppliedEntry, ensureLifecycleStream, eventsOf, LifecycleEventPublisher } from "./events.js";

/** An entry of `op` for strategies `ids`, with no records (so no version is read from bytes). */
function entry(op: string, ids: string[], head?: AppliedEntry["head"]): AppliedEntry {
  return { bytes: Buffer.alloc(0), op, cid: undefined, epoch: 1, at: 1_700_000_000_000, ids, records: [], head };
}

describe("eventsOf", () => {
  it("names a maturity move as its own kind, with the move's states and author", () => {
    const move = { event: LifecycleEvents.Maturity, from: "incubating", to: "proven", by: "ranker" };
    const [event] = eventsOf(7, 42, entry(LogOps.Transition, ["s-1"], { lc: move } as AppliedEntry["head"]));
    expect(event).toMatchObject({
      kind: LifecycleEventKinds.MaturityChanged,
      partition: 7,
      seq: 42,
      ids: ["s-1"],
      event: LifecycleEvents.Maturity,
      from: "incubating",
      to: "proven",
      by: "ranker",
    });
  });

  it("gives a state change without a move the entry's note as its reason", () => {
    const [event] = eventsOf(3, 9, entry(LogOps.Retire, ["s-2"], { note: "replaced by s-3" }));
    expect(event).toMatchObject({ kind: LifecycleEventKinds.StateChanged, ids: ["s-2"], reason: "replaced by s-3" });
    expect(event).not.toHaveProperty("event");
  });

  it("makes no event of a snapshot", () => {
    expect(eventsOf(0, 1, entry(LogOps.Snapshot, ["s-1", "s-2"]))).toEqual([]);
  });
});

describe("the publisher", () => {
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await connect({ servers: inject("natsUrl") });
  });
  afterAll(async () => {
    await nc?.close();
  });

  /** A logger that keeps the lines it writes, parsed. */
  function warnings(): { logger: Logger; lines: Array<Record<string, unknown>> } {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    return { logger, lines };
  }

  const created = (partition: number, seq: number): LifecycleEventMessage => ({
    v: PROTOCOL_VERSION,
    partition,
    seq,
    at: Date.now(),
    ids: ["s-1"],
    kind: LifecycleEventKinds.Created,
  });

  it("stores an event once, however often it is published", async () => {
    const subjects = clusterSubjects(uniqueClusterName("events"));
    const jsm = await jetstreamManager(nc);
    await ensureLifecycleStream(jsm, subjects, 1, 3_600_000);
    const { logger, lines } = warnings();
    const publisher = new LifecycleEventPublisher(jetstream(nc), subjects, logger);
    publisher.publish([created(5, 11)]);
    publisher.publish([created(5, 11), created(5, 12)]);
    await waitFor(() => publisher.pending === 0, { message: "the publishes to be acknowledged" });
    const info = await jsm.streams.info(subjects.lifecycleStream);
    expect(info.state.messages).toBe(2);
    const first = await jsm.streams.getMessage(subjects.lifecycleStream, { seq: 1 });
    expect(first === null ? undefined : decode(first.data)).toMatchObject({
      partition: 5,
      seq: 11,
      kind: LifecycleEventKinds.Created,
    });
    expect(publisher.failed).toBe(0);
    expect(lines).toEqual([]);
    await jsm.streams.delete(subjects.lifecycleStream);
  });

  it("retries an event the stream does not take, then counts it and says the next owner publishes it again", async () => {
    // No stream for these subjects: every publish meets no responders.
    const subjects = clusterSubjects(uniqueClusterName("events-nostream"));
    const { logger, lines } = warnings();
    const publisher = new LifecycleEventPublisher(jetstream(nc), subjects, logger, 2);
    publisher.publish([created(9, 3)]);
    await waitFor(() => publisher.failed === 1, { timeoutMs: 15_000, message: "the event to be given up" });
    expect(publisher.pending).toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ partition: 9, seq: 3, kind: LifecycleEventKinds.Created });
    expect(lines[0]?.msg).toMatch(/next owner of the partition publishes recent ones again/);
  });
});
