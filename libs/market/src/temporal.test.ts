import { describe, expect, test } from "vitest";
import type { BarSeries } from "./bars.js";
import { DAY_MS, HOUR_MS } from "./calendar.js";
import { generateMarket } from "./generator.js";
import { calendarProfile } from "./temporal.js";

describe("calendarProfile", () => {
  // On the default 10,000 hourly bars a planted hour with a Sharpe ratio of 2 has t ≈ 2·√(10,000/1,764) ≈ 4.8
  // give or take 1, next to 41 other buckets of noise: 30,000 bars make the test decisive (t ≈ 8).
  test("a planted hour-of-day effect stands out in its hour, and only there", () => {
    const market = generateMarket({
      seed: 1,
      mode: "planted",
      planted: ["calendar"],
      bars: 30_000,
      sharpe: [2, 2],
      barMs: HOUR_MS,
    });
    const pattern = market.planted[0];
    if (pattern === undefined) throw new Error("no pattern");
    for (const series of market.series) {
      const profile = calendarProfile(series, "hour");
      expect(profile.count.reduce((a, c) => a + c, 0)).toBe(series.length - 1);
      for (let hour = 0; hour < 24; hour++) {
        if (hour < 14 || hour >= 21) expect(profile.count[hour]).toBe(0);
        const t = profile.tStat[hour] as number;
        if (series.key === pattern.rule.target && hour === pattern.rule.at) {
          expect(Math.sign(t)).toBe(pattern.rule.sign);
          expect(Math.abs(t)).toBeGreaterThan(4);
        } else if (!Number.isNaN(t)) expect(Math.abs(t)).toBeLessThan(3.5);
      }
    }
  });

  test("a planted weekday effect on daily bars", () => {
    const market = generateMarket({ seed: 3, mode: "planted", planted: ["calendar"], barMs: DAY_MS });
    const pattern = market.planted[0];
    const target = market.series.find((s) => s.key === pattern?.rule.target) as BarSeries;
    const profile = calendarProfile(target, "weekday");
    expect(profile.count[0]).toBe(0);
    expect(profile.count[6]).toBe(0);
    const at = pattern?.rule.at as number;
    expect(Math.sign(profile.tStat[at] as number)).toBe(pattern?.rule.sign);
    expect(Math.abs(profile.tStat[at] as number)).toBeGreaterThan(4);
    for (let day = 1; day <= 5; day++) if (day !== at) expect(Math.abs(profile.tStat[day] as number)).toBeLessThan(3.5);
  });

  test("a random walk has no calendar effect", () => {
    const market = generateMarket({ seed: 5, barMs: HOUR_MS });
    for (const series of market.series) {
      for (const t of calendarProfile(series, "hour").tStat)
        if (!Number.isNaN(t)) expect(Math.abs(t)).toBeLessThan(3.5);
    }
  });
});
