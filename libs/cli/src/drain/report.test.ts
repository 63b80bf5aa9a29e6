import type { DrainProgress, DrainResult } from "@stratreg/client";
import { describe, expect, it } from "vitest";
import { acceptedLine, outcomeText, progressLine, progressText } from "./report.js";

function progress(extra: Partial<DrainProgress> = {}): DrainProgress {
  return {
    elapsedMs: 1234,
    present: true,
    held: 3,
    members: ["a", "b"],
    partitions: 16,
    unserved: [],
    contested: [],
    ...extra,
  };
}

function result(outcome: DrainResult["outcome"], last: DrainProgress): DrainResult {
  const reply = { member: "b", partitions: 8 };
  return { cluster: "c", member: "b", outcome, reply, alreadyDraining: false, partitions: 16, elapsedMs: 2500, last };
}

describe("drain report", () => {
  it("prints the shard's answer", () => {
    expect(acceptedLine("b", "c", { member: "b", partitions: 8 })).toBe(
      "drain requested: b of cluster c is handing off 8 partitions",
    );
    expect(acceptedLine("b", "c", { member: "b", partitions: 1 })).toBe(
      "drain requested: b of cluster c is handing off 1 partition",
    );
    expect(acceptedLine("b", "c", undefined)).toBe("b of cluster c is already draining");
  });

  it("says where the hand-off stands", () => {
    expect(progressLine("b", progress({ unserved: [4, 5] }))).toBe(
      "waiting: b still holds 3 partitions; 2 of 16 partitions unserved (1.2 s)",
    );
    expect(progressText("b", progress({ present: false, held: 0, members: ["a"] }))).toBe(
      "b has left; 0 of 16 partitions unserved",
    );
    expect(progressText("b", progress({ partitions: undefined }))).toBe(
      "b still holds 3 partitions; partition count unknown",
    );
  });

  it("says how it ended", () => {
    const gone = progress({ present: false, held: 0, members: ["a"] });
    expect(outcomeText(result("drained", gone))).toEqual({
      ok: true,
      text: "drained b in 2.5 s: a serves all 16 partitions",
    });
    expect(outcomeText(result("drained", { ...gone, members: ["a", "c"] })).text).toBe(
      "drained b in 2.5 s: a, c serve all 16 partitions",
    );
    const late = outcomeText(result("timed-out", progress({ unserved: [4, 5, 9] })));
    expect(late.ok).toBe(false);
    expect(late.text).toMatch(
      /^b not drained after 2\.5 s: b still answers, holding 3 partitions; 3 of 16 partitions unserved \(4-5,9\) \(a shard that accepted goes on handing off/,
    );
    expect(outcomeText(result("timed-out", gone)).text).toMatch(/^b not drained after 2\.5 s: b had only just left/);
    expect(outcomeText(result("aborted", progress()))).toEqual({
      ok: false,
      text: "stopped waiting after 2.5 s: b goes on draining by itself",
    });
  });
});
