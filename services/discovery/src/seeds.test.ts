/**
 * The seeds a search starts from: strategies the language accepts on the traded series, plus the
 * scanner's findings for that series turned into rules.
 */
import { assetsOf, check, parse, print } from "@stratreg/alpha";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { ScanReport } from "./scanner.js";
import { seedsFor } from "./seeds.js";

type Findings = Pick<ScanReport, "leadLag" | "calendar">;

const NO_FINDINGS: Findings = { leadLag: [], calendar: [] };
const names = new Map([
  ["AAA@V1", "AAA"],
  ["BBB@V2", "BBB"],
  ["CCC@V3", "CCC"],
]);
const nameOf = (key: string) => names.get(key);

function expectStrategies(seeds: readonly string[]): void {
  for (const seed of seeds) {
    const expr = parse(seed, "position");
    expect(check(expr, "position")).toBe("position");
  }
}

/** The seeds `withScan` adds to those without a scan. */
function added(withScan: readonly string[], without: readonly string[]): string[] {
  return withScan.filter((s) => !without.includes(s));
}

const leadLag = (leader: string, follower: string, lag: number, correlation: number) => ({
  leader,
  follower,
  lag,
  correlation,
});
const weekday = (series: string, day: number, meanReturn: number) => ({
  series,
  weekday: day,
  meanReturn,
  t: Math.sign(meanReturn) * 5,
});

describe("without a scan", () => {
  const seeds = seedsFor("AAA", "AAA@V1", undefined, nameOf);

  test("every seed parses and is a strategy on the traded series alone", () => {
    expect(seeds.length).toBeGreaterThan(0);
    expectStrategies(seeds);
    for (const seed of seeds) expect(assetsOf(parse(seed))).toEqual(["AAA"]);
  });

  test("the seeds are distinct, and each is in canonical text", () => {
    expect(new Set(seeds).size).toBe(seeds.length);
    for (const seed of seeds) expect(print(parse(seed))).toBe(seed);
  });

  test("an empty scan adds nothing", () => {
    expect(seedsFor("AAA", "AAA@V1", NO_FINDINGS, nameOf)).toEqual(seeds);
  });

  test("both directions of each rule: a band trade and its mirror, a momentum sign and its mirror", () => {
    expect(seeds).toContain("long_short(lt(zscore(close(AAA), 20), -2), gt(zscore(close(AAA), 20), 2))");
    expect(seeds).toContain("long_short(gt(zscore(close(AAA), 20), 2), lt(zscore(close(AAA), 20), -2))");
    expect(seeds).toContain("long_short(gt(ret(close(AAA), 5), 0), lt(ret(close(AAA), 5), 0))");
    expect(seeds).toContain("long_short(lt(ret(close(AAA), 5), 0), gt(ret(close(AAA), 5), 0))");
  });
});

describe("lead-lag findings", () => {
  const without = seedsFor("BBB", "BBB@V2", undefined, nameOf);

  test("a leader of the target at lag 1 adds its return's sign rules, both ways", () => {
    const seeds = seedsFor(
      "BBB",
      "BBB@V2",
      { ...NO_FINDINGS, leadLag: [leadLag("AAA@V1", "BBB@V2", 1, 0.12)] },
      nameOf,
    );
    expectStrategies(seeds);
    expect(added(seeds, without)).toEqual([
      "long_short(gt(returns(AAA), 0), lt(returns(AAA), 0))",
      "long_short(lt(returns(AAA), 0), gt(returns(AAA), 0))",
    ]);
  });

  test("findings about other followers, at other lags, or of leaders with no name add nothing", () => {
    const scan: Findings = {
      ...NO_FINDINGS,
      leadLag: [
        leadLag("AAA@V1", "CCC@V3", 1, 0.2),
        leadLag("AAA@V1", "BBB@V2", 2, 0.2),
        leadLag("ZZZ@V9", "BBB@V2", 1, 0.2),
      ],
    };
    expect(seedsFor("BBB", "BBB@V2", scan, nameOf)).toEqual(without);
  });

  test("every leader at lag 1 adds its rules", () => {
    const scan: Findings = {
      ...NO_FINDINGS,
      leadLag: [leadLag("CCC@V3", "BBB@V2", 1, -0.2), leadLag("AAA@V1", "BBB@V2", 1, 0.1)],
    };
    const extra = added(seedsFor("BBB", "BBB@V2", scan, nameOf), without);
    expect(extra).toHaveLength(4);
    expect(extra.flatMap((s) => assetsOf(parse(s)))).toEqual(["CCC", "CCC", "AAA", "AAA"]);
  });
});

