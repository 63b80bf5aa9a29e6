/**
 * A run's bookkeeping and lineage, on a synthetic market with one planted mean reversion:
 * synthesis combines two registered halves of the pattern (one buys the dips, the other sells
 * the rallies) into the whole bet, validates it, and hands it on with both as parents and the
 * series' family; a run records each series it mined; an aborted run says so.
 */
import { generateMarket } from "@stratreg/market";
import type { CandidateMessage, ValidationReport } from "@stratreg/protocol";
import { describe, expect, test } from "vitest";
import { discoverOffline } from "./offline.js";
import { familyOf, periodsPerYear } from "./pipeline.js";

const market = generateMarket({ seed: 7, bars: 4000, symbols: 2, planted: ["mean-reversion"], sharpe: [3, 3.5] });
const target = market.planted[0]?.rule.target as string;
const symbol = target.split("@")[0] as string;

function registered(id: string, expression: string): CandidateMessage {
  return {
    id,
    runId: "earlier",
    origin: "mined",
    expression,
    target,
    family: familyOf(target),
    parents: [],
    report: { passed: true } as unknown as ValidationReport,
    at: 0,
  };
}

describe("synthesis", () => {
  test("joins two registered halves of a bet into the whole one, with both as parents", async () => {
    const dips = registered("disc-dips", `signal(lt(zscore(close(${symbol}), 20), -1.5))`);
    const rallies = registered("disc-rallies", `short(gt(zscore(close(${symbol}), 20), 1.5))`);
    const { result, found } = await discoverOffline(market.series, {
      seed: 1,
      population: 20,
      generations: 1,
      synthesis: true,
      fees: market.fees,
      registered: [dips, rallies],
    });
    const children = found.filter((d) => d.origin === "synthesised");
    expect(children.length).toBeGreaterThan(0);
    const whole = children.find((d) => d.parents.includes("disc-dips") && d.parents.includes("disc-rallies"));
    expect(whole, JSON.stringify(children.map((c) => c.expression))).toBeDefined();
    expect(whole).toMatchObject({ target, family: familyOf(target) });
    expect(whole?.report.passed).toBe(true);
    expect(whole?.summary).toContain("synthesised");
    expect(result.series.map((s) => s.target).sort()).toEqual(market.series.map((s) => s.key).sort());
  }, 120_000);
});

describe("a run", () => {
  test("with no budget left mines nothing", async () => {
    const { result, found } = await discoverOffline(market.series, {
      seed: 1,
      population: 20,
      generations: 1,
      budgetMs: 0,
    });
    expect(result.series).toEqual([]);
    expect(found).toEqual([]);
    expect(result.evaluated).toBe(0);
  });

  test("annualises by the bars a trading day holds", () => {
    const day = 86_400_000;
    expect(periodsPerYear(Float64Array.from([0, day, 2 * day, 3 * day]))).toBe(252);
    const hourly = Float64Array.from({ length: 70 }, (_, i) => Math.floor(i / 7) * day + (i % 7) * 3_600_000);
    expect(periodsPerYear(hourly)).toBe(252 * 7);
  });
});
