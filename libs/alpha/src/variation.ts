/**
 * The genetic operators. Each takes trees and a seeded generator and returns a new tree that is
 * well typed and no deeper than the grammar allows: material only ever moves between nodes of
 * the same type, and a regrown subtree gets exactly the depth left at its place.
 */
import { type Expr, integerSet, OP_NAMES, OPS } from "./ast.js";
import { checkGrammar, type GrammarOptions, MIN_DEPTH, randomExpr, thresholdsFor } from "./generate.js";
import type { Rng } from "./rng.js";
import { depth, type Located, nodesOf, replaceAt, sameExpr } from "./tree.js";

/** Chance that crossover cuts at an operator rather than a terminal (Koza's 90%). */
const INTERNAL_CUT = 0.9;

/**
 * Subtree crossover, the splice: a random node of `a` (not its root) is replaced by a subtree of
 * `b` of the same type that fits in the depth left there. The child keeps `a`'s spine and
 * carries a piece of `b`. Cuts are taken at operators 90% of the time (terminals are most of
 * the nodes and swapping them moves little). When no cut of `a` has a compatible, different
 * piece of `b`, the child is `a`.
 */
export function crossover(a: Expr, b: Expr, rng: Rng, options: GrammarOptions): Expr {
  checkGrammar(options);
  const cuts = nodesOf(a).filter((n) => n.level > 1);
  const pieces = nodesOf(b).map((n) => ({ ...n, depth: depth(n.node) }));
  const internal = cuts.filter((n) => n.node.args.length > 0);
  const leaves = cuts.filter((n) => n.node.args.length === 0);
  const first = internal.length > 0 && (leaves.length === 0 || rng.chance(INTERNAL_CUT)) ? internal : leaves;
  const order = [...rng.shuffle(first), ...rng.shuffle(first === internal ? leaves : internal)];
  for (const cut of order) {
    const room = options.maxDepth - cut.level + 1;
    const fitting = pieces.filter((p) => p.type === cut.type && p.depth <= room && !sameExpr(p.node, cut.node));
    if (fitting.length > 0) return replaceAt(a, cut.path, rng.pick(fitting).node);
  }
  return a;
}

/**
 * Point mutation: one node's operator swapped for another of the same signature (`sma` for
 * `ema`, `gt` for `lt`, `close` for `volume`), or a terminal's asset for another. Undefined when
 * no node has an alternative.
 */
export function pointMutation(expr: Expr, rng: Rng, options: GrammarOptions): Expr | undefined {
  const alternatives = (node: Expr) => OP_NAMES.filter((op) => op !== node.op && OPS[op].group === OPS[node.op].group);
  const candidates = nodesOf(expr).filter(
    (n) => alternatives(n.node).length > 0 || (n.node.asset !== undefined && options.assets.length > 1),
  );
  if (candidates.length === 0) return undefined;
  const { node, path } = rng.pick(candidates);
  const ops = alternatives(node);
  if (node.asset !== undefined && options.assets.length > 1 && (ops.length === 0 || rng.chance(0.5))) {
    return replaceAt(expr, path, { ...node, asset: rng.pick(options.assets.filter((a) => a !== node.asset)) });
  }
  return replaceAt(expr, path, { ...node, op: rng.pick(ops) });
}

/** Subtree mutation: a random node regrown ("grow") within the depth left at its place. */
export function subtreeMutation(expr: Expr, rng: Rng, options: GrammarOptions): Expr {
  checkGrammar(options);
  const { path, type, level } = rng.pick(nodesOf(expr));
  const room = Math.max(options.maxDepth - level + 1, MIN_DEPTH[type]);
  return replaceAt(expr, path, randomExpr(rng, type, room, "grow", options));
}

/** Rounds a mutated threshold to 4 significant digits, so texts stay short and −0 is 0. */
function tidy(c: number): number {
  return Number(c.toPrecision(4)) + 0;
}

/**
 * Constant mutation: a lag or window moved to a neighbour in its set, or a threshold scaled by
 * up to ±10% (a threshold of 0 moves to a neighbouring sensible value instead, as scaling would
 * leave it where it is). Undefined when the tree has no parameter to move.
 */
