/**
 * How a validation check is judged and written: the figure, its threshold, the comparison and
 * the verdict, with a note saying where the figure came from. Figures go on the wire, so an
 * undefined one is null and fails its check.
 */
import {
  type RegimeResult,
  type ValidationCheck,
  type ValidationCheckName,
  ValidationCheckNames,
  type ValidationComparison,
} from "@stratreg/protocol";
import { passesGate } from "@stratreg/quant";

/** x, or null when it is not finite; −0 becomes 0, which is what msgpack would make of it anyway. */
export function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x + 0 : null;
}

/** A figure for a note: four significant digits. */
export function show(x: number | null): string {
  return x === null ? "undefined" : String(Number(x.toPrecision(4)));
}

/**
 * A check's verdict: `value comparison threshold` by @stratreg/quant's `passesGate`, so a figure
 * sitting on its threshold passes or fails as the registry's gate would; null never passes.
 */
export function judged(
  name: ValidationCheckName,
  value: number | null,
  comparison: ValidationComparison,
  threshold: number | null,
  note?: string,
): ValidationCheck {
  const passed = value !== null && threshold !== null && passesGate(value, comparison, threshold);
  return note === undefined
    ? { name, value, threshold, comparison, passed }
    : { name, value, threshold, comparison, passed, note };
}

/**
 * The lenient regimes check: the best Sharpe ratio among the regimes long enough to judge (a
 * non-null Sharpe ratio) > 0. A real edge may live in some regimes only (planted momentum pays
 * only while the market trends), so one profitable regime is enough; every regime's figure is
 * in the report for a reader who wants more.
 */
export function regimesCheck(regimes: readonly RegimeResult[], minPeriods: number): ValidationCheck {
  const counted = regimes.filter((r) => r.sharpe !== null);
  let best: RegimeResult | undefined;
  for (const r of counted) if (best === undefined || (r.sharpe as number) > (best.sharpe as number)) best = r;
  const note =
    best === undefined
      ? `no regime has ${minPeriods} held-out periods with a Sharpe ratio`
      : `best of ${counted.length} regime(s) with ${minPeriods}+ periods: ${best.regime}; ` +
        "one profitable regime is enough (an edge may live in some regimes only)";
  return judged(ValidationCheckNames.Regimes, best?.sharpe ?? null, ">", 0, note);
}
