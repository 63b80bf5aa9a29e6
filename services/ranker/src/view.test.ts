import type { PublishedEntry, TopKPublication } from "@stratreg/protocol";
import { describe, expect, test } from "vitest";
import { PartitionViews } from "./view.js";

function entry(id: string, sharpe: number): PublishedEntry {
  return [id, null, "live", [], [], 10, 1, 0, 0, [sharpe], {}];
}

function pub(fields: Partial<TopKPublication> & Pick<TopKPublication, "epoch" | "n">): TopKPublication {
  return {
    v: 1,
    partition: 0,
    seq: fields.n,
    at: 1000 + fields.n,
    full: false,
    entries: [],
    removed: [],
    lists: {},
    droppedLists: [],
    sizes: {},
    ...fields,
  };
}

const full = (epoch: number, n: number, ids: string[]) =>
  pub({
    epoch,
    n,
    full: true,
    entries: ids.map((id, i) => entry(id, 10 - i)),
    lists: { sharpe: ids },
    sizes: { sharpe: ids.length },
  });

describe("PartitionViews.apply", () => {
  test("a delta before any full publication asks for a resync; the full one then applies the kept deltas", () => {
    const views = new PartitionViews(2, 3000, () => 0);
    expect(views.apply(pub({ epoch: 1, n: 3, lists: { sharpe: ["a", "c"] }, entries: [entry("c", 5)] }))).toBe(
      "resync",
    );
    expect(views.resyncWanted(0)).toBe(true);
    expect(views.apply(full(1, 2, ["a", "b"]))).toBe("applied");
    const view = views.get(0);
    expect(view?.n).toBe(3);
    expect(view?.lists.get("sharpe")).toEqual(["a", "c"]);
    expect([...(view?.entries.keys() ?? [])].sort()).toEqual(["a", "b", "c"]);
    expect(views.resyncWanted(0)).toBe(false);
  });

  test("deltas apply in order; repeats and older ones are ignored; a gap asks for a resync", () => {
    const views = new PartitionViews(1, 3000, () => 0);
    views.apply(full(4, 0, ["a"]));
    expect(views.apply(pub({ epoch: 4, n: 1, entries: [entry("b", 9)], lists: { sharpe: ["a", "b"] } }))).toBe(
      "applied",
    );
    expect(views.apply(pub({ epoch: 4, n: 1 }))).toBe("ignored");
    expect(views.apply(pub({ epoch: 4, n: 3 }))).toBe("resync");
    // The full reply of the resync is at n = 2: delta 3 (kept) follows it.
    expect(views.apply(full(4, 2, ["b"]))).toBe("applied");
    expect(views.get(0)?.n).toBe(3);
    expect(views.apply(pub({ epoch: 4, n: 2 }))).toBe("ignored");
    expect(views.apply(full(4, 1, ["a", "b"]))).toBe("ignored");
  });

  test("a lower epoch is ignored; a higher epoch's full one replaces; its deltas wait for it", () => {
    const views = new PartitionViews(1, 3000, () => 0);
    views.apply(full(2, 5, ["a", "b"]));
    expect(views.apply(full(1, 9, ["z"]))).toBe("ignored");
    expect(views.apply(pub({ epoch: 1, n: 6, removed: ["a"] }))).toBe("ignored");
    expect(views.apply(pub({ epoch: 3, n: 1, removed: ["a"], lists: { sharpe: ["b"] } }))).toBe("resync");
    // The old owner's view stays until the new owner's full one arrives: the partition is not dropped.
    expect(views.get(0)?.epoch).toBe(2);
    expect(views.get(0)?.entries.size).toBe(2);
    expect(views.apply(full(3, 0, ["a", "b"]))).toBe("applied");
    expect(views.get(0)).toMatchObject({ epoch: 3, n: 1 });
    expect(views.get(0)?.lists.get("sharpe")).toEqual(["b"]);
    expect(views.get(0)?.entries.has("a")).toBe(false);
  });

  test("dropped lists take their sizes with them; removed entries leave", () => {
    const views = new PartitionViews(1, 3000, () => 0);
    views.apply({ ...full(1, 0, ["a"]), lists: { sharpe: ["a"], "sharpe|family=f": ["a"] } });
    views.apply(pub({ epoch: 1, n: 1, droppedLists: ["sharpe|family=f"], removed: ["a"], lists: { sharpe: [] } }));
    const view = views.get(0);
    expect(view?.lists.has("sharpe|family=f")).toBe(false);
    expect(view?.sizes.has("sharpe|family=f")).toBe(false);
    expect(view?.entries.size).toBe(0);
  });

  test("the version grows on changes only, not on empty deltas; out-of-range partitions are ignored", () => {
    const views = new PartitionViews(1, 3000, () => 0);
    views.apply(full(1, 0, ["a"]));
    const version = views.version;
    views.apply(pub({ epoch: 1, n: 1 }));
    expect(views.version).toBe(version);
    views.apply(pub({ epoch: 1, n: 2, entries: [entry("a", 1)] }));
    expect(views.version).toBe(version + 1);
    expect(views.apply({ ...full(1, 0, []), partition: 7 })).toBe("ignored");
  });

  test("a partition is missing until synced, and again when not heard from for staleMs", () => {
    let now = 0;
    const views = new PartitionViews(3, 1000, () => now);
    expect(views.missing()).toEqual([0, 1, 2]);
    views.apply({ ...full(1, 0, []), partition: 1 });
    expect(views.missing()).toEqual([0, 2]);
    now = 900;
    views.apply({ ...full(1, 0, []), partition: 0 });
    now = 1500;
    expect(views.missing()).toEqual([1, 2]);
    views.apply(pub({ partition: 1, epoch: 1, n: 1 }));
    expect(views.missing()).toEqual([2]);
    expect(views.oldestAt()).toBe(1000);
  });
});
