/**
 * Genealogy over every strategy search holds (docs/adr/015): lineages through
 * `parents` and the children index, a family's tree and performance,
 * cross-family breeding, and dynasties. Parents may name strategies registered
 * nowhere, and may loop (a parent can be updated to name its own descendant):
 * every walk marks what it visited, and a parent not held is reported missing.
 */
import {
  type BreedingQuery,
  type CrossBreed,
  type DynastiesQuery,
  type Dynasty,
  type FamilyPerformance,
  type FamilyQuery,
  type GenealogyEdge,
  type GenealogyNode,
  gatesEvaluated,
  LineageDirections,
  type LineageQuery,
  LOWER_IS_BETTER,
  lifecycleOf,
  type Metric,
  Metrics,
  NotFoundError,
  type Origin,
  originOf,
  passedGates,
  SearchLimits,
  type Strategy,
  stateOfValue,
} from "@stratreg/protocol";
import { topK } from "./heap.js";

/** A strategy as genealogy reads it. */
export interface GenealogyDoc {
  readonly strategy: Readonly<Strategy>;
  metric(name: Metric): number | null;
  /**
   * The last walk that reached it ({@link nextWalk}): a walk marks what it
   * visited on the documents themselves, so a walk of 100,000 strategies builds
   * no set of 100,000 strings.
   */
  walk: number;
}

/** What the queries read: the strategies, and indexes kept as the logs are applied. */
export interface Pedigree {
  doc(id: string): GenealogyDoc | undefined;
  /** Strategies naming `id` (registered or not) among their parents; only strategies held. */
  childrenOf(id: string): ReadonlySet<GenealogyDoc>;
  /** Ids that name at least one parent: the keys of the children index. */
  parentIds(): Iterable<string>;
  /** Members of a family. */
  membersOf(family: string): ReadonlySet<string>;
  /** Strategies naming two or more distinct parents (the only ones that can be cross-family). */
  multiParent(): Iterable<string>;
}

/** Dynasties listed when the request does not say. */
export const DYNASTIES_DEFAULT_LIMIT = 100;
/** Generations a dynasty must run when the request does not say. */
export const DYNASTIES_DEFAULT_K = 3;
/** Cross-breeds listed when the request does not say. */
export const BREEDING_DEFAULT_LIMIT = 100;

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byId = (a: GenealogyDoc, b: GenealogyDoc) => byText(a.strategy.id, b.strategy.id);

let walks = 0;
/** A number no document is marked with yet: the visited mark of a new walk (walks run one at a time). */
export function nextWalk(): number {
  walks = (walks + 1) % Number.MAX_SAFE_INTEGER;
  return walks;
}

/** A node of a reply. */
export function nodeOf(strategy: Readonly<Strategy>, depth?: number): GenealogyNode {
  const node: GenealogyNode = {
    id: strategy.id,
    version: strategy.version,
    name: strategy.name,
    family: strategy.family,
    origin: originOf(strategy),
    state: stateOfValue(lifecycleOf(strategy).value),
    parents: [...strategy.parents],
    passed: passedGates(strategy),
  };
  if (depth !== undefined) node.depth = depth;
  return node;
}

/** Distinct parents in the order named. */
function parentsOf(strategy: Readonly<Strategy>): string[] {
  return strategy.parents.length < 2 ? (strategy.parents as string[]) : [...new Set(strategy.parents)];
}

/** What a lineage found, before it is shaped into a reply. */
export interface LineageWalk {
  /**
   * The strategies reached with their shortest depth (ancestors negative), in
   * the order reached, the strategy itself first: at most `limit` besides it.
   */
  reached: Array<{ id: string; depth: number }>;
  /** Parents named by an ancestor walked but not held. */
  missing: string[];
  /** Strategies reached in all (the strategy itself not counted), listed or not. */
  total: number;
}

