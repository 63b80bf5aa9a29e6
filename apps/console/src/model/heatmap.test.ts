import { describe, expect, it } from "vitest";
import { correlationColour, correlationMatrix } from "./heatmap.js";

describe("the correlation heatmap", () => {
  it("puts a cluster's members together and fills both halves from each pair", () => {
    const m = correlationMatrix({
      strategies: ["a", "b", "c"],
      pairs: [
        { a: "c", b: "a", rho: 0.9 },
        { a: "b", b: "c", rho: -0.2 },
      ],
      clusters: [{ key: "k1", members: ["c", "a"], gross: 0, net: 0 }],
    });
    expect(m.labels).toEqual(["c", "a", "b"]);
    expect(m.cells).toEqual([
      [1, 0.9, -0.2],
      [0.9, 1, null],
      [-0.2, null, 1],
    ]);
  });

  it("colours +1 red, 0 white, −1 blue and unknown grey", () => {
    expect(correlationColour(1)).toBe("rgb(255, 40, 40)");
    expect(correlationColour(0)).toBe("rgb(255, 255, 255)");
    expect(correlationColour(-1)).toBe("rgb(40, 90, 255)");
    expect(correlationColour(null)).toBe("rgb(200, 200, 200)");
    expect(correlationColour(7)).toBe(correlationColour(1));
  });
});
