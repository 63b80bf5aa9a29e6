/**
 * Parameter perturbations: every literal of an expression moved up and down by a fraction
 * (10 % by default), one at a time. A pattern that is real survives a small change of its
 * numbers; one fitted to noise often lives on one exact threshold or window.
 *
 * Thresholds (`c`) are continuous: c·(1 ± 10 %). A threshold of 0 has no relative change, so
 * it moves by ±10 % of the compared series' standard deviation (on the train window, where the
 * candidate was found) instead. Lags and windows (`k`) must stay in the language's sets
 * (LAGS, WINDOWS): k·(1 ± 10 %) rounded when that is in the set, else the neighbouring value of
 * the set in that direction (a window of 20 becomes 10 or 50), with a note saying so; at either
 * end of the set there is no neighbour and that direction is left out.
 */
import { type Expr, LAGS, nodesOf, OPS, replaceAt, WINDOWS } from "@stratreg/alpha";

/** One literal of an expression changed. */
export interface Perturbation {
  /** Operator, pre-order node index and literal: `gt#3.c`, `sma#5.k`. */
  readonly param: string;
  /** Path of the node from the root (child indices). */
  readonly path: readonly number[];
  readonly from: number;
  readonly to: number;
  /** to / from − 1, or for a threshold of 0 the step in units of the series' standard deviation. */
  readonly change: number;
  /** The whole expression with the one literal changed. */
  readonly expr: Expr;
  /** Why the change is not exactly the fraction asked for. */
  readonly note?: string;
}

/**
 * The scale of the series a threshold of 0 compares (its standard deviation, say); NaN or 0
 * when there is none, and that threshold is then not perturbed.
 */
export type SeriesScale = (series: Expr) => number;

/** The nearest value of `allowed` (ascending) beyond `k` in the direction `sign`, if any. */
function neighbour(allowed: readonly number[], k: number, sign: 1 | -1): number | undefined {
  return sign > 0 ? allowed.find((v) => v > k) : [...allowed].reverse().find((v) => v < k);
}

function integerStep(
  kind: "lag" | "window",
  k: number,
  fraction: number,
  sign: 1 | -1,
): { to: number; note?: string } | undefined {
  const allowed = kind === "lag" ? LAGS : WINDOWS;
  const exact = Math.round(k * (1 + sign * fraction));
  if (exact !== k && allowed.includes(exact)) return { to: exact };
  const to = neighbour(allowed, k, sign);
  if (to === undefined) return undefined;
  const wanted = k * (1 + sign * fraction);
  return {
    to,
    note: `${kind} ${k} → ${to}: ${String(Number(wanted.toPrecision(4)))} is not an allowed ${kind} (${allowed.join(", ")}), so the neighbouring one`,
  };
}

/**
 * Every literal of `expr` moved by ±`fraction` (default 0.1), in pre-order of the nodes, the
 * downward change first. Asset names are not perturbed (they are not numbers); `scale` gives the
 * step of a threshold of 0 (thresholds of 0 are skipped without it).
 */
export function perturbations(expr: Expr, fraction = 0.1, scale?: SeriesScale): Perturbation[] {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`the perturbation must be in (0, 1), got ${fraction}`);
  const out: Perturbation[] = [];
  nodesOf(expr).forEach(({ node, path }, index) => {
    const spec = OPS[node.op];
    const kind = "param" in spec ? spec.param : undefined;
    for (const sign of [-1, 1] as const) {
      if ((kind === "lag" || kind === "window") && node.k !== undefined) {
        const step = integerStep(kind, node.k, fraction, sign);
        if (step === undefined) continue;
        out.push({
          param: `${node.op}#${index}.k`,
          path,
          from: node.k,
          to: step.to,
          change: step.to / node.k - 1,
          expr: replaceAt(expr, path, { ...node, k: step.to }),
          ...(step.note === undefined ? {} : { note: step.note }),
        });
      } else if (kind === "threshold" && node.c !== undefined) {
        const c = node.c;
        if (c !== 0) {
          const to = c * (1 + sign * fraction);
          out.push({
            param: `${node.op}#${index}.c`,
            path,
            from: c,
            to,
            change: sign * fraction,
            expr: replaceAt(expr, path, { ...node, c: to }),
          });
          continue;
        }
        const sd = scale?.(node.args[0] as Expr) ?? Number.NaN;
        if (!(Number.isFinite(sd) && sd > 0)) continue;
        const to = sign * fraction * sd;
        out.push({
          param: `${node.op}#${index}.c`,
          path,
          from: 0,
          to,
          change: sign * fraction,
          expr: replaceAt(expr, path, { ...node, c: to }),
          note: `threshold 0 → ${String(Number(to.toPrecision(4)))}: ${sign > 0 ? "+" : "−"}${fraction * 100} % of the series' standard deviation on the train window (${String(Number(sd.toPrecision(4)))}), as 0 has no relative change`,
        });
      }
    }
  });
  return out;
}