/**
 * Breadth first from `id` through the children index (descendants, in id
 * order) and/or parents (ancestors, in the order named), to `depth`
 * generations, each strategy at its shortest depth and once, descendants
 * before ancestors. Each way has its own visited marks; a strategy both
 * ancestor and descendant (a loop) is listed once, as a descendant. Every
 * strategy within the depth is counted; only the first `limit` are kept.
 */
export function walkLineage(
  pedigree: Pedigree,
  id: string,
  direction: LineageQuery["direction"],
  depth: number,
  limit = Number.POSITIVE_INFINITY,
): LineageWalk {
  const root = pedigree.doc(id);
  if (root === undefined) throw new NotFoundError(`no strategy ${id}`, { details: { id } });
  const reached: LineageWalk["reached"] = [{ id, depth: 0 }];
  const missing = new Set<string>();
  let total = 0;
  const add = (to: string, at: number) => {
    total++;
    if (total <= limit) reached.push({ id: to, depth: at });
  };
  // Listed: the strategy and its descendants carry this walk's mark (ancestors walked are in `seen`).
  const listed = nextWalk();
  root.walk = listed;
  if (direction !== LineageDirections.Ancestors) {
    let frontier = [root];
    for (let d = 1; d <= depth && frontier.length > 0; d++) {
      const following: GenealogyDoc[] = [];
      for (const from of frontier) {
        const children = pedigree.childrenOf(from.strategy.id);
        // In id order while the reply still lists (the same lineage always lists the same way); past the limit only counted.
        const next = total < limit && children.size > 1 ? [...children].sort(byId) : children;
        for (const to of next) {
          if (to.walk === listed) continue;
          to.walk = listed;
          add(to.strategy.id, d);
          following.push(to);
        }
      }
      frontier = following;
    }
  }
  if (direction !== LineageDirections.Descendants) {
    const seen = new Set<string>([id]);
    let frontier = [root];
    for (let d = 1; d <= depth && frontier.length > 0; d++) {
      const following: GenealogyDoc[] = [];
      for (const from of frontier) {
        for (const parent of parentsOf(from.strategy)) {
          if (seen.has(parent)) continue;
          seen.add(parent);
          const to = pedigree.doc(parent);
          if (to === undefined) {
            missing.add(parent);
            continue;
          }
          following.push(to);
          if (to.walk !== listed) add(parent, -d);
        }
      }
      frontier = following;
    }
  }
  return { reached, missing: [...missing].sort(byText), total };
}

/** Parent edges among `ids` (and to `missing` parents), child by child in the order given. */
export function edgesAmong(
  pedigree: Pedigree,
  ids: readonly string[],
  missing: ReadonlySet<string> = new Set(),
): GenealogyEdge[] {
  const inside = new Set(ids);
  const edges: GenealogyEdge[] = [];
  for (const child of ids) {
    const doc = pedigree.doc(child);
    if (doc === undefined) continue;
    for (const parent of parentsOf(doc.strategy)) {
      if (inside.has(parent) || missing.has(parent)) edges.push({ parent, child });
    }
  }
  return edges;
}

/**
 * Bytes a node takes in a reply, at most: its strings, the keys and numbers
 * around them (under 100 bytes), and an edge per parent.
 */
function nodeBytes(node: GenealogyNode): number {
  let bytes = 100 + Buffer.byteLength(node.id) + Buffer.byteLength(node.name);
  if (node.family !== null) bytes += Buffer.byteLength(node.family);
  for (const parent of node.parents) bytes += 2 * (Buffer.byteLength(parent) + 16);
  return bytes;
}

/** The first nodes that fit `maxBytes`, at least one: a reply never passes max_payload. */
function withinBytes(nodes: GenealogyNode[], maxBytes: number): GenealogyNode[] {
  if (!Number.isFinite(maxBytes)) return nodes;
  let bytes = 0;
  const over = nodes.findIndex((node) => {
    bytes += nodeBytes(node);
    return bytes > maxBytes;
  });
  return over < 0 ? nodes : nodes.slice(0, Math.max(1, over));
}