export function constantMutation(expr: Expr, rng: Rng): Expr | undefined {
  const candidates = nodesOf(expr).filter((n) => n.node.k !== undefined || n.node.c !== undefined);
  if (candidates.length === 0) return undefined;
  const { node, path } = rng.pick(candidates);
  if (node.k !== undefined) {
    const spec = OPS[node.op];
    const set = integerSet("param" in spec && spec.param === "lag" ? "lag" : "window");
    const at = set.indexOf(node.k);
    const step = at === 0 ? 1 : at === set.length - 1 ? -1 : rng.chance(0.5) ? 1 : -1;
    return replaceAt(expr, path, { ...node, k: set[at + step] as number });
  }
  const c = node.c as number;
  if (c !== 0) return replaceAt(expr, path, { ...node, c: tidy(c * (1 + 0.2 * (rng.next() - 0.5))) });
  const sensible = [...thresholdsFor(node.args[0] as Expr), 0].filter((v) => v !== 0).sort((x, y) => x - y);
  const below = sensible.filter((v) => v < 0);
  const above = sensible.filter((v) => v > 0);
  const near = [below[below.length - 1], above[0]].filter((v): v is number => v !== undefined);
  const next = near.length > 0 ? rng.pick(near) : rng.pick([-0.1, 0.1]);
  return replaceAt(expr, path, { ...node, c: next });
}

/**
 * Hoist mutation: a node replaced by one of its own descendants of the same type, a smaller
 * tree with a piece of the same idea (the classic remedy for bloat). Undefined when no node has
 * such a descendant.
 */
export function hoistMutation(expr: Expr, rng: Rng): Expr | undefined {
  const nodes = nodesOf(expr);
  const below = (n: Located): Located[] =>
    nodesOf(n.node)
      .filter((d) => d.path.length > 0 && d.type === n.type)
      .map((d) => ({ ...d, path: [...n.path, ...d.path] }));
  const candidates = nodes.filter((n) => below(n).length > 0);
  if (candidates.length === 0) return undefined;
  const top = rng.pick(candidates);
  return replaceAt(expr, top.path, rng.pick(below(top)).node);
}

/** The kinds of mutation and their default weights. */
export interface MutationWeights {
  point: number;
  subtree: number;
  constant: number;
  hoist: number;
}

/** Point 0.3, subtree 0.3, constant 0.25, hoist 0.15. */
export const DEFAULT_MUTATION_WEIGHTS: Readonly<MutationWeights> = Object.freeze({
  point: 0.3,
  subtree: 0.3,
  constant: 0.25,
  hoist: 0.15,
});

/**
 * One mutation of a kind drawn by `weights`; when that kind does not apply to the tree, the
 * others are tried in weighted order. Subtree mutation always applies.
 */
export function mutate(
  expr: Expr,
  rng: Rng,
  options: GrammarOptions,
  weights: MutationWeights = DEFAULT_MUTATION_WEIGHTS,
): Expr {
  const kinds = (Object.keys(weights) as (keyof MutationWeights)[]).filter((kind) => weights[kind] > 0);
  if (kinds.length === 0) throw new RangeError("mutation weights must have a positive entry");
  const remaining = [...kinds];
  while (remaining.length > 0) {
    const total = remaining.reduce((sum, kind) => sum + weights[kind], 0);
    let draw = rng.next() * total;
    let kind = remaining[remaining.length - 1] as keyof MutationWeights;
    for (const candidate of remaining) {
      draw -= weights[candidate];
      if (draw < 0) {
        kind = candidate;
        break;
      }
    }
    remaining.splice(remaining.indexOf(kind), 1);
    const child =
      kind === "point"
        ? pointMutation(expr, rng, options)
        : kind === "subtree"
          ? subtreeMutation(expr, rng, options)
          : kind === "constant"
            ? constantMutation(expr, rng)
            : hoistMutation(expr, rng);
    if (child !== undefined) return child;
  }
  return expr;
}
