/**
 * The search service's index and queries, fed real partition log entries (the
 * bytes a shard appends, read back as the follower reads them): registrations,
 * updates, performance reports and snapshots. What a query returns is checked
 * against what a user would compute by hand: the filter evaluated over every
 * strategy, Sharpe ratios from libs/quant over the very returns reported.
 */
import {
  ErrorCodes,
  encode,
  encodeLogEntry,
  LOG_FORMAT_VERSION,
  type LogEntryHead,
  type LogOp,
  LogOps,
  newStrategy,
  type PerformanceReport,
  partitionOf,
  readLogEntry,
  type SearchHit,
  type SearchQuery,
  type StoredState,
  type Strategy,
  type StrategyInput,
  ValidationError,
} from "@stratreg/protocol";
import { sharpe } from "@stratreg/quant";
import { PerformanceBook } from "@stratreg/replica";
import { compileQuery, QueryError } from "@stratreg/search";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { DEFAULT_LIMIT, runQuery, runSimilar } from "./query.js";
import { StrategyIndex } from "./strategies.js";

const PARTITIONS = 4;
const DAY_MS = 86_400_000;
const START = Date.UTC(2026, 0, 5);

/** A stored strategy as a shard writes it: the registration's defaults, then what the test sets. */
function stored(input: StrategyInput, extra: Partial<Strategy> = {}): Strategy {
  return { ...newStrategy(input, START), ...extra };
}

/** The stored strategy after an accepted change: version bumped, as the shard does. */
function changed(strategy: Strategy, patch: Partial<Strategy>): Strategy {
  return { ...strategy, ...patch, version: strategy.version + 1, updatedAt: strategy.updatedAt + 1 };
}

/** A log entry as a shard appends it, read back from its bytes as the follower does. */
function logEntry(op: LogOp, ids: string[], recs: Uint8Array[], head: Partial<LogEntryHead> = {}) {
  const written = encodeLogEntry(
    { v: LOG_FORMAT_VERSION, op, at: START, member: "shard-0", epoch: 1, ...head },
    ids,
    recs,
  );
  return readLogEntry(written.bytes);
}

const partitionOfId = (id: string) => partitionOf(id, PARTITIONS);

/** Appends one entry of `op` per partition holding any of `strategies` (recs: their stored forms). */
function write(index: StrategyIndex, op: LogOp, strategies: Strategy[]): void {
  const byPartition = new Map<number, Strategy[]>();
  for (const s of strategies)
    byPartition.set(partitionOfId(s.id), [...(byPartition.get(partitionOfId(s.id)) ?? []), s]);
  for (const [partition, batch] of byPartition) {
    const ids = batch.map((s) => s.id);
    index.apply(
      partition,
      logEntry(
        op,
        ids,
        batch.map((s) => encode(s)),
      ),
    );
  }
}

const register = (index: StrategyIndex, strategies: Strategy[]) => write(index, LogOps.RegisterBatch, strategies);
const update = (index: StrategyIndex, strategies: Strategy[]) => write(index, LogOps.Update, strategies);

/** Daily returns from `first` on, as a trading service reports them. */
function report(id: string, seq: number, returns: number[], first = START): PerformanceReport {
  return { id, seq, returns, times: returns.map((_, t) => first + t * DAY_MS) };
}

/** Appends `report` entries: the reports as logged (their ids included), one entry per partition. */
function reportAll(index: StrategyIndex, reports: PerformanceReport[]): void {
  const byPartition = new Map<number, PerformanceReport[]>();
  for (const r of reports) byPartition.set(partitionOfId(r.id), [...(byPartition.get(partitionOfId(r.id)) ?? []), r]);
  for (const [partition, batch] of byPartition) {
    index.apply(
      partition,
      logEntry(
        LogOps.Report,
        batch.map((r) => r.id),
        batch.map((r) => encode(r)),
      ),
    );
  }
}

