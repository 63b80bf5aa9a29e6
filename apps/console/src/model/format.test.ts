import { describe, expect, it } from "vitest";
import { formatAge, formatBytes, formatClock, formatNotional, formatNumber, formatPercent } from "./format.js";

describe("formatting", () => {
  it("shows numbers with grouped thousands and a dash for what is missing", () => {
    expect(formatNumber(1234.567)).toBe("1,234.57");
    expect(formatNumber(3.937981, 3)).toBe("3.938");
    expect(formatNumber(null)).toBe("—");
    expect(formatNumber(Number.NaN)).toBe("—");
    expect(formatPercent(0.1234)).toBe("12.3 %");
  });

  it("shows notional compactly", () => {
    expect(formatNotional(950)).toBe("950");
    expect(formatNotional(1234)).toBe("1.23 k");
    expect(formatNotional(-5_600_000)).toBe("-5.60 M");
    expect(formatNotional(2.5e9)).toBe("2.50 B");
  });

  it("shows ages in the unit a person thinks in", () => {
    expect(formatAge(850)).toBe("850 ms");
    expect(formatAge(4200)).toBe("4.2 s");
    expect(formatAge(185_000)).toBe("3 min 5 s");
    expect(formatAge(7_800_000)).toBe("2 h 10 min");
    expect(formatAge(-1)).toBe("—");
  });

  it("shows bytes and clock times", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatClock(Date.UTC(2026, 10, 28, 9, 5, 7))).toBe("09:05:07");
  });
});
