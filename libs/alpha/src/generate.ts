/**
 * Random typed trees: the genetic search's first generation and the material of subtree
 * mutation. Every tree is well typed by construction: a node of type T is grown only from
 * operators returning T, and only from those that can still be completed within the depth left
 * (a condition needs two levels, a position three).
 */
import { type Expr, LAGS, type NodeType, OP_NAMES, OPS, type Op, WINDOWS } from "./ast.js";
import type { Rng } from "./rng.js";
import { print } from "./text.js";

/** What every generated tree must respect. */
export interface GrammarOptions {
  /** Asset names the terminals may read (the traded asset among them, usually). */
  readonly assets: readonly string[];
  /** Largest depth of a tree; the root is level 1, so a strategy needs at least 3. */
  readonly maxDepth: number;
}

/** The fewest levels a tree of each type needs: a terminal, a comparison on it, a position on that. */
export const MIN_DEPTH: Readonly<Record<NodeType, number>> = Object.freeze({ series: 1, bool: 2, position: 3 });

function opMinDepth(op: Op): number {
  return 1 + Math.max(0, ...OPS[op].args.map((type) => MIN_DEPTH[type]));
}

/** The operators that can head a tree of `type` within `levels` levels. */
export function eligibleOps(type: NodeType, levels: number): Op[] {
  return OP_NAMES.filter((op) => OPS[op].type === type && opMinDepth(op) <= levels);
}

const LOOK_THROUGH = new Set<Op>(["lag", "sma", "ema", "max", "min"]);

/**
 * Thresholds that mean something for a series, by what it is: RSI levels, z-score levels, between
 * hours, between weekdays, return sizes, ratios around 1, differences around 0. Lags, averages and extremes
 * keep the scale of what they read, so they are looked through. A raw price has no threshold
 * that means anything across assets; it gets the generic small values and relies on selection.
 */
export function thresholdsFor(x: Expr): readonly number[] {
  if (LOOK_THROUGH.has(x.op)) return thresholdsFor(x.args[0] as Expr);
  switch (x.op) {
    case "rsi":
      return [20, 30, 40, 50, 60, 70, 80];
    case "zscore":
      return [-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2];
    // Hours and weekdays are whole numbers: a threshold between two of them means the same
    // whatever its exact value, so a small change to it (validation perturbs every constant)
    // does not move a day or an hour across it.
    case "hour":
      return Array.from({ length: 23 }, (_, h) => h + 0.5);
    case "weekday":
      return [0.5, 1.5, 2.5, 3.5, 4.5, 5.5];
    case "returns":
    case "ret":
      return [-0.02, -0.01, -0.005, 0, 0.005, 0.01, 0.02];
    case "div":
      return [0.5, 0.9, 0.95, 1, 1.05, 1.1, 1.5, 2];
    case "sub":
      return [0];
    default:
      return [-1, -0.5, 0, 0.5, 1];
  }
}

/** Throws a RangeError unless the grammar has an asset and room for a strategy. */
export function checkGrammar(options: GrammarOptions): void {
  if (options.assets.length === 0) throw new RangeError("the grammar needs at least one asset");
  if (!(Number.isInteger(options.maxDepth) && options.maxDepth >= MIN_DEPTH.position)) {
    throw new RangeError(`maxDepth must be an integer ≥ ${MIN_DEPTH.position}, got ${options.maxDepth}`);
  }
}

/**
 * A random tree of `type` at most `levels` deep. "grow" picks among every operator that fits, so
 * branches stop at random; "full" picks operators with arguments while it can, so every branch
 * runs to the depth limit (as far as the types allow).
 */
export function randomExpr(
  rng: Rng,
  type: NodeType,
  levels: number,
  method: "grow" | "full",
  options: Pick<GrammarOptions, "assets">,
): Expr {
  const eligible = eligibleOps(type, levels);
  if (eligible.length === 0) throw new RangeError(`no ${type} fits in ${levels} level(s)`);
  const branching = eligible.filter((op) => OPS[op].args.length > 0);
  const op = rng.pick(method === "full" && branching.length > 0 ? branching : eligible);
  const spec = OPS[op];
  const args = spec.args.map((argType) => randomExpr(rng, argType, levels - 1, method, options));
  const param = "param" in spec ? spec.param : undefined;
  switch (param) {
    case "asset":
      return { op, args, asset: rng.pick(options.assets) };
    case "lag":
      return { op, args, k: rng.pick(LAGS) };
    case "window":
      return { op, args, k: rng.pick(WINDOWS) };
    case "threshold":
      return { op, args, c: rng.pick(thresholdsFor(args[0] as Expr)) };
    default:
      return { op, args };
  }
}

/**
 * Koza's ramped half-and-half: `size` strategies with depth limits spread evenly from 3 to
 * `maxDepth`, half grown and half full, so the first generation holds shapes of every size.
 * Duplicates (by canonical text) are redrawn a few times; a small grammar may still repeat.
 */
export function rampedHalfAndHalf(size: number, rng: Rng, options: GrammarOptions): Expr[] {
  checkGrammar(options);
  const depths = options.maxDepth - MIN_DEPTH.position + 1;
  const seen = new Set<string>();
  const out: Expr[] = [];
  for (let i = 0; i < size; i++) {
    const levels = MIN_DEPTH.position + (Math.floor(i / 2) % depths);
    const method = i % 2 === 0 ? "grow" : "full";
    let expr = randomExpr(rng, "position", levels, method, options);
    for (let retry = 0; retry < 10 && seen.has(print(expr)); retry++) {
      expr = randomExpr(rng, "position", levels, method, options);
    }
    seen.add(print(expr));
    out.push(expr);
  }
  return out;
}