/** A partition snapshot as a shard saves it: every strategy's stored form, and its performance book. */
function snapshot(strategies: Strategy[], reports: PerformanceReport[]) {
  const book = new PerformanceBook(() => undefined);
  book.applyReports(
    reports.map((r) => r.id),
    reports,
  );
  return logEntry(
    LogOps.Snapshot,
    strategies.map((s) => s.id),
    strategies.map((s) => encode(s)),
    { seq: 42, perf: book.save() },
  );
}

const ids = (hits: SearchHit[]) => hits.map((hit) => hit.id);
const query = (index: StrategyIndex, body: SearchQuery) => runQuery(index, { limit: 1000, ...body });

/**
 * A small desk: two families, three owners, active and candidate strategies,
 * with descriptions a quant would write.
 */
function desk(): Strategy[] {
  return [
    stored(
      {
        id: "mom-eq-1",
        name: "Equity momentum",
        owner: "ann",
        family: "momentum",
        tags: ["equities", "trend"],
        description: "twelve month cross sectional momentum on large caps",
      },
      { state: "active" },
    ),
    stored(
      {
        id: "mom-fut-2",
        name: "Futures trend",
        owner: "bob",
        family: "momentum",
        tags: ["futures", "trend"],
        description: "time series momentum across commodity futures",
      },
      { state: "active" },
    ),
    stored({
      id: "mom-fx-3",
      name: "FX momentum",
      owner: "ann",
      family: "momentum",
      tags: ["fx"],
      description: "currency momentum with volatility scaling",
    }),
    stored(
      {
        id: "rev-eq-1",
        name: "Equity reversion",
        owner: "cyd",
        family: "reversion",
        tags: ["equities"],
        description: "short horizon mean reversion on liquid stocks",
      },
      { state: "suspended" },
    ),
    stored({
      id: "rev-pairs-2",
      name: "Pairs",
      owner: "bob",
      family: "reversion",
      tags: ["equities", "pairs"],
      description: "cointegrated pairs trading with a kalman filter hedge ratio",
    }),
    stored({
      id: "solo-0",
      name: "Basis carry",
      owner: "cyd",
      tags: ["crypto"],
      description: "perpetual funding basis",
    }),
  ];
}

function deskIndex(): StrategyIndex {
  const index = new StrategyIndex(PARTITIONS);
  register(index, desk());
  return index;
}

describe("filters", () => {
  test("AND, OR, NOT and parentheses select what the filter says, in id order", () => {
    const index = deskIndex();
    expect(index.size).toBe(6);
    expect(ids(query(index, { filter: "family = 'momentum'" }).hits)).toEqual(["mom-eq-1", "mom-fut-2", "mom-fx-3"]);
    expect(ids(query(index, { filter: "owner = 'ann' OR owner = 'cyd'" }).hits)).toEqual([
      "mom-eq-1",
      "mom-fx-3",
      "rev-eq-1",
      "solo-0",
    ]);
    expect(ids(query(index, { filter: "NOT family = 'momentum'" }).hits)).toEqual([
      "rev-eq-1",
      "rev-pairs-2",
      "solo-0",
    ]);
    expect(
      ids(query(index, { filter: "(state = 'active' OR owner = 'cyd') AND NOT tags IN ('futures', 'crypto')" }).hits),
    ).toEqual(["mom-eq-1", "rev-eq-1"]);
    expect(ids(query(index, { filter: "state = 'active' AND tags = 'equities'" }).hits)).toEqual(["mom-eq-1"]);
    expect(ids(query(index, { filter: "family IS NULL" }).hits)).toEqual(["solo-0"]);
    expect(query(index, { filter: "owner = 'nobody'" })).toEqual({ hits: [], total: 0, next: null });
  });

  test("no filter and no text: every strategy, in id order", () => {
    const page = query(deskIndex(), {});
    expect(ids(page.hits)).toEqual(["mom-eq-1", "mom-fut-2", "mom-fx-3", "rev-eq-1", "rev-pairs-2", "solo-0"]);
    expect(page.hits[0]).toEqual({ id: "mom-eq-1", version: 1 });
  });

  test("strategies: true returns each strategy as stored", () => {
    const index = deskIndex();
    const page = query(index, { filter: "id = 'rev-pairs-2'", strategies: true });
    expect(page.hits).toEqual([
      { id: "rev-pairs-2", version: 1, strategy: desk().find((s) => s.id === "rev-pairs-2") },
    ]);
  });

  test("a filter that does not parse is INVALID_QUERY, pointing at the fault", () => {
    const index = deskIndex();
    const fault = (filter: string) => {
      try {
        runQuery(index, { filter });
      } catch (err) {
        return err;
      }
      throw new Error(`${filter} was accepted`);
    };
    const typed = fault("state = 'active' AND sharpe > 'high'");
    expect(typed).toBeInstanceOf(QueryError);
    expect(typed).toBeInstanceOf(ValidationError);
    expect(typed).toMatchObject({ code: ErrorCodes.InvalidQuery, field: "body.filter", position: 30, column: 31 });
    expect((typed as QueryError).details).toMatchObject({ position: 30, line: 1, column: 31 });
    expect(fault("owner = ")).toMatchObject({ code: ErrorCodes.InvalidQuery, position: 8 });
    expect(fault("colour = 'red'")).toMatchObject({ code: ErrorCodes.InvalidQuery, position: 0 });
  });
});

