/**
 * Field-level differences between two states of a strategy, and applying them.
 * Values are msgpack data: plain objects, arrays, strings, numbers, booleans,
 * nil. A key that is absent and a key that is `undefined` are the same thing
 * (msgpack has no undefined). Objects are compared key by key, lists index by
 * index (an element past the shorter list is added or removed), anything else
 * as a whole.
 */
import type { FieldChange } from "@stratreg/protocol";

type Segment = string | number;

/** Whether `x` is a plain object (not an array, not nil, not bytes). */
export function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array);
}

/** Deep equality of msgpack data; absent and undefined keys are equal. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "number" && typeof b === "number") return Number.isNaN(a) && Number.isNaN(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.compare(a, b) === 0;
  }
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (!deepEqual(a[key], b[key])) return false;
  }
  return true;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `name`, `template.params.lookback`, `venues[1].symbols[0]`; a key that is no identifier is quoted: `params["a.b"]`. */
export function formatPath(at: readonly Segment[]): string {
  let out = "";
  for (const segment of at) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

function change(at: Segment[], kind: FieldChange["kind"], old: unknown, value: unknown): FieldChange {
  const c: FieldChange = { path: formatPath(at), at, kind };
  if (kind !== "added") c.old = old;
  if (kind !== "removed") c.new = value;
  return c;
}

function walk(a: unknown, b: unknown, at: Segment[], out: FieldChange[]): void {
  if (a === undefined && b === undefined) return;
  if (a === undefined) {
    out.push(change(at, "added", undefined, b));
    return;
  }
  if (b === undefined) {
    out.push(change(at, "removed", a, undefined));
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) walk(a[i], b[i], [...at, i], out);
    return;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) walk(a[key], b[key], [...at, key], out);
    return;
  }
  if (!deepEqual(a, b)) out.push(change(at, "changed", a, b));
}

/**
 * The changes that take `a` to `b`, in path order (keys sorted, indexes
 * ascending), restricted to `fields` when given (top-level keys).
 */
export function diff(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
  fields?: readonly string[],
): FieldChange[] {
  const out: FieldChange[] = [];
  const keys = fields ?? [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const key of keys) walk(a[key], b[key], [key], out);
  return out;
}

function clone<T>(x: T): T {
  if (Array.isArray(x)) return x.map(clone) as T;
  if (isPlainObject(x)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) if (v !== undefined) out[k] = clone(v);
    return out as T;
  }
  return x;
}

function containerAt(root: Record<string, unknown>, at: readonly Segment[]): Record<string | number, unknown> {
  let node: unknown = root;
  for (const segment of at.slice(0, -1)) {
    node = (node as Record<string | number, unknown>)[segment];
    if (typeof node !== "object" || node === null) throw new Error(`no container at ${formatPath(at)}`);
  }
  return node as Record<string | number, unknown>;
}

/**
 * `a` with `changes` applied (a new object; `a` is not touched). Additions and
 * changes go first, in order, then removals from the last: a list shrinks
 * from its end, as {@link diff} describes it.
 */
export function applyDiff<T extends Record<string, unknown>>(a: T, changes: readonly FieldChange[]): T {
  const out = clone(a);
  const removals: FieldChange[] = [];
  for (const c of changes) {
    if (c.kind === "removed") {
      removals.push(c);
      continue;
    }
    const container = containerAt(out, c.at);
    container[c.at[c.at.length - 1] as string | number] = clone(c.new);
  }
  for (const c of removals.reverse()) {
    const container = containerAt(out, c.at);
    const last = c.at[c.at.length - 1] as string | number;
    if (Array.isArray(container) && typeof last === "number") container.splice(last, 1);
    else delete container[last];
  }
  return out;
}
