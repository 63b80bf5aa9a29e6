import { describe, expect, it } from "vitest";
import { formatBytes, formatCount, formatDuration, formatRanges, formatTable } from "./format.js";

describe("format", () => {
  it("compacts partition numbers into ranges", () => {
    expect(formatRanges([])).toBe("-");
    expect(formatRanges([5])).toBe("5");
    expect(formatRanges([8, 0, 1, 2, 5, 7, 2])).toBe("0-2,5,7-8");
  });

  it("prints sizes, counts and durations for people", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(85 * 1024 * 1024)).toBe("85.0 MiB");
    expect(formatCount(1234567)).toBe("1,234,567");
    expect(formatDuration(1530)).toBe("1.5 s");
    expect(formatDuration(125_000)).toBe("2 min 5 s");
  });

  it("aligns table columns without trailing spaces", () => {
    const lines = formatTable(
      [
        ["id", "version", "name"],
        ["s-1", "12", "Mean reversion"],
      ],
      ["left", "right", "left"],
    );
    expect(lines).toEqual(["id   version  name", "s-1       12  Mean reversion"]);
  });
});
