import { describe, expect, it } from "vitest";
import { eventLine } from "./report.js";

describe("ownership event line", () => {
  it("shows the shard's time, the member, the change, the partition and the epoch", () => {
    const event = {
      v: 1,
      member: "shard-1",
      partition: 7,
      change: "acquired",
      epoch: 3,
      at: Date.UTC(2025, 0, 2, 3, 4, 5, 678),
    } as const;
    expect(eventLine(event)).toBe("2025-01-02T03:04:05.678Z shard-1 acquired partition 7 epoch 3");
    expect(eventLine({ ...event, at: Number.NaN })).toBe("NaN shard-1 acquired partition 7 epoch 3");
  });
});