describe("ORDER BY a metric", () => {
  /** Four strategies' daily returns: different drifts around one shape. */
  const series = (drift: number) => Array.from({ length: 30 }, (_, t) => drift + ((t * 7) % 11) * 0.002 - 0.01);
  const reported = { "mom-eq-1": series(0.002), "mom-fut-2": series(-0.001), "rev-eq-1": series(0.004) };

  function withReturns(): StrategyIndex {
    const index = deskIndex();
    // Each strategy's returns in two reports, as a trading service sends them day by day.
    reportAll(
      index,
      Object.entries(reported).map(([id, returns]) => report(id, 1, returns.slice(0, 10))),
    );
    reportAll(
      index,
      Object.entries(reported).map(([id, returns]) => report(id, 2, returns.slice(10), START + 10 * DAY_MS)),
    );
    return index;
  }

  test("Sharpe ratios are libs/quant's over the reported returns; ranking best first, unreported last", () => {
    const index = withReturns();
    for (const [id, returns] of Object.entries(reported)) {
      expect(index.docs.get(id)?.metric("sharpe")).toBeCloseTo(sharpe(returns), 10);
    }
    expect(index.docs.get("solo-0")?.metric("sharpe")).toBeNull();
    const expected = Object.entries(reported)
      .map(([id, returns]) => ({ id, score: sharpe(returns) }))
      .sort((a, b) => b.score - a.score)
      .map((e) => e.id);
    expect(expected).toEqual(["rev-eq-1", "mom-eq-1", "mom-fut-2"]);
    expect(ids(query(index, { filter: "ORDER BY sharpe DESC" }).hits)).toEqual([
      ...expected,
      "mom-fx-3",
      "rev-pairs-2",
      "solo-0",
    ]);
    expect(ids(query(index, { filter: "ORDER BY sharpe ASC" }).hits)).toEqual([
      ...[...expected].reverse(),
      "mom-fx-3",
      "rev-pairs-2",
      "solo-0",
    ]);
    const threshold = sharpe(reported["mom-eq-1"]) - 1e-9;
    expect(ids(query(index, { filter: `sharpe > ${threshold} ORDER BY sharpe DESC` }).hits)).toEqual([
      "rev-eq-1",
      "mom-eq-1",
    ]);
    // NOT of a metric comparison holds for strategies without the metric.
    expect(ids(query(index, { filter: `NOT sharpe > ${threshold}` }).hits)).toEqual([
      "mom-fut-2",
      "mom-fx-3",
      "rev-pairs-2",
      "solo-0",
    ]);
  });

  test("a later report gives a strategy its metrics and leaves the others' as they were", () => {
    const index = withReturns();
    const before = index.docs.get("mom-fx-3")?.metric("sharpe");
    expect(before).toBeNull();
    reportAll(index, [report("mom-fx-3", 1, series(0.003))]);
    expect(index.docs.get("mom-fx-3")?.metric("sharpe")).toBeCloseTo(sharpe(series(0.003)), 10);
    expect(index.docs.get("rev-eq-1")?.metric("sharpe")).toBeCloseTo(sharpe(reported["rev-eq-1"]), 10);
  });
});

