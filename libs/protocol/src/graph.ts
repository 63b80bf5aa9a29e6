/**
 * The dependency graph on the wire: `<cluster>.graph.<op>`, answered by the
 * graph service's leader. Every edge change goes through that one writer and
 * its fenced log (docs/adr/017), which is what keeps the graph acyclic across
 * partitions and shards; the shards hold a projection of it in each strategy's
 * `dependencies` and `dependents`.
 */
import { type Static, Type } from "@sinclair/typebox";
import { Limits, StrategyIdSchema } from "./strategy.js";

/** Operations of the graph service. */
export const GraphOps = {
  /** Adds dependency edges `from → to[i]` ("from depends on to"), refusing any that would close a cycle. */
  Link: "link",
  /** Removes dependency edges. */
  Unlink: "unlink",
  /** Everything that transitively depends on a strategy, with depth. */
  Impact: "impact",
  /** Everything a strategy transitively depends on, with depth. */
  Dependencies: "dependencies",
  /** Suspends or retires a strategy and suspends everything that depends on it, exactly once. */
  Cascade: "cascade",
  /** The leader, its epoch and log position, the graph's size. */
  Status: "status",
} as const;
export type GraphOp = (typeof GraphOps)[keyof typeof GraphOps];

/** Name under which graph processes register with the NATS services framework. */
export const GRAPH_SERVICE_NAME = "stratreg-graph";

/** Size limits of graph requests. */
export const GraphLimits = {
  /** Most edges one link or unlink request names. */
  edgesMax: Limits.dependenciesMax,
  /** Deepest traversal asked for. */
  depthMax: 1_000_000,
  /** Most strategies a traversal returns. */
  limitMax: 100_000,
  /** Longest reason. */
  reasonMaxLength: 500,
} as const;

/** What a cascade does to its root (its dependents are suspended either way). */
export const CascadeActions = {
  Suspend: "suspend",
  Retire: "retire",
} as const;
export type CascadeAction = (typeof CascadeActions)[keyof typeof CascadeActions];

const Label = Type.String({ minLength: 1, maxLength: Limits.labelMaxLength });
const Edges = Type.Array(StrategyIdSchema, { minItems: 1, maxItems: GraphLimits.edgesMax });
const Traversal = Type.Object(
  {
    id: StrategyIdSchema,
    /** How many hops to follow (default: all). */
    depth: Type.Optional(Type.Integer({ minimum: 1, maximum: GraphLimits.depthMax })),
    /** Most strategies to return (default 10,000). */
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: GraphLimits.limitMax })),
  },
  { additionalProperties: false },
);

/** Request bodies, by op. */
export const GraphRequestBodies = {
  [GraphOps.Link]: Type.Object({ from: StrategyIdSchema, to: Edges, by: Label }, { additionalProperties: false }),
  [GraphOps.Unlink]: Type.Object({ from: StrategyIdSchema, to: Edges, by: Label }, { additionalProperties: false }),
  [GraphOps.Impact]: Traversal,
  [GraphOps.Dependencies]: Traversal,
  [GraphOps.Cascade]: Type.Object(
    {
      id: StrategyIdSchema,
      action: Type.Union([Type.Literal(CascadeActions.Suspend), Type.Literal(CascadeActions.Retire)]),
      by: Label,
      reason: Type.String({ minLength: 1, maxLength: GraphLimits.reasonMaxLength }),
    },
    { additionalProperties: false },
  ),
  [GraphOps.Status]: Type.Object({}, { additionalProperties: false }),
} as const;

export type LinkRequest = Static<(typeof GraphRequestBodies)[typeof GraphOps.Link]>;
export type TraversalRequest = Static<typeof Traversal>;
export type CascadeRequest = Static<(typeof GraphRequestBodies)[typeof GraphOps.Cascade]>;

/** The reply to `link` and `unlink`. */
export interface LinkReply {
  from: string;
  /** Edges this request added (or removed). */
  changed: string[];
  /** Edges that were already there (or already absent): nothing to do. */
  unchanged: string[];
  /** The graph log's sequence of the change (0 when nothing changed). */
  seq: number;
  /** Whether the shards' `dependencies` and `dependents` show the change yet (they will: the leader retries). */
  projected: boolean;
}

/** A strategy reached by a traversal, at its shortest distance. */
export interface GraphNode {
  id: string;
  depth: number;
}

/** The reply to `impact` and `dependencies`. */
export interface TraversalReply {
  id: string;
  nodes: GraphNode[];
  /** More were reachable than `limit`. */
  truncated: boolean;
  /** The graph log's sequence the answer is as of. */
  seq: number;
}

/** The reply to `cascade`. */
export interface CascadeReply {
  id: string;
  action: CascadeAction;
  /** The graph log's sequence of the cascade's record. */
  seq: number;
  /** Dependents this cascade suspended, nearest first. */
  suspended: GraphNode[];
  /** Dependents it left as they were, because they were not active (or were gone), with their state. */
  skipped: Array<GraphNode & { state: string }>;
}

/** The reply to `status`. */
export interface GraphStatus {
  member: string;
  leader: boolean;
  epoch: number;
  seq: number;
  strategies: number;
  edges: number;
  /** Log entries whose projection onto the shards is not confirmed yet. */
  pending: number;
}
