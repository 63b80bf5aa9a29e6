import { describe, expect, it } from "vitest";
import { type FinalState, History, type HistoryReport, type ObservedVersion, type OperationKind } from "./mod.js";

/** How a hand-made operation ends: its version, or fail/unknown, or never (pending). */
type Ending = ObservedVersion | "fail" | "unknown" | "pending";

interface Spec {
  kind: OperationKind;
  /** Invocation and completion times, ms. */
  at: [number, number];
  end: Ending;
  worker?: number;
  id?: string;
  cid?: string;
}

const op = (kind: OperationKind, at: [number, number], end: Ending, extra: Partial<Spec> = {}): Spec => ({
  kind,
  at,
  end,
  ...extra,
});

/** Records `specs` through the public API with a clock that reads each spec's times. */
function record(specs: Spec[]): History {
  let now = 0;
  const history = new History({ now: () => now });
  specs.forEach((spec, i) => {
    now = spec.at[0];
    const value = spec.kind === "read" ? undefined : `tag-${i}`;
    const pending = history.invoke(spec.worker ?? i % 3, spec.kind, spec.id ?? "s1", value, { cid: spec.cid });
    now = spec.at[1];
    if (spec.end === "fail") pending.fail(new Error("refused"));
    else if (spec.end === "unknown") pending.unknown(new Error("timeout"));
    else if (spec.end !== "pending") pending.ok(spec.end);
  });
  return history;
}

const final = (version?: number, id = "s1"): FinalState => new Map(version === undefined ? [] : [[id, { version }]]);

async function verdict(specs: Spec[], finalState: FinalState): Promise<HistoryReport> {
  return record(specs).check(finalState);
}

async function problemKinds(specs: Spec[], finalState: FinalState): Promise<string[]> {
  const report = await verdict(specs, finalState);
  expect(report.ok).toBe(report.problems.length === 0);
  return report.problems.map((p) => p.kind);
}