describe("paging", () => {
  function many(n: number): StrategyIndex {
    const index = new StrategyIndex(PARTITIONS);
    register(
      index,
      Array.from({ length: n }, (_, i) =>
        stored({ id: `s-${String(i).padStart(3, "0")}`, name: `S ${i}`, owner: i % 2 === 0 ? "even" : "odd" }),
      ),
    );
    return index;
  }

  test("limit, offset and next walk every match once; total counts them all", () => {
    const index = many(45);
    const seen: string[] = [];
    let offset: number | null = 0;
    const pages: number[] = [];
    while (offset !== null) {
      const page = runQuery(index, { filter: "owner = 'even'", limit: 10, offset });
      expect(page.total).toBe(23);
      pages.push(page.hits.length);
      seen.push(...ids(page.hits));
      offset = page.next;
    }
    expect(pages).toEqual([10, 10, 3]);
    expect(seen).toEqual(Array.from({ length: 23 }, (_, i) => `s-${String(i * 2).padStart(3, "0")}`));
  });

  test("without a limit a page holds the default; an offset past the end is an empty last page", () => {
    const index = many(45);
    const first = runQuery(index, {});
    expect(first.hits).toHaveLength(DEFAULT_LIMIT);
    expect(first).toMatchObject({ total: 45, next: DEFAULT_LIMIT });
    expect(runQuery(index, { offset: 45 })).toEqual({ hits: [], total: 45, next: null });
    expect(runQuery(index, { offset: 1000, limit: 5 })).toEqual({ hits: [], total: 45, next: null });
  });

  test("the filter's LIMIT caps the total and is the page size unless the request gives one", () => {
    const index = many(45);
    const capped = runQuery(index, { filter: "owner = 'odd' LIMIT 7" });
    expect(capped).toMatchObject({ total: 7, next: null });
    expect(ids(capped.hits)).toEqual(["s-001", "s-003", "s-005", "s-007", "s-009", "s-011", "s-013"]);
    const paged = runQuery(index, { filter: "owner = 'odd' LIMIT 7", limit: 3, offset: 3 });
    expect(paged).toMatchObject({ total: 7, next: 6 });
    expect(ids(paged.hits)).toEqual(["s-007", "s-009", "s-011"]);
    const last = runQuery(index, { filter: "owner = 'odd' LIMIT 7", limit: 3, offset: 6 });
    expect(last).toMatchObject({ total: 7, next: null });
    expect(ids(last.hits)).toEqual(["s-013"]);
    // A LIMIT above the matches caps nothing.
    expect(runQuery(index, { filter: "owner = 'odd' LIMIT 500" })).toMatchObject({ total: 22, next: null });
  });

  test("pages of an ordered query are slices of the whole order", () => {
    const index = many(30);
    const all = ids(query(index, { filter: "ORDER BY name DESC" }).hits);
    expect(all).toHaveLength(30);
    const page = runQuery(index, { filter: "ORDER BY name DESC", limit: 4, offset: 8 });
    expect(ids(page.hits)).toEqual(all.slice(8, 12));
  });
});

