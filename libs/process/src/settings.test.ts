import { describe, expect, test } from "vitest";
import { intSetting } from "./settings.js";

describe("intSetting", () => {
  test("unset or empty gives the default; an integer in range is taken", () => {
    expect(intSetting("X", undefined, 7, 1, 10)).toBe(7);
    expect(intSetting("X", "", 7, 1, 10)).toBe(7);
    expect(intSetting("X", "1", 7, 1, 10)).toBe(1);
    expect(intSetting("X", "10", 7, 1, 10)).toBe(10);
  });

  test.each(["0", "11", "1.5", "abc", " ", "1e400"])("refuses %j, naming the setting and its range", (raw) => {
    expect(() => intSetting("STRATREG_X", raw, 7, 1, 10)).toThrow(
      `STRATREG_X must be an integer in [1, 10], got ${JSON.stringify(raw)}`,
    );
  });
});
