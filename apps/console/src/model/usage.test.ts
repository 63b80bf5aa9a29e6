import { describe, expect, it } from "vitest";
import { usageBars, usageLevel } from "./usage.js";

describe("limit usage bars", () => {
  it("grade usage by how close it is to the limit", () => {
    expect(usageLevel(0.5)).toBe("ok");
    expect(usageLevel(0.7)).toBe("warn");
    expect(usageLevel(0.95)).toBe("danger");
    expect(usageLevel(1.2)).toBe("breach");
  });

  it("draw one bar per limited measure, the most used first, capped at full width", () => {
    const bars = usageBars([
      { scope: "total", key: "", gross: 500, net: -300, reserved: 0, grossLimit: 1000, netLimit: 250 },
      { scope: "symbol", key: "AAPL", gross: 80, net: 80, reserved: 10, grossLimit: 100, netLimit: null },
      { scope: "venue", key: "xnys", gross: 10, net: 10, reserved: 0, grossLimit: null, netLimit: null },
    ]);
    expect(bars.map((b) => [b.label, b.measure, b.level])).toEqual([
      ["total", "net", "breach"],
      ["symbol AAPL", "gross", "warn"],
      ["total", "gross", "ok"],
    ]);
    expect(bars[0]?.widthPercent).toBe(100);
    expect(bars[1]?.widthPercent).toBeCloseTo(80);
  });

  it("treat any use of a zero limit as a breach", () => {
    const [bar] = usageBars([
      { scope: "total", key: "", gross: 1, net: 0, reserved: 0, grossLimit: 0, netLimit: null },
    ]);
    expect(bar?.level).toBe("breach");
  });
});
