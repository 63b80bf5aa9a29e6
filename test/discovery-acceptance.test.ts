/**
 * Discovery judged as its users would judge it, on synthetic markets whose truth is known: whole
 * discovery runs (scan, genetic search on worker threads over the train window, the validation
 * screen, validation on the test window, one pattern per bet) in this process.
 * - On a market with ten planted patterns of known edge it recovers at least eight, each found
 *   pattern betting as the planted rule does, and the estimates' stated 90 % intervals hold what
 *   the planted rules earned over the same test bars (at most two near misses).
 * - On pure random walks it stays silent: across 60 seeded runs, the share of runs that would
 *   publish anything, with its 95 % Clopper–Pearson upper bound, is at most 5 %.
 * Runs are budgeted in generations, not time, so the outcome does not depend on the machine's load;
 * they use one worker thread (the pool's answers equal the in-process ones), leaving the other core
 * to the test files that run beside them.
 */
import { parse } from "@stratreg/alpha";
import { discoverOffline, marketFromData, positionsOf } from "@stratreg/discovery";
import { align, evaluateRule, generateMarket } from "@stratreg/market";
import { correlation, sharpe } from "@stratreg/quant";
import { describe, expect, test } from "vitest";
import { clopperPearsonUpper } from "./support/discovery.js";

/** Held-out positions of a found pattern whose |correlation| with the planted rule's reaches this recover it. */
const RECOVERED = 0.5;

describe("discovery on a market with ten planted patterns", () => {
  test("recovers at least eight, with estimates whose intervals hold what the planted rules earned", async () => {
    const market = generateMarket({ seed: 3, bars: 10_000, symbols: 12, planted: 10 });
    expect(market.planted).toHaveLength(10);
    const { result, found } = await discoverOffline(market.series, {
      seed: 3,
      population: 200,
      generations: 12,
      fees: market.fees,
      threads: 1,
    });
    expect(result.aborted).toBe(false);
    expect(result.series).toHaveLength(12);

    const data = align(market.series);
    const full = marketFromData(data);
    const n = data.t.length;
    const { trainEnd, validationEnd } = found[0]?.report.splits
      ? { trainEnd: found[0].report.splits.train.to, validationEnd: found[0].report.splits.validation.to }
      : { trainEnd: Math.floor(n / 2), validationEnd: Math.floor((3 * n) / 4) };
    const recovered: string[] = [];
    const misses: string[] = [];
    for (const planted of market.planted) {
      const venue = planted.rule.target.split("@")[1] as string;
      const rule = evaluateRule(planted.rule, data, {
        costs: market.fees[venue],
        periodsPerYear: market.periodsPerYear,
      });
      // The rule's position at bar j earns bar j's return; a pattern's at bar i earns bar i + 1's.
      const ruleHeldOut = rule.positions.subarray(trainEnd + 1);
      const best = found
        .filter((d) => d.target === planted.rule.target)
        .map((d) => ({
          draft: d,
          rho: correlation(positionsOf(parse(d.expression), full).subarray(trainEnd, n - 1), ruleHeldOut),
        }))
        .sort((a, b) => b.rho - a.rho)[0];
      if (best === undefined || best.rho < RECOVERED) continue;
      recovered.push(planted.rule.target);
      expect(best.draft.report.passed).toBe(true);
      // What the planted rule earned, net of the same fees, over the test bars the estimate comes from.
      const earned = sharpe(rule.returns.subarray(validationEnd - 1), { periodsPerYear: market.periodsPerYear });
      const [lo, hi] = best.draft.report.estimate.sharpeInterval as [number, number];
      expect(best.draft.report.estimate.level).toBe(0.9);
      if (earned >= lo && earned <= hi) continue;
      const what = `${planted.description}: ${best.draft.expression} [${lo}, ${hi}] missed ${earned}`;
      misses.push(what);
      // A miss is a near one: within half the interval's width of it.
      expect(Math.min(Math.abs(earned - lo), Math.abs(earned - hi)), what).toBeLessThanOrEqual((hi - lo) / 2);
    }
    // A 90 % interval misses one time in ten, and a found pattern is not the rule to the letter:
    // three or more misses in eight or more would happen by chance about one time in twenty.
    expect(misses.length, misses.join("\n")).toBeLessThanOrEqual(2);
    expect(recovered.length).toBeGreaterThanOrEqual(8);
    // Nothing is published on the two series where nothing was planted.
    const plantedTargets = new Set(market.planted.map((p) => p.rule.target));
    expect(found.filter((d) => !plantedTargets.has(d.target))).toEqual([]);
  }, 900_000);
});

describe("discovery on pure random walks", () => {
  test("publishes in at most 5 % of runs (95 % upper bound over 60 seeded runs)", async () => {
    const runs = 60;
    let publishing = 0;
    let screened = 0;
    for (let seed = 1; seed <= runs; seed++) {
      const market = generateMarket({ seed: 1000 + seed, bars: 4000, symbols: 3, mode: "random-walk" });
      const { result, found } = await discoverOffline(market.series, {
        seed,
        population: 100,
        generations: 8,
        fees: market.fees,
        threads: 1,
      });
      expect(result.evaluated).toBeGreaterThan(500);
      screened += result.screened;
      if (found.length > 0) publishing++;
    }
    const upper = clopperPearsonUpper(publishing, runs);
    expect(publishing / runs).toBeLessThanOrEqual(0.05);
    expect(
      upper,
      `${publishing} of ${runs} runs published; ${screened} candidates passed the screen`,
    ).toBeLessThanOrEqual(0.05);
  }, 900_000);
});
