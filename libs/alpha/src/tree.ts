/**
 * Type checking and the tree arithmetic the genetic operators need: sizes, depths, node paths,
 * replacing a subtree. Trees are immutable; a replacement copies the spine to the changed node
 * and shares everything else.
 */
import { type Expr, integerSet, isOp, type NodeType, OPS } from "./ast.js";
import { ExpressionError, ExpressionErrorCodes } from "./errors.js";

/** Asset names as they appear in a market; the text form quotes any other name. */
const BARE_ASSET = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** True when an asset name prints without quotes. */
export function isBareAsset(name: string): boolean {
  return BARE_ASSET.test(name);
}

function pathText(path: readonly number[]): string {
  return path.map((i) => `args[${i}]`).join(".");
}

function invalid(path: readonly number[], message: string): ExpressionError {
  const where = pathText(path);
  return new ExpressionError(ExpressionErrorCodes.INVALID, where ? `${where}: ${message}` : message, { path: where });
}

/**
 * Checks that `expr` is a well-formed, well-typed expression (of type `expected` if given) and
 * returns its type. Throws an {@link ExpressionError} (`INVALID_EXPRESSION`) naming the first bad
 * node by its path: an unknown operator, a wrong argument count or type, a lag or window outside
 * its set, a threshold that is not a finite number, an empty asset name, a stray parameter.
 */
export function check(expr: Expr, expected?: NodeType): NodeType {
  const type = checkAt(expr, []);
  if (expected !== undefined && type !== expected) {
    throw invalid([], `expected a ${expected}, got a ${type} (${expr.op})`);
  }
  return type;
}

function checkAt(expr: Expr, path: number[]): NodeType {
  if (typeof expr !== "object" || expr === null) throw invalid(path, "not a node");
  if (typeof expr.op !== "string" || !isOp(expr.op)) throw invalid(path, `unknown operator ${String(expr.op)}`);
  const spec = OPS[expr.op];
  if (!Array.isArray(expr.args) || expr.args.length !== spec.args.length) {
    throw invalid(path, `${expr.op} takes ${spec.args.length} argument(s)`);
  }
  const param: string | undefined = "param" in spec ? spec.param : undefined;
  if ((param === "asset") !== (expr.asset !== undefined)) throw invalid(path, `${expr.op}: asset parameter mismatch`);
  if ((param === "lag" || param === "window") !== (expr.k !== undefined)) {
    throw invalid(path, `${expr.op}: lag/window parameter mismatch`);
  }
  if ((param === "threshold") !== (expr.c !== undefined)) throw invalid(path, `${expr.op}: threshold mismatch`);
  if (param === "asset" && !(typeof expr.asset === "string" && expr.asset.length > 0)) {
    throw invalid(path, `${expr.op}: the asset must be a non-empty name`);
  }
  if ((param === "lag" || param === "window") && !integerSet(param).includes(expr.k as number)) {
    throw invalid(path, `${expr.op}: ${param} must be one of ${integerSet(param).join(", ")}, got ${expr.k}`);
  }
  if (param === "threshold" && !(typeof expr.c === "number" && Number.isFinite(expr.c))) {
    throw invalid(path, `${expr.op}: the threshold must be a finite number, got ${expr.c}`);
  }
  spec.args.forEach((want, i) => {
    path.push(i);
    const got = checkAt(expr.args[i] as Expr, path);
    path.pop();
    if (got !== want) throw invalid([...path, i], `${expr.op} needs a ${want} here, got a ${got}`);
  });
  return spec.type;
}

/** The type of a node, read from its operator (no check of the subtree). */
export function typeOf(expr: Expr): NodeType {
  return OPS[expr.op].type;
}

/** The number of nodes (parameters are part of their node). */
export function size(expr: Expr): number {
  let n = 1;
  for (const arg of expr.args) n += size(arg);
  return n;
}

/** Nodes on the longest path from the root to a leaf: a terminal alone has depth 1. */
export function depth(expr: Expr): number {
  let d = 0;
  for (const arg of expr.args) d = Math.max(d, depth(arg));
  return d + 1;
}

/** A node of a tree with where it is: `path` are child indices from the root. */
export interface Located {
  readonly node: Expr;
  readonly path: readonly number[];
  /** The node's type. */
  readonly type: NodeType;
  /** 1 for the root, 2 for its children, … */
  readonly level: number;
}

/** Every node in pre-order (the root first), with its path, type and level. */
export function nodesOf(expr: Expr): Located[] {
  const out: Located[] = [];
  const walk = (node: Expr, path: number[]): void => {
    out.push({ node, path: [...path], type: OPS[node.op].type, level: path.length + 1 });
    node.args.forEach((arg, i) => {
      path.push(i);
      walk(arg, path);
      path.pop();
    });
  };
  walk(expr, []);
  return out;
}

/** The node at `path`; throws a RangeError when there is none. */
export function nodeAt(expr: Expr, path: readonly number[]): Expr {
  let node = expr;
  for (const i of path) {
    const next = node.args[i];
    if (next === undefined) throw new RangeError(`no node at ${pathText(path)}`);
    node = next;
  }
  return node;
}

/** A copy of `expr` with the node at `path` replaced by `replacement` (unchanged parts shared). */
export function replaceAt(expr: Expr, path: readonly number[], replacement: Expr): Expr {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path as [number, ...number[]];
  const child = expr.args[head];
  if (child === undefined) throw new RangeError(`no node at ${pathText(path)}`);
  const args = expr.args.slice();
  args[head] = replaceAt(child, rest, replacement);
  return { ...expr, args };
}

/** The asset names an expression reads, sorted, each once. */
export function assetsOf(expr: Expr): string[] {
  const names = new Set<string>();
  for (const { node } of nodesOf(expr)) if (node.asset !== undefined) names.add(node.asset);
  return [...names].sort();
}

/** Structural equality of two trees (the same canonical text). */
export function sameExpr(a: Expr, b: Expr): boolean {
  if (a.op !== b.op || a.asset !== b.asset || a.k !== b.k || a.c !== b.c || a.args.length !== b.args.length) {
    return false;
  }
  return a.args.every((arg, i) => sameExpr(arg, b.args[i] as Expr));
}