describe("full text", () => {
  test("finds the words in name, description, tags and owner, most relevant first, with scores", () => {
    const index = deskIndex();
    const page = query(index, { text: "momentum" });
    // A name weighs most: two names say momentum; Futures trend says it only in its description.
    expect(new Set(ids(page.hits))).toEqual(new Set(["mom-eq-1", "mom-fx-3", "mom-fut-2"]));
    expect(ids(page.hits).at(-1)).toBe("mom-fut-2");
    const scores = page.hits.map((hit) => hit.score as number);
    expect(scores.every((score) => score > 0)).toBe(true);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(page.total).toBe(3);
    expect(ids(query(index, { text: "kalman" }).hits)).toEqual(["rev-pairs-2"]);
    expect(ids(query(index, { text: "crypto" }).hits)).toEqual(["solo-0"]);
  });

  test("a typo still finds the word unless fuzzy is off", () => {
    const index = deskIndex();
    expect(ids(query(index, { text: "cointegratd" }).hits)).toEqual(["rev-pairs-2"]);
    expect(ids(query(index, { text: "cointegratd", fuzzy: false }).hits)).toEqual([]);
    expect(query(index, { text: "zzzzqqq" })).toEqual({ hits: [], total: 0, next: null });
  });

  test("a filter narrows the text matches; ORDER BY replaces relevance", () => {
    const index = deskIndex();
    const narrowed = query(index, { text: "momentum", filter: "owner = 'ann'" });
    expect(new Set(ids(narrowed.hits))).toEqual(new Set(["mom-eq-1", "mom-fx-3"]));
    expect(narrowed.total).toBe(2);
    expect(narrowed.hits.every((hit) => typeof hit.score === "number")).toBe(true);
    expect(ids(query(index, { text: "momentum", filter: "ORDER BY id DESC" }).hits)).toEqual([
      "mom-fx-3",
      "mom-fut-2",
      "mom-eq-1",
    ]);
    expect(ids(query(index, { text: "momentum", filter: "state = 'active'", limit: 1 }).hits)).toHaveLength(1);
  });

  test("an update's new words are found and its old words no longer are", () => {
    const index = deskIndex();
    const pairs = desk().find((s) => s.id === "rev-pairs-2") as Strategy;
    update(index, [changed(pairs, { description: "statistical arbitrage on sector baskets" })]);
    expect(ids(query(index, { text: "kalman" }).hits)).toEqual([]);
    expect(ids(query(index, { text: "baskets" }).hits)).toEqual(["rev-pairs-2"]);
  });
});

