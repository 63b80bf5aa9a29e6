/**
 * Strategy synthesis: new candidates made from two discovered strategies that
 * trade the same series, which then go through the same validation as mined
 * ones (and count as trials of it).
 * - Ensembles join the parents' conditions: both long conditions must hold
 *   (`and`), either may (`or`), or one parent's long condition with the other's
 *   short one (`long_short`).
 * - Crossover splices a subtree of one parent into the other (the genetic
 *   operator of the search, libs/alpha), both ways.
 */
import { crossover, type Expr, parse, print, Rng } from "@stratreg/alpha";

/** A discovered strategy synthesis may combine. */
export interface SynthesisParent {
  id: string;
  expression: string;
  target: string;
}

/** A child of two parents, with how it was made. */
export interface SynthesisChild {
  expression: string;
  target: string;
  parents: [string, string];
  how: "and" | "or" | "long-short" | "crossover";
}

/** The long and short conditions of a position expression (undefined where it has none). */
function sides(expr: Expr): { long: Expr | undefined; short: Expr | undefined } {
  switch (expr.op) {
    case "signal":
      return { long: expr.args[0], short: undefined };
    case "short":
      return { long: undefined, short: expr.args[0] };
    case "long_short":
      return { long: expr.args[0], short: expr.args[1] };
    default:
      return { long: undefined, short: undefined };
  }
}

function join(op: "and" | "or", a: Expr | undefined, b: Expr | undefined): Expr | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return { op, args: [a, b] };
}

function position(long: Expr | undefined, short: Expr | undefined): Expr | undefined {
  if (long !== undefined && short !== undefined) return { op: "long_short", args: [long, short] };
  if (long !== undefined) return { op: "signal", args: [long] };
  if (short !== undefined) return { op: "short", args: [short] };
  return undefined;
}

/** Ensembles of two position expressions: their conditions joined by `and`, by `or`, and long-one/short-other. */
export function ensembles(a: Expr, b: Expr): Array<{ expr: Expr; how: SynthesisChild["how"] }> {
  const x = sides(a);
  const y = sides(b);
  const out: Array<{ expr: Expr; how: SynthesisChild["how"] }> = [];
  const both = position(join("and", x.long, y.long), join("and", x.short, y.short));
  if (both !== undefined) out.push({ expr: both, how: "and" });
  const either = position(join("or", x.long, y.long), join("or", x.short, y.short));
  if (either !== undefined) out.push({ expr: either, how: "or" });
  // One's long side with the other's short side, both ways round.
  if (x.long !== undefined && y.short !== undefined) {
    out.push({ expr: { op: "long_short", args: [x.long, y.short] }, how: "long-short" });
  }
  if (y.long !== undefined && x.short !== undefined) {
    out.push({ expr: { op: "long_short", args: [y.long, x.short] }, how: "long-short" });
  }
  return out;
}

/**
 * The children of every pair of `parents` trading one series: ensembles and
 * two crossovers each, distinct, none equal to a parent, at most `max` in all.
 * Deterministic for a seed. Parents whose text does not parse are left out.
 */
export function synthesise(
  parents: readonly SynthesisParent[],
  options: { seed: number; assets: readonly string[]; maxDepth: number; max: number },
): SynthesisChild[] {
  const rng = new Rng(options.seed);
  const parsed = parents.flatMap((p) => {
    try {
      return [{ ...p, expr: parse(p.expression) }];
    } catch {
      return [];
    }
  });
  const seen = new Set(parsed.map((p) => `${p.target}|${print(p.expr)}`));
  const children: SynthesisChild[] = [];
  const add = (expr: Expr, target: string, ids: [string, string], how: SynthesisChild["how"]) => {
    const expression = print(expr);
    const key = `${target}|${expression}`;
    if (seen.has(key) || children.length >= options.max) return;
    seen.add(key);
    children.push({ expression, target, parents: ids, how });
  };
  const grammar = { assets: options.assets, maxDepth: options.maxDepth + 1 };
  for (let i = 0; i < parsed.length; i++) {
    for (let j = i + 1; j < parsed.length; j++) {
      const a = parsed[i] as (typeof parsed)[number];
      const b = parsed[j] as (typeof parsed)[number];
      if (a.target !== b.target) continue;
      const ids: [string, string] = [a.id, b.id];
      for (const { expr, how } of ensembles(a.expr, b.expr)) add(expr, a.target, ids, how);
      add(crossover(a.expr, b.expr, rng, grammar), a.target, ids, "crossover");
      add(crossover(b.expr, a.expr, rng, grammar), a.target, [b.id, a.id], "crossover");
    }
  }
  return children;
}