describe("History recording", () => {
  it("keeps times, versions, values and errors; refuses a second completion", () => {
    let now = 10;
    const history = new History({ now: () => now });
    const write = history.invoke(2, "register", "a", "first", { cid: "c1" });
    now = 15;
    write.ok({ version: 1 });
    expect(history.operations[0]).toMatchObject({
      index: 0,
      worker: 2,
      kind: "register",
      id: "a",
      value: "first",
      cid: "c1",
      invokedAt: 10,
      completedAt: 15,
      outcome: "ok",
      version: 1,
    });
    expect(() => write.fail()).toThrow(/already completed/);
    expect(() => history.invoke(1, "update", "a").ok("absent")).toThrow(TypeError);
    const read = history.invoke(1, "read", "a");
    expect(read.operation.outcome).toBe("pending");
    expect(read.ok("absent").version).toBe("absent");
  });

  it("run() classifies errors: retryable and in-doubt codes are unknown, refusals fail, NOT_FOUND reads are absent", async () => {
    const history = new History();
    const thrown = (code: string, retryable = false) => Object.assign(new Error(code), { code, retryable });
    const reject = (error: unknown) => () => Promise.reject(error);
    expect((await history.run(0, "update", "a", reject(thrown("CONFLICT")))).outcome).toBe("fail");
    expect((await history.run(0, "update", "a", reject(thrown("INTERNAL", true)))).outcome).toBe("unknown");
    for (const code of ["TIMEOUT", "UNAVAILABLE", "NOT_OWNER", "OVERLOADED", "COMMAND_EXPIRED"]) {
      expect((await history.run(0, "update", "a", reject(thrown(code)))).outcome, code).toBe("unknown");
    }
    expect((await history.run(0, "update", "a", reject(thrown("NOT_FOUND")))).outcome).toBe("fail");
    expect((await history.run(0, "retire", "a", reject("not an error"))).outcome).toBe("fail");
    const absent = await history.run(0, "read", "a", reject(thrown("NOT_FOUND")));
    expect(absent.outcome).toBe("absent");
    expect(absent.operation).toMatchObject({ outcome: "ok", version: "absent" });

    const got = await history.run(1, "read", "a", async () => ({ id: "a", version: 4, name: "x" }));
    expect(got.outcome === "ok" && got.value.name).toBe("x");
    expect(got.operation.version).toBe(4);
    const put = await history.run(1, "update", "a", async () => ({ v: 5 }), { value: "t", versionOf: (r) => r.v });
    expect(put.operation).toMatchObject({ outcome: "ok", version: 5, value: "t" });
    const custom = await history.run(1, "update", "a", reject(thrown("CONFLICT")), { classify: () => "unknown" });
    expect(custom.operation.outcome).toBe("unknown");

    const report = await history.check(new Map());
    expect(report.stats.byKind.update).toEqual({ ok: 1, fail: 2, unknown: 7, pending: 0 });
    expect(report.stats.byKind.read).toEqual({ ok: 2, fail: 0, unknown: 0, pending: 0 });
    expect(report.stats).toMatchObject({ operations: 13, ids: 1 });
  });

  it("check() reads the final state for the history's ids, from a source or a list of strategies", async () => {
    const history = record([op("register", [0, 1], 1, { id: "a" }), op("register", [0, 1], 1, { id: "b" })]);
    let asked: string[] = [];
    const report = await history.check(async (ids) => {
      asked = ids;
      return [
        { id: "a", version: 1 },
        { id: "b", version: 1 },
      ];
    });
    expect(asked.sort()).toEqual(["a", "b"]);
    expect(report.ok, report.summary()).toBe(true);
    expect(report.summary()).toMatch(/^history OK: 2 operations on 2 strategies \(register 2 ok/);
    expect((await history.check([{ id: "a", version: 1 }])).problems.map((p) => p.kind)).toEqual(["lost-write"]);
  });
});

describe("History check: histories that must fail", () => {
  it("an acknowledged write lost after recovery", async () => {
    const specs = [op("register", [0, 1], 1), op("update", [2, 3], 2)];
    expect(await problemKinds(specs, final(1))).toEqual(["lost-write"]);
    expect(await problemKinds(specs, final(undefined))).toEqual(["lost-write", "lost-write"]);
    const report = await verdict(specs, final(undefined));
    expect(report.problems[0]?.message).toMatch(/s1: acknowledged v1, but the strategy is absent after recovery/);
  });

  it("a version a read saw, lost after recovery", async () => {
    const specs = [op("register", [0, 1], 1), op("update", [2, 5], "unknown"), op("read", [3, 4], 2)];
    expect(await problemKinds(specs, final(1))).toEqual(["lost-write"]);
  });

  it("a gap: a version no write made", async () => {
    // v2 has no writer: acknowledged v3 needs three writes.
    expect(await problemKinds([op("register", [0, 1], 1), op("update", [2, 3], 3)], final(3))).toEqual(["version-gap"]);
    // After recovery at v2 with only the register acknowledged and nothing in doubt.
    expect(await problemKinds([op("register", [0, 1], 1), op("update", [2, 3], "fail")], final(2))).toEqual([
      "version-gap",
    ]);
    // The only write in doubt began after v3 was acknowledged, so it cannot have made v2.
    const late = [op("register", [0, 1], 1), op("update", [2, 3], 3), op("update", [4, 5], "unknown")];
    expect(await problemKinds(late, final(3))).toEqual(["version-gap"]);
  });

  it("a repeat: two commands acknowledged with one version", async () => {
    const specs = [op("register", [0, 1], 1), op("update", [2, 4], 2), op("update", [3, 5], 2)];
    const report = await verdict(specs, final(2));
    expect(report.problems.map((p) => p.kind)).toEqual(["duplicate-version"]);
    expect(report.problems[0]?.operations).toHaveLength(2);
    expect(report.summary()).toMatch(/1 duplicate-version/);
    expect(report.summary()).toMatch(/#1 worker 1 update "tag-1" t\+2\.0→4\.0 ms ok v2/);
  });

  it("a stale read: older than a write acknowledged before the read began", async () => {
    const specs = [op("register", [0, 1], 1), op("update", [2, 3], 2), op("read", [4, 5], 1, { worker: 7 })];
    const report = await verdict(specs, final(2));
    expect(report.problems.map((p) => p.kind)).toEqual(["stale-read"]);
    expect(report.problems[0]?.message).toMatch(/a read returned v1 after update #1 had ended with v2/);
    expect(report.problems[0]?.message).toMatch(/worker 7 read t\+4\.0→5\.0 ms ok v1/);
  });

  it("a stale read: older than a read that ended before it began", async () => {
    const specs = [
      op("register", [0, 1], 1),
      op("update", [2, 10], "unknown"),
      op("read", [3, 4], 2),
      op("read", [5, 6], 1),
    ];
    expect(await problemKinds(specs, final(2))).toEqual(["stale-read"]);
  });

  it("a read that found nothing after the register was acknowledged", async () => {
    const specs = [op("register", [0, 1], 1), op("read", [2, 3], "absent")];
    const report = await verdict(specs, final(1));
    expect(report.problems.map((p) => p.kind)).toEqual(["stale-read"]);
    expect(report.problems[0]?.message).toMatch(/a read found nothing after register #0 had ended with v1/);
  });

  it("a read of a version never written", async () => {
    expect(await problemKinds([op("register", [0, 1], 1), op("read", [2, 3], 3)], final(1))).toEqual(["phantom-read"]);
    // Only a refused write could have made v2.
    const refused = [op("register", [0, 1], 1), op("update", [2, 3], "fail"), op("read", [4, 5], 2)];
    expect(await problemKinds(refused, final(1))).toEqual(["phantom-read"]);
    // The write in doubt began after the read ended.
    const early = [op("register", [0, 1], 1), op("read", [2, 3], 2), op("update", [4, 5], "unknown")];
    expect(await problemKinds(early, final(2))).toEqual(["phantom-read"]);
    expect(await problemKinds([op("read", [0, 1], 1)], final(undefined))).toEqual(["phantom-read"]);
  });

  it("a write acknowledged with a version seen before it began", async () => {
    const specs = [
      op("register", [0, 1], 1),
      op("update", [2, 9], "unknown"),
      op("read", [3, 4], 3),
      op("update", [5, 6], 3),
    ];
    expect(await problemKinds(specs, final(3))).toEqual(["real-time-order"]);
  });

  it("acknowledgements a reply cannot carry", async () => {
    expect(await problemKinds([op("register", [0, 1], 2)], final(2))).toContain("invalid-ack");
    expect(await problemKinds([op("register", [0, 1], 1), op("update", [2, 3], 1)], final(1))).toContain("invalid-ack");
  });

  it("one command answered differently", async () => {
    const twice = [
      op("register", [0, 1], 1),
      op("update", [2, 3], 2, { cid: "c" }),
      op("update", [4, 5], 3, { cid: "c" }),
    ];
    expect(await problemKinds(twice, final(2))).toEqual(["conflicting-acks"]);
    const refused = [
      op("register", [0, 1], 1),
      op("update", [2, 3], 2, { cid: "c" }),
      op("update", [4, 5], "fail", { cid: "c" }),
    ];
    expect(await problemKinds(refused, final(2))).toEqual(["conflicting-acks"]);
  });
});

describe("History check: histories that must pass", () => {
  const passes = async (specs: Spec[], finalState: FinalState) => {
    const report = await verdict(specs, finalState);
    expect(report.problems, report.summary()).toEqual([]);
    expect(report.ok).toBe(true);
  };

  it("a sequential history", async () => {
    await passes(
      [
        op("read", [0, 1], "absent"),
        op("register", [2, 3], 1),
        op("read", [4, 5], 1),
        op("update", [6, 7], 2),
        op("retire", [8, 9], 3),
        op("read", [10, 11], 3),
        op("update", [12, 13], "fail"),
      ],
      final(3),
    );
  });

  it("reads concurrent with a write may return either version", async () => {
    const write = op("update", [2, 10], 2);
    await passes([op("register", [0, 1], 1), write, op("read", [3, 4], 1), op("read", [5, 6], 2)], final(2));
    await passes([op("register", [0, 1], 1), write, op("read", [3, 4], 2), op("read", [9, 11], 2)], final(2));
    // A read that began exactly when a write ended is concurrent with it.
    await passes([op("register", [0, 1], 1), op("read", [1, 2], "absent")], final(1));
    await passes([op("register", [0, 5], 1), op("read", [1, 2], "absent"), op("read", [3, 4], 1)], final(1));
  });

  it("overlapping writes of several workers, acknowledged out of invocation order", async () => {
    await passes(
      [
        op("register", [0, 1], 1),
        op("update", [2, 20], 3, { worker: 1 }),
        op("update", [3, 8], 2, { worker: 2 }),
        op("read", [4, 6], 1),
        op("read", [9, 10], 2),
        op("read", [21, 22], 3),
      ],
      final(3),
    );
  });

  it("writes of unknown outcome that did or did not land", async () => {
    const specs = [
      op("register", [0, 1], "unknown"),
      op("update", [2, 3], "unknown"),
      op("read", [4, 5], 2),
      op("update", [6, 7], "unknown"),
      op("update", [8, 9], "pending"),
    ];
    await passes(specs, final(2));
    await passes(specs, final(3));
    await passes(specs, final(4));
    expect(await problemKinds(specs, final(5))).toEqual(["version-gap"]);
    await passes([op("register", [0, 1], "unknown"), op("read", [2, 3], "absent")], final(undefined));
    await passes([op("register", [0, 1], "unknown"), op("read", [2, 3], "absent")], final(1));
  });

  it("a command retried under one cid, applied before its acknowledged attempt began", async () => {
    await passes(
      [
        op("register", [0, 1], 1),
        op("update", [2, 3], "unknown", { cid: "c" }),
        op("read", [4, 5], 2),
        op("update", [6, 7], 2, { cid: "c" }),
        op("update", [8, 9], 2, { cid: "c" }),
      ],
      final(2),
    );
  });

  it("strategies are checked apart", async () => {
    await passes(
      [op("register", [0, 1], 1, { id: "a" }), op("read", [2, 3], "absent", { id: "b" })],
      new Map([["a", { version: 1 }]]),
    );
  });
});
