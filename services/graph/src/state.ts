/**
 * The graph as a replay of its log leaves it: the edges, which log records are not yet on the
 * shards, which cascades are open, and the command ids of what was asked. Pure; the leader
 * applies each record right after appending it, a new leader replays the whole log into it.
 */
import { GraphLimits, type GraphNode } from "@stratreg/protocol";
import { DependencyGraph } from "./graph.js";
import type { EdgeChange, GraphEntry } from "./log.js";

export type EdgeEntry = Extract<GraphEntry, { t: "edges" }>;
export type CascadeEntry = Extract<GraphEntry, { t: "cascade" }>;
/** A cascade and the strategies it suspends (named by the graph at its record). */
export interface Cascade {
  entry: CascadeEntry;
  targets: GraphNode[];
}

/** The graph as a log replay leaves it: edges, and the work a leader must finish. */
export class GraphState {
  readonly graph = new DependencyGraph();
  seq = 0;
  /** How many edge changes the record at `seq` holds (0 for other records). */
  lastChanges = 0;
  epoch = 0;
  /** Link and unlink entries after the last `projected` record. */
  readonly unprojected: Array<{ seq: number; entry: EdgeEntry }> = [];
  /** Edge changes by their requests' command ids: what each changed, and where. */
  readonly changeByCid = new Map<string, { seq: number; from: string; changed: string[] }>();
  /** Cascades without a `done` record. */
  readonly open = new Map<number, Cascade>();
  /** Every cascade by its request's command id. */
  readonly cascadeByCid = new Map<string, number>();
  /** Closed cascades' entries and what they skipped, by sequence (only those with a command id). */
  readonly closed = new Map<number, Cascade & { skipped: Array<GraphNode & { state: string }> }>();

  apply(entry: GraphEntry, seq: number): void {
    this.seq = seq;
    this.lastChanges = entry.t === "edges" ? entry.changes.length : 0;
    switch (entry.t) {
      case "epoch":
        this.epoch = Math.max(this.epoch, entry.epoch);
        return;
      case "edges":
        for (const change of entry.changes) {
          applyChange(this.graph, change);
          if (change.cid !== undefined)
            this.changeByCid.set(change.cid, { seq, from: change.from, changed: change.to });
        }
        this.unprojected.push({ seq, entry });
        return;
      case "cascade": {
        const { nodes } = this.graph.reach(entry.id, "dependents", GraphLimits.depthMax, Number.MAX_SAFE_INTEGER);
        this.open.set(seq, { entry, targets: nodes });
        if (entry.cid !== undefined) this.cascadeByCid.set(entry.cid, seq);
        return;
      }
      case "done": {
        const cascade = this.open.get(entry.seq);
        this.open.delete(entry.seq);
        if (cascade?.entry.cid !== undefined) this.closed.set(entry.seq, { ...cascade, skipped: entry.skipped });
        return;
      }
      case "projected": {
        let drop = 0;
        while (drop < this.unprojected.length && (this.unprojected[drop]?.seq as number) <= entry.upTo) drop++;
        this.unprojected.splice(0, drop);
        return;
      }
    }
  }
}

/** Applies one edge change to `graph`; returns the edges it actually changed. */
export function applyChange(graph: DependencyGraph, change: EdgeChange): string[] {
  return change.to.filter((to) => (change.t === "link" ? graph.add(change.from, to) : graph.remove(change.from, to)));
}

/** `change` with the command id of the request that asked for it, if it had one. */
export function withCid(change: EdgeChange, cid: string | undefined): EdgeChange {
  return cid === undefined ? change : { ...change, cid };
}

/** Undoes what {@link applyChange} changed. */
export function undoChange(graph: DependencyGraph, change: EdgeChange, changed: string[]): void {
  for (const to of changed) {
    if (change.t === "link") graph.remove(change.from, to);
    else graph.add(change.from, to);
  }
}
