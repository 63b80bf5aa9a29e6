/**
 * What changed between two top-k answers, so a row that entered, climbed or fell
 * is marked for a moment: a person sees the ranking move instead of reading it again.
 */

/** The part of a ranked entry the diff looks at. */
export interface Ranked {
  id: string;
  rank: number;
  score: number | null;
}

/** How one row moved since the previous answer. */
export type Movement = { kind: "new" } | { kind: "up"; by: number } | { kind: "down"; by: number } | { kind: "same" };

/** The movement of each row of `next` against `previous` (by id), and who left the list. */
export interface TopKDiff {
  moves: Map<string, Movement>;
  left: string[];
  /** Whether anything changed: order, membership or a score. */
  changed: boolean;
}

/** Compares two top-k lists of the same metric and scope. */
export function diffTopK(previous: readonly Ranked[], next: readonly Ranked[]): TopKDiff {
  const before = new Map(previous.map((e) => [e.id, e]));
  const moves = new Map<string, Movement>();
  let changed = previous.length !== next.length;
  for (const entry of next) {
    const old = before.get(entry.id);
    if (old === undefined) {
      moves.set(entry.id, { kind: "new" });
      changed = true;
    } else if (entry.rank < old.rank) {
      moves.set(entry.id, { kind: "up", by: old.rank - entry.rank });
      changed = true;
    } else if (entry.rank > old.rank) {
      moves.set(entry.id, { kind: "down", by: entry.rank - old.rank });
      changed = true;
    } else {
      moves.set(entry.id, { kind: "same" });
      if (old.score !== entry.score) changed = true;
    }
  }
  const present = new Set(next.map((e) => e.id));
  const left = previous.filter((e) => !present.has(e.id)).map((e) => e.id);
  if (left.length > 0) changed = true;
  return { moves, left, changed };
}

/** The arrow shown beside a row: ▲2, ▼1, "new", or nothing. */
export function movementLabel(move: Movement | undefined): string {
  if (move === undefined) return "";
  switch (move.kind) {
    case "new":
      return "new";
    case "up":
      return `▲${move.by}`;
    case "down":
      return `▼${move.by}`;
    default:
      return "";
  }
}
