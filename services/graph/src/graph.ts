/**
 * The dependency graph in memory: `a → b` means strategy `a` depends on `b`.
 * Pure and synchronous; the leader changes it only after its log accepted the
 * change, so it is always the log's state. Kept acyclic by the leader, which
 * asks {@link DependencyGraph.cycleIf} before every edge it adds.
 */
import type { GraphNode } from "@stratreg/protocol";

export class DependencyGraph {
  /** id → what it depends on. */
  private readonly out = new Map<string, Set<string>>();
  /** id → what depends on it. */
  private readonly in = new Map<string, Set<string>>();
  private edgeCount = 0;

  get edges(): number {
    return this.edgeCount;
  }

  /** Strategies with at least one edge. */
  get strategies(): number {
    let n = this.out.size;
    for (const id of this.in.keys()) if (!this.out.has(id)) n++;
    return n;
  }

  has(from: string, to: string): boolean {
    return this.out.get(from)?.has(to) ?? false;
  }

  /** Adds `from → to`; false if it was there. */
  add(from: string, to: string): boolean {
    let out = this.out.get(from);
    if (out === undefined) {
      out = new Set();
      this.out.set(from, out);
    }
    if (out.has(to)) return false;
    out.add(to);
    let into = this.in.get(to);
    if (into === undefined) {
      into = new Set();
      this.in.set(to, into);
    }
    into.add(from);
    this.edgeCount++;
    return true;
  }

  /** Removes `from → to`; false if it was not there. */
  remove(from: string, to: string): boolean {
    const out = this.out.get(from);
    if (out === undefined || !out.delete(to)) return false;
    if (out.size === 0) this.out.delete(from);
    const into = this.in.get(to) as Set<string>;
    into.delete(from);
    if (into.size === 0) this.in.delete(to);
    this.edgeCount--;
    return true;
  }

  dependenciesOf(id: string): ReadonlySet<string> {
    return this.out.get(id) ?? EMPTY;
  }

  dependentsOf(id: string): ReadonlySet<string> {
    return this.in.get(id) ?? EMPTY;
  }

  /**
   * The cycle adding `from → to` would close, as the path `[from, to, …, from]`
   * (a shortest one), or undefined when the edge is safe.
   */
  cycleIf(from: string, to: string): string[] | undefined {
    if (from === to) return [from, from];
    // A cycle needs a path back from `to` to `from` along dependencies.
    const previous = new Map<string, string>([[to, to]]);
    const queue = [to];
    for (let head = 0; head < queue.length; head++) {
      const at = queue[head] as string;
      for (const next of this.dependenciesOf(at)) {
        if (previous.has(next)) continue;
        previous.set(next, at);
        if (next === from) {
          const path = [from];
          for (let step = at; step !== to; step = previous.get(step) as string) path.push(step);
          path.push(to, from);
          return path.reverse();
        }
        queue.push(next);
      }
    }
    return undefined;
  }

  /**
   * Everything reachable from `id` along `direction` (dependents: what depends on it,
   * transitively; dependencies: what it depends on), each at its shortest distance,
   * nearest first, up to `depth` hops and `limit` strategies.
   */
  reach(
    id: string,
    direction: "dependents" | "dependencies",
    depth: number,
    limit: number,
  ): { nodes: GraphNode[]; truncated: boolean } {
    const step = direction === "dependents" ? this.in : this.out;
    const seen = new Set<string>([id]);
    const nodes: GraphNode[] = [];
    let frontier = [id];
    for (let d = 1; d <= depth && frontier.length > 0; d++) {
      const next: string[] = [];
      for (const at of frontier) {
        for (const other of step.get(at) ?? EMPTY) {
          if (seen.has(other)) continue;
          if (nodes.length === limit) return { nodes, truncated: true };
          seen.add(other);
          nodes.push({ id: other, depth: d });
          next.push(other);
        }
      }
      frontier = next;
    }
    return { nodes, truncated: false };
  }

  /** Every edge, for checks and tests. */
  *allEdges(): IterableIterator<[string, string]> {
    for (const [from, out] of this.out) for (const to of out) yield [from, to];
  }
}

const EMPTY: ReadonlySet<string> = new Set();
