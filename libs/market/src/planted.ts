/**
 * Planted patterns: which edges the synthetic market hides, the rule that earns each, and what
 * that rule is expected to earn. The generator (generator.ts) adds the edges as it writes prices.
 *
 * Every kind is planted the same way: the target's return over bar j gets an extra
 * κ·σ_j·position_j, where position_j ∈ {−1, 0, +1} is the pattern's ideal rule's position over
 * bar j (computed by `RuleStepper` from closes before bar j, so it is known before the bar's
 * noise is drawn), σ_j the target's true volatility over bar j and κ the edge in units of it;
 * for momentum only in trending regimes. The rule's return over bar j is then
 * position_j·(κσ_j·position_j + σ_j·u_j), u_j fresh unit noise.
 *
 * Mean reversion is planted in every regime: confined to some, its own edge pulls the price back
 * before the z-score reaches the threshold, the rule fires less where the edge is, and the edge
 * needed for a Sharpe ratio of 2 on daily bars grows past anything realistic.
 */
import type { CalendarSlots } from "./calendar.js";
import type { PatternRule } from "./rules.js";

/** Kinds of planted pattern, in the order a count of them is drawn from. */
export const PatternKinds = ["lead-lag", "mean-reversion", "momentum", "calendar", "threshold"] as const;
/** One of `PatternKinds`. */
export type PatternKind = (typeof PatternKinds)[number];

/** Regimes in which a planted edge is present (the ideal rule trades in all of them). */
export type ActiveIn = "always" | "trending";

/** A pattern planted in a synthetic market, described so that a miner's finding can be checked against it. */
export interface PlantedPattern {
  /** `P1`, `P2`, … in the order planted. */
  id: string;
  kind: PatternKind;
  /** The target: the series whose returns carry the edge. */
  symbol: string;
  venue: string;
  /** In words, with the rule's numbers. */
  description: string;
  /** The ideal rule, replayable with `evaluateRule`. */
  rule: PatternRule;
  /** Regimes with the edge. */
  activeIn: ActiveIn;
  /** κ: the edge's expected return per active bar, in units of the target's volatility over that bar. */
  edge: number;
  /** The annualised Sharpe ratio asked for, drawn from the `sharpe` range. */
  targetSharpe: number;
  /**
   * The annualised Sharpe ratio the ideal rule is expected to earn before costs on this market:
   * mean(m) / √(mean(p²σ² + m²) − mean(m)²) · √A over bars 1 … n − 1, m_j = p_j²·κσ_j·active_j
   * (its expected return over bar j) and p_j²σ_j² its noise variance. Only the noise u is left out
   * of this figure, so the realised Sharpe ratio differs from it by sampling error, about √(A/n).
   */
  expectedSharpe: number;
  /** The same with the expected return net of the rule's costs at the target's venue (`evaluateRule`'s cost model). */
  expectedNetSharpe: number;
}

/** A pattern before its edge is sized. */
export interface PatternDraft {
  kind: PatternKind;
  rule: PatternRule;
  activeIn: ActiveIn;
  targetSharpe: number;
  /** Series index of the target and of the feature's source. */
  target: number;
  source: number;
}

function pick<T>(values: readonly T[], next: () => number): T {
  return values[Math.floor(next() * values.length)] as T;
}

/**
 * Drafts of `kinds` on series `keys`: distinct targets drawn at random, and each lead-lag source
 * drawn from the series that are nobody's target, so a source carries no edge of its own.
 */
