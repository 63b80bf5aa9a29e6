/**
 * Group commit against a stand-in for the log append (the real one is exercised end to end in
 * test/risk-guard.test.ts): batching while an append is in flight, state changes alone on their
 * subject, the fence's expected sequence chained, and a failure failing everything after it.
 */
import { ErrorCodes, type RiskLogKind, RiskLogKinds, StratregError } from "@stratreg/protocol";
import { describe, expect, test } from "vitest";
import { decodeEntry, RecordKinds, type RiskRecord } from "./book/records.js";
import { CommitPipeline } from "./pipeline.js";

interface Append {
  kind: RiskLogKind;
  records: RiskRecord[];
  expected: number;
  settle: (seq: number | Error) => void;
}

function log() {
  const appends: Append[] = [];
  let seq = 10;
  return {
    appends,
    append(kind: RiskLogKind, bytes: Uint8Array, expected: number): Promise<number> {
      return new Promise((resolve, reject) => {
        appends.push({
          kind,
          records: decodeEntry(bytes).entry.r,
          expected,
          settle: (result) => (result instanceof Error ? reject(result) : resolve(result)),
        });
      });
    },
    ack(i: number) {
      (appends[i] as Append).settle(++seq);
    },
  };
}

const cancel = (n: number): RiskRecord => ({ t: RecordKinds.Cancel, orderId: `o${n}`, at: n });
const tick = () => new Promise((r) => setTimeout(r, 0));

describe("group commit", () => {
  test("one append in flight; everything queued meanwhile goes in the next, each expecting the last sequence", async () => {
    const l = log();
    const pipeline = new CommitPipeline(
      l,
      3,
      10,
      { recordsPerEntry: 100, queueMax: 1000, appendsInFlight: 1 },
      () => undefined,
    );
    const first = pipeline.submit(cancel(1));
    const rest = [2, 3, 4].map((n) => pipeline.submit(cancel(n)));
    expect(l.appends).toHaveLength(1);
    expect(pipeline.depth).toBe(4);
    l.ack(0);
    expect(await first).toBe(11);
    await tick();
    expect(l.appends).toHaveLength(2);
    expect(l.appends[1]).toMatchObject({ kind: RiskLogKinds.Entries, expected: 11 });
    expect(l.appends[1]?.records.map((r) => (r as { orderId: string }).orderId)).toEqual(["o2", "o3", "o4"]);
    l.ack(1);
    expect(await Promise.all(rest)).toEqual([12, 12, 12]);
    expect(pipeline.stats).toEqual({ entries: 2, records: 4, largest: 3 });
    expect(pipeline.committedSeq).toBe(12);
  });

  test("a state change is an entry of its own, in order, on the state subject; the barrier waits for all", async () => {
    const l = log();
    const pipeline = new CommitPipeline(
      l,
      1,
      10,
      { recordsPerEntry: 2, queueMax: 1000, appendsInFlight: 1 },
      () => undefined,
    );
    void pipeline.submit(cancel(1));
    void pipeline.submit(cancel(2));
    void pipeline.submit(cancel(3));
    const trading: RiskRecord = { t: RecordKinds.Trading, event: { type: "HALT", by: "op", reason: "r", at: 1 } };
    const halted = pipeline.submit(trading, RiskLogKinds.State);
    void pipeline.submit(cancel(4));
    let barrier = false;
    void pipeline.barrier().then(() => {
      barrier = true;
    });
    for (let i = 0; i < 4; i++) {
      l.ack(i);
      await tick();
    }
    expect(l.appends.map((a) => [a.kind, a.records.length])).toEqual([
      [RiskLogKinds.Entries, 1],
      [RiskLogKinds.Entries, 2],
      [RiskLogKinds.State, 1],
      [RiskLogKinds.Entries, 1],
    ]);
    expect(await halted).toBe(13);
    await tick();
    expect(barrier).toBe(true);
  });

  test("a refused append fails what it carried, what was queued, and every later submit", async () => {
    const l = log();
    const failures: unknown[] = [];
    const pipeline = new CommitPipeline(l, 1, 10, { recordsPerEntry: 100, queueMax: 2, appendsInFlight: 1 }, (err) =>
      failures.push(err),
    );
    const a = pipeline.submit(cancel(1));
    const b = pipeline.submit(cancel(2));
    expect(pipeline.full).toBe(true);
    const fenced = new StratregError(ErrorCodes.NotOwner, "fenced", { retryable: true });
    (l.appends[0] as Append).settle(fenced);
    await expect(a).rejects.toBe(fenced);
    await expect(b).rejects.toBe(fenced);
    await expect(pipeline.submit(cancel(3))).rejects.toBe(fenced);
    expect(failures).toEqual([fenced]);
    expect(l.appends).toHaveLength(1);
  });

  test("several appends in flight, each expecting the sequence the one before it will get; one refused fails the rest", async () => {
    const l = log();
    const pipeline = new CommitPipeline(
      l,
      1,
      10,
      { recordsPerEntry: 100, queueMax: 1000, appendsInFlight: 2 },
      () => undefined,
    );
    const a = pipeline.submit(cancel(1));
    const b = pipeline.submit(cancel(2));
    const c = pipeline.submit(cancel(3));
    expect(l.appends.map((x) => x.expected)).toEqual([10, 11]);
    l.ack(0);
    l.ack(1);
    expect(await Promise.all([a, b])).toEqual([11, 12]);
    await tick();
    expect(l.appends.map((x) => x.expected)).toEqual([10, 11, 12]);
    const d = pipeline.submit(cancel(4));
    const fenced = new StratregError(ErrorCodes.NotOwner, "fenced", { retryable: true });
    (l.appends[2] as Append).settle(fenced);
    (l.appends[3] as Append).settle(fenced);
    await expect(c).rejects.toBe(fenced);
    await expect(d).rejects.toBe(fenced);
  });

  test("an acknowledgement at an unexpected sequence ends the pipeline", async () => {
    const l = log();
    const pipeline = new CommitPipeline(
      l,
      1,
      10,
      { recordsPerEntry: 100, queueMax: 1000, appendsInFlight: 1 },
      () => undefined,
    );
    const a = pipeline.submit(cancel(1));
    (l.appends[0] as Append).settle(15);
    await expect(a).rejects.toThrow("the risk log stored an entry at 15, not 11");
  });
});
