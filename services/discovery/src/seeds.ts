/**
 * Where a search starts: besides random trees, the forms that trading rules
 * take (the indicator primitives alpha miners seed with), on the traded series
 * itself, and the scanner's findings turned into rules: a significant leader
 * of the series, a weekday whose mean return is significant. The search
 * breeds from them and competes them against random trees; every seed is a
 * trial like any other candidate, and validation deflates by all of them.
 */
import type { ScanReport } from "./scanner.js";

/** z-score levels the seeds use. */
const LEVELS = [1, 1.5, 2];
/** Windows of the seeds' z-scores (the language's allowed windows). */
const Z_WINDOWS = [5, 10, 20, 50];
/** Look-backs of the seeds' momentum terms (the language's allowed lags). */
const MOMENTUM_LAGS = [1, 2, 3, 5, 10, 20];

const quote = (asset: string) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(asset) ? asset : JSON.stringify(asset));

/** Long when `x` is low (≤ −c), short when high: and its mirror image. */
function bands(x: string, c: number): string[] {
  return [`long_short(lt(${x}, ${-c}), gt(${x}, ${c}))`, `long_short(gt(${x}, ${c}), lt(${x}, ${-c}))`];
}

/** Long while `x` > 0, short while < 0: and its mirror image. */
function sign(x: string): string[] {
  return [`long_short(gt(${x}, 0), lt(${x}, 0))`, `long_short(lt(${x}, 0), gt(${x}, 0))`];
}

/**
 * Seeds for a search trading `asset` (`key` = its `symbol@venue`), from `scan` when given;
 * `nameOf` maps a scanned series key to the asset name the language reads.
 */
export function seedsFor(
  asset: string,
  key: string,
  scan: Pick<ScanReport, "leadLag" | "calendar"> | undefined,
  nameOf: (key: string) => string | undefined,
): string[] {
  const a = quote(asset);
  const seeds: string[] = [];
  for (const leader of scan?.leadLag.filter((f) => f.follower === key && f.lag === 1) ?? []) {
    const name = nameOf(leader.leader);
    if (name !== undefined) seeds.push(...sign(`returns(${quote(name)})`));
  }
  for (const day of scan?.calendar.filter((f) => f.series === key) ?? []) {
    // A bar's return is earned by the position held at the close of the bar before it: the day
    // before (Friday, for a Monday, when weekends have no bars).
    for (const before of day.weekday === 1 ? [0, 5] : [(day.weekday + 6) % 7]) {
      const on = `and(gt(weekday(), ${before - 0.5}), lt(weekday(), ${before + 0.5}))`;
      seeds.push(day.meanReturn > 0 ? `signal(${on})` : `short(${on})`);
    }
  }
  for (const w of Z_WINDOWS) {
    for (const c of LEVELS) {
      seeds.push(...bands(`zscore(close(${a}), ${w})`, c), ...bands(`zscore(returns(${a}), ${w})`, c));
    }
  }
  for (const k of MOMENTUM_LAGS) seeds.push(...sign(`ret(close(${a}), ${k})`));
  return seeds;
}