describe("updates keep the inverted maps right", () => {
  test("a strategy moved to another family, state, owner and tags is found only under the new ones", () => {
    const index = deskIndex();
    const fx = desk().find((s) => s.id === "mom-fx-3") as Strategy;
    const moved = changed(fx, { family: "carry", state: "active", owner: "cyd", tags: ["fx", "carry"] });
    update(index, [moved]);
    expect(ids(query(index, { filter: "family = 'momentum'" }).hits)).toEqual(["mom-eq-1", "mom-fut-2"]);
    expect(ids(query(index, { filter: "family = 'carry'" }).hits)).toEqual(["mom-fx-3"]);
    expect(ids(query(index, { filter: "state = 'active'" }).hits)).toEqual(["mom-eq-1", "mom-fut-2", "mom-fx-3"]);
    expect(ids(query(index, { filter: "state = 'candidate'" }).hits)).toEqual(["rev-pairs-2", "solo-0"]);
    expect(ids(query(index, { filter: "owner = 'ann'" }).hits)).toEqual(["mom-eq-1"]);
    expect(ids(query(index, { filter: "tags = 'carry' AND owner = 'cyd'" }).hits)).toEqual(["mom-fx-3"]);
    expect(query(index, { filter: "id = 'mom-fx-3'" }).hits).toEqual([{ id: "mom-fx-3", version: 2 }]);

    // Back out of any family, then retired: the old values find nothing.
    const retired = changed(moved, { family: null, state: "retired" });
    update(index, [retired]);
    expect(ids(query(index, { filter: "family = 'carry'" }).hits)).toEqual([]);
    expect(ids(query(index, { filter: "state = 'retired'" }).hits)).toEqual(["mom-fx-3"]);
    expect(ids(query(index, { filter: "family IS NULL" }).hits)).toEqual(["mom-fx-3", "solo-0"]);
  });

  test("epoch entries and entries of kinds this build does not know change nothing", () => {
    const index = deskIndex();
    index.apply(0, logEntry(LogOps.Epoch, [], []));
    index.apply(1, logEntry("compact" as LogOp, ["solo-0"], [encode({ junk: true })]));
    expect(index.size).toBe(6);
    expect(ids(query(index, { filter: "owner = 'cyd'" }).hits)).toEqual(["rev-eq-1", "solo-0"]);
  });

  const STATES: StoredState[] = ["candidate", "active", "suspended", "retired"];
  const OWNERS = ["ann", "bob", "cyd"];
  const FAMILIES = ["momentum", "carry", null];
  const TAGS = ["fx", "equities", "crypto", "trend"];
  const FIELDS = { state: STATES, owner: OWNERS, family: ["momentum", "carry", "none"], tags: TAGS };

  const fieldsArb = fc.record({
    state: fc.constantFrom(...STATES),
    owner: fc.constantFrom(...OWNERS),
    family: fc.constantFrom(...FAMILIES),
    tags: fc.uniqueArray(fc.constantFrom(...TAGS), { maxLength: 3 }),
  });

  const equality = fc.constantFrom(...(Object.keys(FIELDS) as Array<keyof typeof FIELDS>)).chain((field) =>
    fc.oneof(
      fc.constantFrom(...FIELDS[field]).map((value) => `${field} = '${value}'`),
      fc
        .uniqueArray(fc.constantFrom(...FIELDS[field]), { minLength: 1, maxLength: 3 })
        .map((values) => `${field} IN (${values.map((v) => `'${v}'`).join(", ")})`),
    ),
  );
  /** An equality or IN, maybe negated, maybe ORed with another: some narrow by index, some must be scanned. */
  const term = fc.oneof(
    { weight: 4, arbitrary: equality },
    { weight: 1, arbitrary: equality.map((e) => `NOT ${e}`) },
    { weight: 1, arbitrary: fc.tuple(equality, equality).map(([a, b]) => `(${a} OR ${b})`) },
  );
  const filterArb = fc.array(term, { minLength: 1, maxLength: 3 }).map((terms) => terms.join(" AND "));

  test("narrowing by the inverted maps gives what a full scan of every strategy gives, through updates", () => {
    fc.assert(
      fc.property(
        fc.array(fieldsArb, { minLength: 1, maxLength: 30 }),
        fc.array(fc.tuple(fc.nat(), fieldsArb), { maxLength: 20 }),
        fc.array(filterArb, { minLength: 1, maxLength: 5 }),
        (initial, changes, filters) => {
          const index = new StrategyIndex(PARTITIONS);
          const current = new Map<string, Strategy>();
          const strategies = initial.map((fields, i) => stored({ id: `p-${i}`, name: `P ${i}`, owner: "x" }, fields));
          register(index, strategies);
          for (const s of strategies) current.set(s.id, s);
          for (const [pick, fields] of changes) {
            const before = strategies[pick % strategies.length] as Strategy;
            const after = changed(current.get(before.id) as Strategy, fields);
            update(index, [after]);
            current.set(after.id, after);
          }
          for (const filter of filters) {
            const compiled = compileQuery(filter);
            const expected = [...current.values()]
              .filter((strategy) => compiled.filter({ strategy, metric: () => null }))
              .map((s) => s.id)
              .sort();
            const page = query(index, { filter });
            expect(ids(page.hits), filter).toEqual(expected);
            expect(page.total).toBe(expected.length);
            for (const hit of page.hits) expect(hit.version).toBe(current.get(hit.id)?.version);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("a partition restored from a snapshot", () => {
  test("replaces everything the partition held, its performance included, and leaves other partitions alone", () => {
    const index = deskIndex();
    const kept = "rev-eq-1";
    const partition = partitionOfId(kept);
    const returns = Array.from({ length: 25 }, (_, t) => ((t * 5) % 9) * 0.003 - 0.01);
    reportAll(index, [report(kept, 1, returns)]);
    const held = desk().filter((s) => partitionOfId(s.id) === partition);
    const elsewhere = desk().filter((s) => partitionOfId(s.id) !== partition);
    const gone = held.filter((s) => s.id !== kept);
    expect(gone.length).toBeGreaterThan(1);
    expect(elsewhere.length).toBeGreaterThan(1);

    // The snapshot holds a newer rev-eq-1 with other returns, and a strategy this replica never saw.
    let fresh = "new-0";
    for (let i = 1; partitionOfId(fresh) !== partition; i++) fresh = `new-${i}`;
    const newer = changed(held.find((s) => s.id === kept) as Strategy, { family: "trend", tags: ["rebuilt"] });
    const arrival = stored({
      id: fresh,
      name: "Volatility harvest",
      owner: "dan",
      family: "volatility",
      description: "sells variance swaps",
    });
    const otherReturns = returns.map((r) => r * 2 + 0.001);
    index.restore(partition, snapshot([newer, arrival], [report(kept, 1, otherReturns), report(fresh, 1, returns)]));

    expect(new Set(index.docs.keys())).toEqual(new Set([...elsewhere.map((s) => s.id), kept, fresh]));
    expect(ids(query(index, {}).hits)).toEqual([...elsewhere.map((s) => s.id), fresh, kept].sort());
    expect(ids(query(index, { filter: "family = 'momentum'" }).hits)).toEqual(
      elsewhere.filter((s) => s.family === "momentum").map((s) => s.id),
    );
    expect(ids(query(index, { filter: "family = 'reversion'" }).hits)).toEqual([]);
    expect(ids(query(index, { filter: "family = 'trend'" }).hits)).toEqual([kept]);
    expect(ids(query(index, { filter: "owner = 'dan'" }).hits)).toEqual([fresh]);
    expect(query(index, { filter: `id = '${kept}'` }).hits).toEqual([{ id: kept, version: 2 }]);
    // Metrics come from the snapshot's book.
    expect(index.docs.get(kept)?.metric("sharpe")).toBeCloseTo(sharpe(otherReturns), 10);
    expect(index.docs.get(fresh)?.metric("sharpe")).toBeCloseTo(sharpe(returns), 10);
    // Full text and content know the new set only.
    expect(ids(query(index, { text: "variance" }).hits)).toEqual([fresh]);
    for (const strategy of gone) {
      expect(ids(query(index, { text: strategy.name }).hits)).not.toContain(strategy.id);
      expect(ids(runSimilar(index, { text: strategy.description, k: 50 }).hits)).not.toContain(strategy.id);
    }
  });

  test("a strategy the snapshot no longer holds is no longer similar by returns; one it holds keeps its returns", () => {
    const index = deskIndex();
    const partition = partitionOfId("mom-fut-2");
    expect(partitionOfId("mom-eq-1")).not.toBe(partition);
    const wave = Array.from({ length: 30 }, (_, t) => Math.sin(t * 1.3) * 0.01);
    reportAll(index, [
      report("mom-eq-1", 1, wave),
      report(
        "mom-fut-2",
        1,
        wave.map((r) => r * 2),
      ),
      report(
        "rev-eq-1",
        1,
        wave.map((r) => r + 0.001),
      ),
    ]);
    expect(ids(runSimilar(index, { id: "mom-eq-1", by: "returns" }).hits).sort()).toEqual(["mom-fut-2", "rev-eq-1"]);
    const rev = desk().find((s) => s.id === "rev-eq-1") as Strategy;
    expect(partitionOfId(rev.id)).toBe(partition);
    index.restore(
      partition,
      snapshot(
        [rev],
        [
          report(
            "rev-eq-1",
            1,
            wave.map((r) => r + 0.001),
          ),
        ],
      ),
    );
    expect(index.docs.has("mom-fut-2")).toBe(false);
    expect(ids(runSimilar(index, { id: "mom-eq-1", by: "returns" }).hits)).toEqual(["rev-eq-1"]);
    expect(index.behaviour.size).toBe(2);
  });

  test("restored with no snapshot (an empty partition), it holds nothing", () => {
    const index = deskIndex();
    const partition = partitionOfId("rev-pairs-2");
    index.restore(partition, undefined);
    const left = desk().filter((s) => partitionOfId(s.id) !== partition);
    expect(ids(query(index, {}).hits)).toEqual(left.map((s) => s.id));
    expect(ids(query(index, { text: "kalman" }).hits)).toEqual([]);
  });
});

describe("similar", () => {
  test("by content: a near-duplicate ranks first", () => {
    const index = deskIndex();
    const base = desk().find((s) => s.id === "rev-pairs-2") as Strategy;
    register(index, [
      stored({
        id: "rev-pairs-copy",
        name: "Pairs II",
        owner: "ann",
        family: "reversion",
        tags: ["equities", "pairs"],
        description: "cointegrated pairs trading with a kalman filter hedge ratio, rebalanced daily",
      }),
    ]);
    const reply = runSimilar(index, { id: base.id, k: 3 });
    expect(reply.by).toBe("content");
    expect(reply.hits[0]).toMatchObject({ id: "rev-pairs-copy", version: 1 });
    expect(ids(reply.hits)).not.toContain(base.id);
    expect(reply.hits).toHaveLength(3);
    const scores = reply.hits.map((hit) => hit.score as number);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    // Like a text: the strategies that say it.
    expect(ids(runSimilar(index, { text: "kalman filter pairs", k: 2 }).hits).sort()).toEqual([
      "rev-pairs-2",
      "rev-pairs-copy",
    ]);
  });

  test("by returns: the strategy whose returns move with it over shared days ranks first", () => {
    const index = deskIndex();
    const wave = Array.from({ length: 40 }, (_, t) => Math.sin(t * 1.3) * 0.01 + ((t * 7) % 5) * 0.001);
    const noise = Array.from({ length: 40 }, (_, t) => (((t * 37) % 17) - 8) * 0.001);
    reportAll(index, [
      report("mom-eq-1", 1, wave),
      // The same moves scaled, plus a little of their own, from ten days later.
      report(
        "mom-fut-2",
        1,
        wave.slice(10).map((r, t) => 2 * r + (noise[t] as number) * 0.1),
        START + 10 * DAY_MS,
      ),
      report("rev-eq-1", 1, noise),
      // Two days only: too few shared periods to count.
      report("solo-0", 1, wave.slice(0, 2)),
    ]);
    const reply = runSimilar(index, { id: "mom-eq-1", by: "returns" });
    expect(reply.by).toBe("returns");
    expect(reply.hits[0]).toMatchObject({ id: "mom-fut-2", version: 1, overlap: 30 });
    expect(reply.hits[0]?.score).toBeGreaterThan(0.95);
    expect(ids(reply.hits)).toEqual(["mom-fut-2", "rev-eq-1"]);
    expect(reply.hits[1]?.score).toBeLessThan(0.5);
    expect(runSimilar(index, { id: "mom-fx-3", by: "returns" }).hits).toEqual([]);
  });

  test("an unknown id is NOT_FOUND", () => {
    const index = deskIndex();
    expect(() => runSimilar(index, { id: "nope" })).toThrow(expect.objectContaining({ code: ErrorCodes.NotFound }));
    expect(() => runSimilar(index, { id: "nope", by: "returns" })).toThrow(
      expect.objectContaining({ code: ErrorCodes.NotFound }),
    );
  });

  test("both or neither of id and text, or returns like a text, is INVALID_FIELD", () => {
    const index = deskIndex();
    const invalid = expect.objectContaining({ code: ErrorCodes.InvalidField, field: "body.id" });
    expect(() => runSimilar(index, {})).toThrow(invalid);
    expect(() => runSimilar(index, { id: "solo-0", text: "basis" })).toThrow(invalid);
    expect(() => runSimilar(index, { text: "basis", by: "returns" })).toThrow(invalid);
    expect(() => runSimilar(index, { text: "basis", by: "returns" })).toThrow(ValidationError);
  });
});