/** A lineage: the walk, at most `limit` nodes besides the strategy itself, and the edges among them. */
export function lineage(pedigree: Pedigree, query: LineageQuery, maxReplyBytes = Number.POSITIVE_INFINITY) {
  const depth = query.depth ?? SearchLimits.depthDefault;
  const limit = query.limit ?? SearchLimits.nodesDefault;
  const walk = walkLineage(pedigree, query.id, query.direction, depth, limit);
  const nodes = withinBytes(
    walk.reached.map((node) => nodeOf((pedigree.doc(node.id) as GenealogyDoc).strategy, node.depth)),
    maxReplyBytes,
  );
  return {
    id: query.id,
    direction: query.direction,
    depth,
    nodes,
    edges: edgesAmong(
      pedigree,
      nodes.map((node) => node.id),
      new Set(walk.missing),
    ),
    missing: walk.missing,
    total: walk.total,
    truncated: nodes.length - 1 < walk.total,
  };
}

/** The median of values sorted ascending. */
function median(sorted: Float64Array): number | null {
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** A family's members' `metric`: how many have it, mean, median, and the best member (ties: the smaller id). */
export function familyPerformance(docs: readonly GenealogyDoc[], metric: Metric): FamilyPerformance {
  const values: Array<{ id: string; value: number }> = [];
  for (const doc of docs) {
    const value = doc.metric(metric);
    if (value !== null && Number.isFinite(value)) values.push({ id: doc.strategy.id, value });
  }
  const lower = LOWER_IS_BETTER.has(metric);
  let best: { id: string; value: number } | null = null;
  let sum = 0;
  for (const v of values) {
    sum += v.value;
    if (
      best === null ||
      (lower ? v.value < best.value : v.value > best.value) ||
      (v.value === best.value && v.id < best.id)
    ) {
      best = v;
    }
  }
  const sorted = Float64Array.from(values, (v) => v.value).sort();
  return {
    metric,
    count: values.length,
    mean: values.length === 0 ? null : sum / values.length,
    median: median(sorted),
    best,
  };
}

/** A family's tree (members in id order up to `limit`, edges among them, roots) and its performance and survival. */
export function family(pedigree: Pedigree, query: FamilyQuery, maxReplyBytes = Number.POSITIVE_INFINITY) {
  const metric = query.metric ?? Metrics.Sharpe;
  const limit = query.limit ?? SearchLimits.nodesDefault;
  const memberIds = pedigree.membersOf(query.family);
  if (memberIds.size === 0) {
    throw new NotFoundError(`no strategy is in family ${query.family}`, { details: { family: query.family } });
  }
  const docs = [...memberIds].map((id) => pedigree.doc(id) as GenealogyDoc);
  const origins: Record<Origin, number> = { variation: 0, crossover: 0, manual: 0 };
  let passed = 0;
  let evaluated = 0;
  const roots: string[] = [];
  for (const doc of docs) {
    origins[originOf(doc.strategy)]++;
    if (passedGates(doc.strategy)) passed++;
    if (gatesEvaluated(doc.strategy)) evaluated++;
    if (!doc.strategy.parents.some((parent) => memberIds.has(parent))) roots.push(doc.strategy.id);
  }
  // Only the page listed is put in order (a bounded heap): a family of 250,000 costs a pass, not a sort.
  const members = withinBytes(
    topK(docs, limit, byId).map((doc) => nodeOf(doc.strategy)),
    maxReplyBytes,
  );
  const listed = members.map((member) => member.id);
  return {
    family: query.family,
    size: docs.length,
    members,
    edges: edgesAmong(pedigree, listed),
    roots: topK(roots, limit, byText),
    truncated: listed.length < docs.length,
    performance: familyPerformance(docs, metric),
    survival: { passed, evaluated, rate: evaluated === 0 ? null : passed / evaluated },
    origins,
  };
}

/** A child whose held parents span two or more families, or undefined. */
export function crossBreed(pedigree: Pedigree, id: string): CrossBreed | undefined {
  const doc = pedigree.doc(id);
  if (doc === undefined) return undefined;
  const parents: CrossBreed["parents"] = [];
  const families = new Set<string>();
  for (const parent of parentsOf(doc.strategy)) {
    const found = pedigree.doc(parent);
    if (found === undefined) continue;
    parents.push({ id: parent, family: found.strategy.family });
    if (found.strategy.family !== null) families.add(found.strategy.family);
  }
  if (families.size < 2) return undefined;
  return { id, family: doc.strategy.family, origin: originOf(doc.strategy), parents };
}

/**
 * Cross-family children in id order, a page of them: those with a parent in
 * `family`, or in it themselves, when it is given.
 */
export function breeding(pedigree: Pedigree, query: BreedingQuery) {
  const found: CrossBreed[] = [];
  for (const id of pedigree.multiParent()) {
    const child = crossBreed(pedigree, id);
    if (child === undefined) continue;
    if (
      query.family !== undefined &&
      child.family !== query.family &&
      !child.parents.some((p) => p.family === query.family)
    ) {
      continue;
    }
    found.push(child);
  }
  found.sort((a, b) => byText(a.id, b.id));
  const offset = query.offset ?? 0;
  const limit = query.limit ?? BREEDING_DEFAULT_LIMIT;
  const children = found.slice(offset, offset + limit);
  const next = offset + children.length < found.length ? offset + children.length : null;
  return { children, total: found.length, next };
}

/** Whether `id` is a root: held, and none of its parents held. */
export function isRoot(pedigree: Pedigree, id: string): boolean {
  const doc = pedigree.doc(id);
  return doc !== undefined && !doc.strategy.parents.some((parent) => pedigree.doc(parent) !== undefined);
}

/**
 * The run of a root: generation g is its descendants at shortest depth g
 * (visited marks, so loops end); the run is how many generations from 1 in a
 * row have a member that passed the gates, with those members per generation.
 */
export function dynastyRun(pedigree: Pedigree, root: string): string[][] {
  const start = pedigree.doc(root);
  if (start === undefined) return [];
  const seen = nextWalk();
  start.walk = seen;
  const generations: string[][] = [];
  let frontier = [start];
  while (frontier.length > 0) {
    const following: GenealogyDoc[] = [];
    for (const from of frontier) {
      for (const to of pedigree.childrenOf(from.strategy.id)) {
        if (to.walk === seen) continue;
        to.walk = seen;
        following.push(to);
      }
    }
    const passed = following
      .filter((doc) => passedGates(doc.strategy))
      .map((doc) => doc.strategy.id)
      .sort(byText);
    if (passed.length === 0) break;
    generations.push(passed);
    frontier = following;
  }
  return generations;
}

/**
 * Dynasties: roots (of `family` when given) whose run is at least `k`
 * generations; longest first, then by root id. Only roots with children can
 * qualify, so the walk starts from the children index's keys.
 */
export function dynasties(pedigree: Pedigree, query: DynastiesQuery) {
  const k = query.k ?? DYNASTIES_DEFAULT_K;
  const limit = query.limit ?? DYNASTIES_DEFAULT_LIMIT;
  const found: Dynasty[] = [];
  for (const id of pedigree.parentIds()) {
    if (!isRoot(pedigree, id)) continue;
    const strategy = (pedigree.doc(id) as GenealogyDoc).strategy;
    if (query.family !== undefined && strategy.family !== query.family) continue;
    const generations = dynastyRun(pedigree, id);
    if (generations.length >= k) {
      found.push({ root: id, family: strategy.family, length: generations.length, generations });
    }
  }
  found.sort((a, b) => b.length - a.length || byText(a.root, b.root));
  return { k, dynasties: found.slice(0, limit), total: found.length };
}
