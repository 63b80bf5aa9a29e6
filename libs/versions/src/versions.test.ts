import { MUTABLE_FIELDS } from "@stratreg/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyDiff, deepEqual, diff, formatPath, merge3, mutableFieldsOf, rollbackPatch } from "./mod.js";

// Small pools make two edits of one field (and so conflicts) likely.
const word = fc.constantFrom("a", "b", "c", "momentum", "carry", "x y", "");
const key = fc.constantFrom("lookback", "threshold", "a.b", "stop-loss", "k");
const paramValue = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom("fast", "slow"), fc.boolean());
const params = fc.dictionary(key, paramValue, { maxKeys: 4 });
const template = fc.record({
  id: fc.constantFrom("band", "trend"),
  version: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  params,
});
const venue = fc.record(
  { venue: fc.constantFrom("binance", "cme"), symbols: fc.array(word, { maxLength: 3 }), params },
  { requiredKeys: ["venue", "symbols"] },
);
const fieldValues = {
  name: word.filter((w) => w !== ""),
  description: word,
  tags: fc.array(word, { maxLength: 4 }),
  owner: fc.constantFrom("desk-a", "desk-b"),
  family: fc.option(word, { nil: null }),
  parents: fc.array(fc.constantFrom("p1", "p2", "p3"), { maxLength: 3 }),
  template: fc.option(template, { nil: null }),
  venues: fc.array(venue, { maxLength: 3 }),
  origin: fc.constantFrom("manual", "variation", "crossover"),
} as const;
const strategy = fc.record({
  id: fc.constant("s-1"),
  ...fieldValues,
  version: fc.integer({ min: 1, max: 100 }),
  state: fc.constantFrom("candidate", "validated", "active"),
  createdAt: fc.constant(1),
  updatedAt: fc.constant(2),
});
/** A patch as `update` takes it: some descriptive fields, set whole. */
const patch = fc.record(fieldValues, { requiredKeys: [] });

type Obj = Record<string, unknown>;
const strip = (x: Obj): Obj => JSON.parse(JSON.stringify(x)) as Obj;