describe("weekday findings", () => {
  const without = seedsFor("AAA", "AAA@V1", undefined, nameOf);
  const dayRule = (side: "signal" | "short", day: number) =>
    `${side}(and(gt(weekday(), ${day - 0.5}), lt(weekday(), ${day + 0.5})))`;

  test("a Monday that rises seeds holding long through the bar before it: Friday's, or Sunday's", () => {
    const seeds = seedsFor("AAA", "AAA@V1", { ...NO_FINDINGS, calendar: [weekday("AAA@V1", 1, 0.004)] }, nameOf);
    expectStrategies(seeds);
    expect(added(seeds, without)).toEqual([dayRule("signal", 0), dayRule("signal", 5)]);
  });

  test.each([
    [2, 1],
    [3, 2],
    [4, 3],
    [5, 4],
    [6, 5],
    [0, 6],
  ])("a falling weekday %i seeds a short held on weekday %i", (day, before) => {
    const seeds = seedsFor("AAA", "AAA@V1", { ...NO_FINDINGS, calendar: [weekday("AAA@V1", day, -0.003)] }, nameOf);
    expectStrategies(seeds);
    expect(added(seeds, without)).toEqual([dayRule("short", before)]);
  });

  test("the seeded rule holds exactly the day before: true on it, false on the days around it", () => {
    const [seed] = added(
      seedsFor("AAA", "AAA@V1", { ...NO_FINDINGS, calendar: [weekday("AAA@V1", 4, 0.002)] }, nameOf),
      without,
    );
    const condition = parse(seed as string).args[0];
    const [above, below] = condition?.args ?? [];
    const holds = (d: number) => d > (above?.c as number) && d < (below?.c as number);
    expect([0, 1, 2, 3, 4, 5, 6].filter(holds)).toEqual([3]);
  });

  test("a finding about another series adds nothing", () => {
    expect(seedsFor("AAA", "AAA@V1", { ...NO_FINDINGS, calendar: [weekday("BBB@V2", 3, 0.01)] }, nameOf)).toEqual(
      without,
    );
  });
});

describe("asset names that need quoting", () => {
  test("a traded asset named by its symbol@venue key stays parseable and reads that asset", () => {
    const seeds = seedsFor("BRK_B@X", "BRK_B@X", undefined, () => undefined);
    expectStrategies(seeds);
    for (const seed of seeds) expect(assetsOf(parse(seed))).toEqual(["BRK_B@X"]);
  });

  test("a leader whose name needs quoting stays parseable and reads that leader", () => {
    const keys = new Map([
      ["BTC@Coin Base", "BTC@Coin Base"],
      ["ETH@Coin Base", "ETH@Coin Base"],
    ]);
    const scan: Findings = {
      leadLag: [leadLag("BTC@Coin Base", "ETH@Coin Base", 1, 0.1)],
      calendar: [weekday("ETH@Coin Base", 1, -0.01)],
    };
    const seeds = seedsFor("ETH@Coin Base", "ETH@Coin Base", scan, (k) => keys.get(k));
    expectStrategies(seeds);
    const read = new Set(seeds.flatMap((s) => assetsOf(parse(s))));
    expect(read).toEqual(new Set(["ETH@Coin Base", "BTC@Coin Base"]));
    expect(seeds).toContain('long_short(gt(returns("BTC@Coin Base"), 0), lt(returns("BTC@Coin Base"), 0))');
  });

  test("any asset name gives seeds that parse back to that name", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 12 }),
        fc.string({ minLength: 1, maxLength: 12 }),
        (asset, leader) => {
          const scan: Findings = { leadLag: [leadLag("L", "T", 1, 0.1)], calendar: [weekday("T", 3, 0.01)] };
          const seeds = seedsFor(asset, "T", scan, (k) => (k === "L" ? leader : undefined));
          expectStrategies(seeds);
          for (const seed of seeds) {
            for (const name of assetsOf(parse(seed))) expect([asset, leader]).toContain(name);
          }
          expect(seeds.some((s) => assetsOf(parse(s)).includes(leader))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
