import { describe, expect, it } from "vitest";
import { diffTopK, movementLabel } from "./topk.js";

describe("top-k diffing", () => {
  it("marks rows that entered, climbed and fell, and who left", () => {
    const before = [
      { id: "a", rank: 1, score: 3 },
      { id: "b", rank: 2, score: 2 },
      { id: "c", rank: 3, score: 1 },
    ];
    const after = [
      { id: "b", rank: 1, score: 2.5 },
      { id: "d", rank: 2, score: 2.4 },
      { id: "a", rank: 3, score: 2 },
    ];
    const diff = diffTopK(before, after);
    expect(diff.changed).toBe(true);
    expect(diff.left).toEqual(["c"]);
    expect(movementLabel(diff.moves.get("b"))).toBe("▲1");
    expect(movementLabel(diff.moves.get("d"))).toBe("new");
    expect(movementLabel(diff.moves.get("a"))).toBe("▼2");
  });

  it("sees an unchanged list as unchanged, and a changed score as a change", () => {
    const list = [{ id: "a", rank: 1, score: 1 }];
    expect(diffTopK(list, list).changed).toBe(false);
    expect(movementLabel(diffTopK(list, list).moves.get("a"))).toBe("");
    expect(diffTopK(list, [{ id: "a", rank: 1, score: 1.1 }]).changed).toBe(true);
  });
});