describe("diff", () => {
  it("applying diff(a, b) to a gives b, and touches nothing else", () => {
    fc.assert(
      fc.property(strategy, strategy, (a, b) => {
        const changes = diff(a, b);
        expect(strip(applyDiff(a, changes))).toEqual(strip(b));
        expect(diff(a, a)).toEqual([]);
        expect(changes.every((c) => c.path === formatPath(c.at))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("over a random edit sequence, every pair of versions diffs and applies both ways", () => {
    fc.assert(
      fc.property(strategy, fc.array(patch, { minLength: 1, maxLength: 8 }), (first, patches) => {
        const versions: Obj[] = [first];
        for (const p of patches) {
          const last = versions.at(-1) as Obj;
          versions.push({ ...last, ...p, version: (last.version as number) + 1 });
        }
        for (let i = 0; i < versions.length; i++) {
          for (let j = 0; j < versions.length; j++) {
            const [a, b] = [versions[i] as Obj, versions[j] as Obj];
            expect(strip(applyDiff(a, diff(a, b)))).toEqual(strip(b));
          }
        }
      }),
    );
  });

  it("names fields as a reader writes them", () => {
    const a = {
      name: "x",
      template: { id: "t", params: { lookback: 10, "a.b": 1 } },
      venues: [{ venue: "v", symbols: ["A"] }],
    };
    const b = {
      name: "y",
      template: { id: "t", params: { lookback: 20 } },
      venues: [{ venue: "v", symbols: ["A", "B"] }],
    };
    expect(diff(a, b)).toEqual([
      { path: "name", at: ["name"], kind: "changed", old: "x", new: "y" },
      { path: 'template.params["a.b"]', at: ["template", "params", "a.b"], kind: "removed", old: 1 },
      { path: "template.params.lookback", at: ["template", "params", "lookback"], kind: "changed", old: 10, new: 20 },
      { path: "venues[0].symbols[1]", at: ["venues", 0, "symbols", 1], kind: "added", new: "B" },
    ]);
  });
});

describe("rollback", () => {
  it("restores exactly the descriptive fields of the old version, and leaves state alone", () => {
    fc.assert(
      fc.property(strategy, fc.array(patch, { minLength: 1, maxLength: 6 }), fc.nat(), (first, patches, pick) => {
        const versions: Obj[] = [first];
        for (const p of patches) {
          const last = versions.at(-1) as Obj;
          versions.push({ ...last, ...p, version: (last.version as number) + 1, state: "active" });
        }
        const current = versions.at(-1) as Obj;
        const old = versions[pick % versions.length] as Obj;
        const p = rollbackPatch(current, old);
        const rolled: Obj = { ...current, ...p, version: (current.version as number) + 1 };
        expect(strip(mutableFieldsOf(rolled))).toEqual(strip(mutableFieldsOf(old)));
        expect(rolled.state).toBe(current.state);
        // Only what differs is sent.
        for (const field of Object.keys(p)) expect(deepEqual(current[field], old[field])).toBe(false);
      }),
    );
  });
});

// A merge field: a top-level field, or a key path through `template` (kept an object here, so
// every side has the same shape and the reference below can list fields by path).
type Edit = { field: string; value: unknown } | { param: string; value: unknown };
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc
    .constantFrom(...MUTABLE_FIELDS.filter((f) => f !== "template"))
    .chain((field) => (fieldValues[field] as fc.Arbitrary<unknown>).map((value) => ({ field, value }))),
  fc.record({ field: fc.constant("template.id"), value: fc.constantFrom("band", "trend") }),
  fc.record({ param: key, value: fc.option(paramValue, { nil: undefined }) }),
);
const withTemplate = strategy.chain((s) => template.map((t) => ({ ...s, template: t })));

function applyEdits(base: Obj, edits: Edit[]): Obj {
  const out = JSON.parse(JSON.stringify(base)) as Obj;
  for (const e of edits) {
    const t = out.template as { id: string; params: Record<string, unknown> };
    if ("param" in e) {
      if (e.value === undefined) delete t.params[e.param];
      else t.params[e.param] = e.value;
    } else if (e.field === "template.id") t.id = e.value as string;
    else out[e.field] = e.value;
  }
  return out;
}

/** Every merge field of a strategy whose template is an object, by path. */
function fieldsByPath(s: Obj): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const f of MUTABLE_FIELDS) if (f !== "template") out.set(f, s[f]);
  const t = s.template as { id: string; version?: number; params: Record<string, unknown> };
  out.set("template.id", t.id);
  out.set("template.version", t.version);
  for (const [k, v] of Object.entries(t.params)) out.set(formatPath(["template", "params", k]), v);
  return out;
}

describe("merge3", () => {
  it("conflicts are exactly the fields changed on both sides differently", () => {
    fc.assert(
      fc.property(withTemplate, fc.array(edit, { maxLength: 5 }), fc.array(edit, { maxLength: 5 }), (base, e1, e2) => {
        const ours = applyEdits(base, e1);
        const theirs = applyEdits(base, e2);
        const [b, o, t] = [fieldsByPath(base), fieldsByPath(ours), fieldsByPath(theirs)];
        const expected = [...new Set([...b.keys(), ...o.keys(), ...t.keys()])].filter(
          (p) => !deepEqual(o.get(p), b.get(p)) && !deepEqual(t.get(p), b.get(p)) && !deepEqual(o.get(p), t.get(p)),
        );
        const { conflicts } = merge3(mutableFieldsOf(base), mutableFieldsOf(ours), mutableFieldsOf(theirs));
        expect(conflicts.map((c) => c.path).sort()).toEqual(expected.sort());
        for (const c of conflicts) {
          expect(c).toEqual({
            path: c.path,
            base: b.get(c.path) ?? null,
            ours: o.get(c.path) ?? null,
            theirs: t.get(c.path) ?? null,
          });
        }
      }),
      { numRuns: 500 },
    );
  });

  it("a clean merge equals applying one side's edits after the other's, in either order", () => {
    fc.assert(
      fc.property(withTemplate, fc.array(edit, { maxLength: 5 }), fc.array(edit, { maxLength: 5 }), (base, e1, e2) => {
        const ours = applyEdits(base, e1);
        const theirs = applyEdits(base, e2);
        const { merged, conflicts } = merge3(mutableFieldsOf(base), mutableFieldsOf(ours), mutableFieldsOf(theirs));
        fc.pre(conflicts.length === 0);
        const oursThenTheirs = applyDiff(mutableFieldsOf(ours), diff(mutableFieldsOf(base), mutableFieldsOf(theirs)));
        const theirsThenOurs = applyDiff(mutableFieldsOf(theirs), diff(mutableFieldsOf(base), mutableFieldsOf(ours)));
        expect(strip(merged)).toEqual(strip(oursThenTheirs));
        expect(strip(merged)).toEqual(strip(theirsThenOurs));
      }),
      { numRuns: 500 },
    );
  });

  it("a branch nobody else touched merges to the branch; an untouched branch changes nothing", () => {
    fc.assert(
      fc.property(withTemplate, fc.array(edit, { maxLength: 5 }), (base, e) => {
        const edited = mutableFieldsOf(applyEdits(base, e));
        const fields = mutableFieldsOf(base);
        expect(merge3(fields, fields, edited)).toEqual({ merged: edited, conflicts: [] });
        expect(merge3(fields, edited, fields)).toEqual({ merged: edited, conflicts: [] });
      }),
    );
  });

  it("lists are one field: both sides adding a tag is a conflict, with all three lists", () => {
    const base = { name: "n", tags: ["a"] };
    const result = merge3(base, { ...base, tags: ["a", "b"] }, { ...base, tags: ["a", "c"], name: "m" });
    expect(result.conflicts).toEqual([{ path: "tags", base: ["a"], ours: ["a", "b"], theirs: ["a", "c"] }]);
  });
});
