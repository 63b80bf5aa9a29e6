import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { History, type ObservedVersion, type OperationKind, type PendingOperation } from "./mod.js";

/**
 * How a simulated operation ends. A write that lands is applied at its linearization point;
 * "refused" ones never are, and neither is a write the state does not allow (a second register,
 * an update of nothing), which the model reports as refused unless its outcome is in doubt.
 */
const Modes = ["ok", "unknown-landed", "unknown-lost", "refused", "pending-landed", "pending-lost"] as const;
type Mode = (typeof Modes)[number];

interface SimulatedOp {
  worker: number;
  kind: OperationKind;
  /** Index of the strategy. */
  strategy: number;
  /** How long before and after its linearization point the operation was invoked and completed. */
  before: number;
  after: number;
  mode: Mode;
  /** An acknowledged write is first sent once in vain (unknown), then again under the same cid. */
  retried: boolean;
}

/**
 * Runs `ops` against a sequential single-copy registry, the i-th taking effect at time 10·i,
 * and records them through {@link History} with a clock that replays each one's times. With
 * `before` and `after` up to 60 ms, up to a dozen operations overlap. The result is
 * linearizable by construction.
 */
function simulate(ops: readonly SimulatedOp[]): { history: History; final: Map<string, { version: number }> } {
  const versions = new Map<string, number>();
  const events: Array<{ at: number; act: () => void }> = [];
  const pending = new Map<number, PendingOperation>();
  let now = 0;
  const history = new History({ now: () => now });
  const attempt = (
    key: number,
    op: SimulatedOp,
    from: number,
    to: number | undefined,
    end: (p: PendingOperation) => void,
    cid?: string,
  ) => {
    const value = op.kind === "read" ? undefined : `w${op.worker}-${key}`;
    events.push({
      at: from,
      act: () => pending.set(key, history.invoke(op.worker, op.kind, `s${op.strategy}`, value, { cid })),
    });
    if (to !== undefined) events.push({ at: to, act: () => end(pending.get(key) as PendingOperation) });
  };
  ops.forEach((op, i) => {
    const at = 10 * i;
    const id = `s${op.strategy}`;
    const current = versions.get(id) ?? 0;
    const completes = op.mode.startsWith("pending") ? undefined : at + op.after;
    if (op.kind === "read") {
      const seen: ObservedVersion = current === 0 ? "absent" : current;
      attempt(2 * i, op, at - op.before, completes, (p) =>
        op.mode === "ok" ? p.ok(seen) : op.mode === "refused" ? p.fail() : p.unknown(),
      );
      return;
    }
    const allowed = op.kind === "register" ? current === 0 : current > 0;
    const lands = allowed && (op.mode === "ok" || op.mode.endsWith("-landed"));
    if (lands) versions.set(id, current + 1);
    if (op.mode === "ok" && allowed && op.retried) {
      const cid = `cid-${i}`;
      // The first send is applied at `at`, after its sender gave up on it; the second, sent even
      // later (when others may have seen the version), is answered from the command's record.
      attempt(2 * i, op, at - op.before, at - op.before + 0.5, (p) => p.unknown(), cid);
      attempt(2 * i + 1, op, at + op.after * 0.75, at + op.after, (p) => p.ok(current + 1), cid);
    } else if (op.mode === "ok" && allowed) {
      attempt(2 * i, op, at - op.before, completes, (p) => p.ok(current + 1));
    } else {
      const inDoubt = op.mode.startsWith("unknown");
      attempt(2 * i, op, at - op.before, completes, (p) => (inDoubt ? p.unknown() : p.fail()));
    }
  });
  events.sort((a, b) => a.at - b.at);
  for (const event of events) {
    now = event.at;
    event.act();
  }
  const final = new Map([...versions].filter(([, v]) => v > 0).map(([id, version]) => [id, { version }]));
  return { history, final };
}

const simulatedOp = (strategies: number): fc.Arbitrary<SimulatedOp> =>
  fc.record({
    worker: fc.nat(7),
    kind: fc.constantFrom<OperationKind>("register", "update", "update", "retire", "read", "read", "read"),
    strategy: fc.nat(strategies - 1),
    before: fc.integer({ min: 1, max: 60 }),
    after: fc.integer({ min: 1, max: 60 }),
    mode: fc.oneof(
      { weight: 6, arbitrary: fc.constant<Mode>("ok") },
      { weight: 1, arbitrary: fc.constantFrom<Mode>(...Modes) },
    ),
    retried: fc.boolean(),
  });

/** A seeded generator (mulberry32), so the large history is the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("History check against a simulated linearizable registry", () => {
  it("passes every history the simulation produces", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(simulatedOp(3), { maxLength: 120 }), async (ops) => {
        const { history, final } = simulate(ops);
        const report = await history.check(final);
        expect(report.problems, report.summary()).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it("finds the lost write when recovery loses the last acknowledged version", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(simulatedOp(2), { minLength: 1, maxLength: 60 }), async (ops) => {
        const { history, final } = simulate(ops);
        const acked = history.operations.filter((op) => op.kind !== "read" && op.outcome === "ok");
        const last = acked.reduce<(typeof acked)[number] | undefined>(
          (top, op) => (top === undefined || (op.version as number) > (top.version as number) ? op : top),
          undefined,
        );
        fc.pre(last !== undefined);
        if (last === undefined) return;
        const version = (last.version as number) - 1;
        if (version === 0) final.delete(last.id);
        else final.set(last.id, { version });
        const report = await history.check(final);
        expect(report.problems.map((p) => p.kind)).toContain("lost-write");
      }),
      { numRuns: 200 },
    );
  });

  it("checks a history of 100 000 operations on 1 000 strategies", async () => {
    const random = seeded(42);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const kinds: OperationKind[] = ["register", "update", "update", "retire", "read", "read", "read"];
    const ops = Array.from(
      { length: 100_000 },
      (): SimulatedOp => ({
        worker: Math.floor(random() * 8),
        kind: pick(kinds),
        strategy: Math.floor(random() * 1_000),
        before: 1 + Math.floor(random() * 60),
        after: 1 + Math.floor(random() * 60),
        mode: random() < 0.85 ? "ok" : pick(Modes),
        retried: random() < 0.1,
      }),
    );
    const { history, final } = simulate(ops);
    const report = await history.check(final);
    expect(report.ok, report.summary()).toBe(true);
    expect(report.stats.operations).toBeGreaterThan(100_000);
    expect(report.stats.ids).toBe(1_000);
  });
});