export function draftPatterns(
  kinds: readonly PatternKind[],
  keys: readonly string[],
  slots: CalendarSlots,
  sharpeRange: readonly [number, number],
  next: () => number,
): PatternDraft[] {
  const needed = kinds.length + (kinds.includes("lead-lag") ? 1 : 0);
  if (keys.length < needed) {
    throw new RangeError(`${kinds.length} planted patterns need at least ${needed} symbols, got ${keys.length}`);
  }
  const order = keys.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const k = Math.floor(next() * (i + 1));
    [order[i], order[k]] = [order[k] as number, order[i] as number];
  }
  const free = order.slice(kinds.length);
  return kinds.map((kind, p) => {
    const target = order[p] as number;
    const key = keys[target] as string;
    const targetSharpe = sharpeRange[0] + next() * (sharpeRange[1] - sharpeRange[0]);
    const base = { source: key, target: key, lag: 1, horizon: 1, threshold: 0, window: 1 };
    switch (kind) {
      case "lead-lag": {
        const source = pick(free, next);
        const rule: PatternRule = {
          ...base,
          feature: "return",
          source: keys[source] as string,
          lag: pick([1, 2], next),
          sign: pick([1, -1] as const, next),
        };
        return { kind, rule, activeIn: "always", targetSharpe, target, source };
      }
      case "mean-reversion": {
        const rule: PatternRule = {
          ...base,
          feature: "zscore",
          window: pick([10, 20, 30], next),
          threshold: pick([1.25, 1.5], next),
          sign: -1,
        };
        return { kind, rule, activeIn: "always", targetSharpe, target, source: target };
      }
      case "momentum": {
        const rule: PatternRule = { ...base, feature: "momentum", window: pick([5, 10, 20], next), sign: 1 };
        return { kind, rule, activeIn: "trending", targetSharpe, target, source: target };
      }
      case "calendar": {
        const rule: PatternRule = {
          ...base,
          feature: slots.daily ? "weekday" : "hour",
          at: pick(slots.daily ? slots.weekdays : slots.hours, next),
          sign: pick([1, -1] as const, next),
        };
        return { kind, rule, activeIn: "always", targetSharpe, target, source: target };
      }
      case "threshold": {
        const rule: PatternRule = {
          ...base,
          feature: "return-zscore",
          window: pick([20, 50], next),
          threshold: 1.5,
          sign: pick([1, -1] as const, next),
        };
        return { kind, rule, activeIn: "always", targetSharpe, target, source: target };
      }
    }
    throw new RangeError(`unknown pattern kind ${kind}`);
  });
}

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/** The pattern in words, with its numbers. */
export function describePattern(draft: PatternDraft, edge: number): string {
  const { rule } = draft;
  const k = edge.toPrecision(3);
  const where =
    draft.activeIn === "always" ? "in every regime" : `in ${draft.activeIn} regimes only (the rule trades in all)`;
  const dir = rule.sign > 0 ? "with" : "against";
  switch (draft.kind) {
    case "lead-lag":
      return `${rule.target} ${rule.sign > 0 ? "follows" : "moves against"} ${rule.source} ${rule.lag} bar${rule.lag > 1 ? "s" : ""} later: over bar t its expected return is ${rule.sign > 0 ? "" : "−"}${k}·σ·sign(return of ${rule.source} over bar t − ${rule.lag}), σ its volatility over bar t, ${where}`;
    case "mean-reversion":
      return `${rule.target} reverts to its ${rule.window}-bar moving average: after a close ${rule.threshold} sample standard deviations or more from the average, the next bar's expected return is ${k}·σ against the deviation, ${where}`;
    case "momentum":
      return `${rule.target} continues its last ${rule.window}-bar move: the next bar's expected return is ${k}·σ in the direction of close[t − 1] / close[t − 1 − ${rule.window}] − 1, ${where}`;
    case "calendar":
      return rule.feature === "hour"
        ? `${rule.target} drifts ${rule.sign > 0 ? "up" : "down"} in bars opening in the ${rule.at}:00 UTC hour: their expected return is ${rule.sign > 0 ? "" : "−"}${k}·σ, ${where}`
        : `${rule.target} drifts ${rule.sign > 0 ? "up" : "down"} on ${WEEKDAYS[rule.at as number]}s (UTC): their expected return is ${rule.sign > 0 ? "" : "−"}${k}·σ, ${where}`;
    case "threshold":
      return `${rule.target} after an unusual bar: when a return is ${rule.threshold} or more standard deviations (of the ${rule.window} returns before it) from their mean, the next bar's expected return is ${k}·σ ${dir} that move, ${where}`;
  }
}

/**
 * Sums over bars 1 … n − 1 that fix the ideal rule's expected Sharpe ratio for an edge κ:
 * mean return κ·edgeSum/N, second moment (noiseSum + κ²·edgeSquares)/N.
 */
export interface EdgeMoments {
  count: number;
  /** Σ p²σ·active: the mean return per unit κ, times N. */
  edgeSum: number;
  /** Σ p²σ²·active. */
  edgeSquares: number;
  /** Σ p²σ²: the noise variance. */
  noiseSum: number;
}

/** `EdgeMoments` of positions p and volatilities σ, `active` saying where the edge is present. */
export function edgeMoments(positions: Float64Array, sigma: Float64Array, active: Uint8Array): EdgeMoments {
  let edgeSum = 0;
  let edgeSquares = 0;
  let noiseSum = 0;
  for (let j = 1; j < positions.length; j++) {
    const p2 = (positions[j] as number) ** 2;
    const s = sigma[j] as number;
    noiseSum += p2 * s * s;
    if (active[j] === 1) {
      edgeSum += p2 * s;
      edgeSquares += p2 * s * s;
    }
  }
  return { count: positions.length - 1, edgeSum, edgeSquares, noiseSum };
}

/** The largest edge planted, in units of the target's volatility: beyond it a pattern is a giveaway. */
export const MAX_EDGE = 1;

/**
 * κ for which the ideal rule's expected per-period Sharpe ratio is `s`, at most `MAX_EDGE`:
 * solves κP / √(Q + κ²B − κ²P²) = s with P, Q, B the per-bar means of edgeSum, noiseSum and
 * edgeSquares. When no κ gets there (a rule that trades rarely has a ceiling of about
 * √(a / (1 − a)) per period, a the fraction of bars it trades) or it would take more, `MAX_EDGE`.
 */
export function edgeFor(s: number, moments: EdgeMoments): number {
  const n = moments.count;
  const P = moments.edgeSum / n;
  const Q = moments.noiseSum / n;
  const B = moments.edgeSquares / n;
  const denominator = P * P * (1 + s * s) - s * s * B;
  if (!(P > 0 && denominator > 0)) return MAX_EDGE;
  return Math.min(MAX_EDGE, Math.sqrt((s * s * Q) / denominator));
}

/**
 * The expected annualised Sharpe ratio (`PlantedPattern.expectedSharpe`), or its net form when
 * `costs` holds each bar's expected cost (bar-indexed).
 */
export function expectedSharpeOf(
  positions: Float64Array,
  sigma: Float64Array,
  active: Uint8Array,
  edge: number,
  periodsPerYear: number,
  costs?: Float64Array,
): number {
  const n = positions.length - 1;
  let sum = 0;
  let squares = 0;
  for (let j = 1; j <= n; j++) {
    const p = positions[j] as number;
    const s = sigma[j] as number;
    const m = (active[j] === 1 ? edge * s * p * p : 0) - (costs === undefined ? 0 : (costs[j] as number));
    sum += m;
    squares += p * p * s * s + m * m;
  }
  const mean = sum / n;
  return (mean / Math.sqrt(squares / n - mean * mean)) * Math.sqrt(periodsPerYear);
}
