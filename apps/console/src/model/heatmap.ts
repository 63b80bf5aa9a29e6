/**
 * The correlation heatmap: a matrix of the strategies the guard correlates, filled from
 * the pairs it reports, and a diverging colour scale (−1 blue, 0 white, +1 red) so
 * clusters read as warm blocks. Pairs the guard did not list stay null (drawn grey).
 */
import type { CorrelationReply } from "@stratreg/protocol/web";

/** A symmetric matrix over `labels`; the diagonal is 1, unknown pairs null. */
export interface CorrelationMatrix {
  labels: string[];
  cells: Array<Array<number | null>>;
}

/** Builds the matrix from a `correlation` reply, labels ordered by cluster so members sit together. */
export function correlationMatrix(
  reply: Pick<CorrelationReply, "strategies" | "pairs" | "clusters">,
): CorrelationMatrix {
  const order: string[] = [];
  const known = new Set(reply.strategies);
  for (const cluster of reply.clusters) {
    for (const member of cluster.members) if (known.has(member) && !order.includes(member)) order.push(member);
  }
  for (const id of [...reply.strategies].sort()) if (!order.includes(id)) order.push(id);
  const index = new Map(order.map((id, i) => [id, i]));
  const cells = order.map((_, i) => order.map((__, j) => (i === j ? 1 : null)));
  for (const { a, b, rho } of reply.pairs) {
    const i = index.get(a);
    const j = index.get(b);
    if (i === undefined || j === undefined) continue;
    (cells[i] as Array<number | null>)[j] = rho;
    (cells[j] as Array<number | null>)[i] = rho;
  }
  return { labels: order, cells };
}

/** The cell colour of a correlation: `rgb(r, g, b)` on a blue–white–red scale; grey for null. */
export function correlationColour(rho: number | null): string {
  if (rho === null || !Number.isFinite(rho)) return "rgb(200, 200, 200)";
  const t = Math.max(-1, Math.min(1, rho));
  // Fade from white towards red (positive) or blue (negative) by |rho|.
  const fade = (full: number) => Math.round(255 - (255 - full) * Math.abs(t));
  return t >= 0 ? `rgb(255, ${fade(40)}, ${fade(40)})` : `rgb(${fade(40)}, ${fade(90)}, 255)`;
}
