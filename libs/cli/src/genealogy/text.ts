/**
 * Genealogy as terminal text: lineages as trees drawn with box-drawing
 * characters (each strategy once; met again, it is referenced, not redrawn),
 * a family's statistics, members and tree, cross-family breeding and dynasties.
 */
import type {
  BreedingReply,
  DynastiesReply,
  FamilyReply,
  GenealogyEdge,
  GenealogyNode,
  LineageReply,
} from "@stratreg/protocol";
import { formatTable } from "../format.js";

/** The mark of a strategy that passed the gates. */
export const PASSED_MARK = "✓";

/** `id  origin  state ✓`. */
export function nodeLabel(node: GenealogyNode): string {
  return `${node.id}  ${node.origin}  ${node.state}${node.passed ? ` ${PASSED_MARK}` : ""}`;
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * A tree from `root`, each node's branches from `branches` (sorted by id),
 * drawn with ├── └── │. A node drawn before is written again as a reference
 * (`↑ id, above`) and not expanded, so loops and diamonds end.
 */
export function drawTree(
  root: string,
  label: (id: string) => string,
  branches: (id: string) => string[],
  reference: (id: string) => string = (id) => `${id}  ↑ above`,
): string[] {
  const lines = [label(root)];
  const drawn = new Set<string>([root]);
  const draw = (id: string, prefix: string) => {
    const next = [...branches(id)].sort(byText);
    next.forEach((child, i) => {
      const last = i === next.length - 1;
      const seen = drawn.has(child);
      lines.push(`${prefix}${last ? "└── " : "├── "}${seen ? reference(child) : label(child)}`);
      if (seen) return;
      drawn.add(child);
      draw(child, `${prefix}${last ? "    " : "│   "}`);
    });
  };
  draw(root, "");
  return lines;
}

function edgesBy(edges: readonly GenealogyEdge[], key: "parent" | "child"): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const edge of edges) {
    const from = edge[key];
    const to = key === "parent" ? edge.child : edge.parent;
    map.set(from, [...(map.get(from) ?? []), to]);
  }
  return map;
}

/**
 * A lineage as trees: descendants below the strategy (children as branches),
 * ancestors above it (parents as branches; a parent registered nowhere marked
 * missing), then what was reached and whether the list was cut.
 */
export function lineageLines(reply: LineageReply): string[] {
  const nodes = new Map(reply.nodes.map((node) => [node.id, node]));
  const missing = new Set(reply.missing);
  const label = (id: string) => {
    const node = nodes.get(id);
    return node === undefined ? `${id}  (missing: registered nowhere)` : nodeLabel(node);
  };
  const depthOf = (id: string) => nodes.get(id)?.depth ?? 0;
  const lines: string[] = [];
  const down = reply.direction !== "ancestors";
  const up = reply.direction !== "descendants";
  if (down) {
    const children = edgesBy(reply.edges, "parent");
    if (up) lines.push("descendants");
    lines.push(
      ...drawTree(reply.id, label, (id) =>
        (children.get(id) ?? []).filter((child) => nodes.has(child) && (depthOf(child) > 0 || child === reply.id)),
      ),
    );
  }
  if (up) {
    const parents = edgesBy(reply.edges, "child");
    if (down) lines.push("", "ancestors");
    lines.push(
      ...drawTree(reply.id, label, (id) =>
        (parents.get(id) ?? []).filter(
          (parent) => missing.has(parent) || (nodes.has(parent) && (depthOf(parent) < 0 || parent === reply.id)),
        ),
      ),
    );
  }
  const descendants = reply.nodes.filter((node) => (node.depth ?? 0) > 0).length;
  const ancestors = reply.nodes.filter((node) => (node.depth ?? 0) < 0).length;
  const counts = [
    down ? `${descendants} descendant${descendants === 1 ? "" : "s"}` : "",
    up ? `${ancestors} ancestor${ancestors === 1 ? "" : "s"}` : "",
  ]
    .filter((text) => text !== "")
    .join(", ");
  lines.push("");
  lines.push(
    `${counts} within ${reply.depth} generation${reply.depth === 1 ? "" : "s"}${reply.truncated ? `; ${reply.nodes.length - 1} of ${reply.total} shown (--limit)` : ""}; ${PASSED_MARK} passed the gates`,
  );
  if (reply.missing.length > 0) lines.push(`missing parents: ${reply.missing.join(", ")}`);
  return lines;
}

function numberText(value: number | null): string {
  return value === null ? "–" : value.toFixed(3);
}

/** A family: statistics, a table of its members, and its tree from its roots. */
export function familyLines(reply: FamilyReply): string[] {
  const { performance: perf, survival, origins } = reply;
  const lines = [
    `family ${reply.family}: ${reply.size} member${reply.size === 1 ? "" : "s"} (${origins.manual} manual, ${origins.variation} variation, ${origins.crossover} crossover)`,
    `${perf.metric}: ${perf.count} with a value, mean ${numberText(perf.mean)}, median ${numberText(perf.median)}, best ${perf.best === null ? "–" : `${perf.best.id} (${perf.best.value.toFixed(3)})`}`,
    `survival: ${survival.passed} of ${survival.evaluated} evaluated passed the gates${survival.rate === null ? "" : ` (${(survival.rate * 100).toFixed(1)}%)`}`,
    "",
  ];
  const rows = reply.members.map((m) => [
    m.id,
    m.origin,
    m.state,
    m.passed ? PASSED_MARK : "",
    m.parents.length === 0 ? "–" : m.parents.join(","),
    m.name,
  ]);
  lines.push(...formatTable([["strategy", "origin", "state", "gates", "parents", "name"], ...rows]));
  const members = new Map(reply.members.map((m) => [m.id, m]));
  const children = edgesBy(reply.edges, "parent");
  lines.push("");
  for (const root of reply.roots.filter((id) => members.has(id))) {
    const tree = drawTree(
      root,
      (id) => nodeLabel(members.get(id) as GenealogyNode),
      (id) => children.get(id) ?? [],
    );
    lines.push(...tree);
  }
  if (reply.roots.length === 0 && reply.members.length > 0)
    lines.push("(no roots: every member has a parent in the family)");
  if (reply.truncated) lines.push(`${reply.members.length} of ${reply.size} members shown (--members)`);
  return lines;
}

/** Cross-family children: the child, its family, and each parent with its family. */
export function breedingLines(reply: BreedingReply): string[] {
  const rows = reply.children.map((child) => [
    child.id,
    child.family ?? "–",
    child.origin,
    child.parents.map((p) => `${p.id} (${p.family ?? "–"})`).join(", "),
  ]);
  const lines = formatTable([["strategy", "family", "origin", "parents (family)"], ...rows]);
  const more = reply.next === null ? "" : `; next page: --offset ${reply.next}`;
  lines.push(`${reply.total} cross-family child${reply.total === 1 ? "" : "ren"}${more}`);
  return lines;
}

/** Dynasties: each root, how many generations in a row passed, and who passed in each. */
export function dynastyLines(reply: DynastiesReply): string[] {
  const rows = reply.dynasties.map((d) => [
    d.root,
    d.family ?? "–",
    String(d.length),
    d.generations.map((ids, g) => `${g + 1}: ${ids.join(",")}`).join("  "),
  ]);
  const lines = formatTable(
    [["root", "family", "generations", "passed the gates, by generation"], ...rows],
    ["left", "left", "right"],
  );
  lines.push(
    `${reply.total} dynast${reply.total === 1 ? "y" : "ies"} of ${reply.k} or more generations${reply.total > reply.dynasties.length ? ` (${reply.dynasties.length} shown)` : ""}`,
  );
  return lines;
}
