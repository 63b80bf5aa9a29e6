/**
 * fast-check arbitraries for the tests of this library (not built into dist): random markets
 * with the awkward parts of real data (missing values, flat stretches, zero volume, irregular
 * times) and random well-typed expressions, generated independently of the library's own
 * genetic generator so the tests do not check the code with itself.
 */
import fc from "fast-check";
import { type Expr, LAGS, type NodeType, OPS, type Op, WINDOWS } from "../ast.js";
import type { AssetBars, Market } from "../market.js";

/** The assets of the random markets; one needs quoting in the text form. */
export const ASSETS = ["AAA", "BBB", "C 1"] as const;

export interface MarketShape {
  minLength?: number;
  maxLength?: number;
  /** Chances that a bar of an asset is missing (all NaN); one is drawn per market. */
  missing?: readonly number[];
}

/** A market of the three {@link ASSETS}: random walks with gaps, flat runs and odd volumes. */
export function marketArb(shape: MarketShape = {}): fc.Arbitrary<Market> {
  const { minLength = 1, maxLength = 150, missing = [0, 0, 0.005, 0.03] } = shape;
  const step = fc.record({
    moves: fc.array(
      fc.double({ min: -0.06, max: 0.06, noNaN: true }).map((m) => (Math.abs(m) < 1e-9 ? 0 : m)),
      { minLength: 3, maxLength: 3 },
    ),
    flat: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    gaps: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }),
    range: fc.double({ min: 0, max: 0.03, noNaN: true }).map((r) => (r < 1e-9 ? 0 : r)),
    // Market magnitudes: no subnormal volumes or moves, whose arithmetic has no precision left.
    volume: fc.oneof(fc.constant(0), fc.double({ min: 1e-3, max: 2e6, noNaN: true })),
    dt: fc.integer({ min: 1, max: 3 * 86_400_000 }),
  });
  return fc
    .record({
      start: fc.integer({ min: -1e12, max: 4e12 }),
      prices: fc.array(fc.double({ min: 0.5, max: 5000, noNaN: true }), { minLength: 3, maxLength: 3 }),
      steps: fc.array(step, { minLength, maxLength, size: "max" }),
      gapRate: fc.constantFrom(...missing),
    })
    .map(({ start, prices, steps, gapRate }) => {
      const n = steps.length;
      const t = new Float64Array(n);
      const columns = ASSETS.map(() => ({
        open: new Float64Array(n),
        high: new Float64Array(n),
        low: new Float64Array(n),
        close: new Float64Array(n),
        volume: new Float64Array(n),
      }));
      let time = start;
      const level = [...prices];
      steps.forEach((s, i) => {
        time += s.dt;
        t[i] = time;
        columns.forEach((c, a) => {
          const before = level[a] as number;
          // A flat bar repeats the last close exactly, as a halted or illiquid market does.
          const close = s.flat[a] ? before : before * Math.exp(s.moves[a] as number);
          level[a] = close;
          c.open[i] = before;
          c.close[i] = close;
          c.high[i] = Math.max(before, close) * (1 + s.range);
          c.low[i] = Math.min(before, close) * (1 - s.range);
          c.volume[i] = s.flat[a] ? 0 : s.volume;
          if ((s.gaps[a] as number) < gapRate) {
            for (const field of ["open", "high", "low", "close", "volume"] as const) c[field][i] = Number.NaN;
          }
        });
      });
      const assets: AssetBars[] = ASSETS.map((name, a) => ({ name, ...(columns[a] as Omit<AssetBars, "name">) }));
      return { length: n, t, assets };
    });
}

const threshold = fc.oneof(
  fc.constantFrom(0, 0.5, 1, -1, 2, 12, 30, 50, 70, 100, 1e5),
  fc.double({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true }).map((c) => c + 0),
);

function opsOf(type: NodeType, arity: (n: number) => boolean, exclude: readonly Op[] = []): Op[] {
  return (Object.keys(OPS) as Op[]).filter(
    (op) => OPS[op].type === type && arity(OPS[op].args.length) && !exclude.includes(op),
  );
}

function node(op: Op, args: readonly fc.Arbitrary<Expr>[]): fc.Arbitrary<Expr> {
  const spec = OPS[op];
  const param: fc.Arbitrary<Partial<Expr>> =
    !("param" in spec) || spec.param === undefined
      ? fc.constant({})
      : spec.param === "asset"
        ? fc.constantFrom(...ASSETS).map((asset) => ({ asset }))
        : spec.param === "lag"
          ? fc.constantFrom(...LAGS).map((k) => ({ k }))
          : spec.param === "window"
            ? fc.constantFrom(...WINDOWS).map((k) => ({ k }))
            : threshold.map((c) => ({ c }));
  return fc.tuple(fc.tuple(...args), param).map(([children, p]) => ({ op, args: children, ...p }));
}

/**
 * Well-typed expressions of every type; `maxDepth` bounds the nesting of operators (the first
 * alternative of each type is taken at the bound and always terminates). `exclude` leaves
 * series operators out.
 */
export function exprArbs(
  maxDepth = 5,
  exclude: readonly Op[] = [],
): { series: fc.Arbitrary<Expr>; bool: fc.Arbitrary<Expr>; position: fc.Arbitrary<Expr> } {
  const options = { maxDepth, depthIdentifier: "expr", depthSize: "medium", withCrossShrink: true } as const;
  return fc.letrec<{ series: Expr; bool: Expr; position: Expr }>((tie) => {
    const arbFor = (type: NodeType): fc.Arbitrary<Expr> => tie(type);
    const build = (op: Op): fc.Arbitrary<Expr> => node(op, OPS[op].args.map(arbFor));
    const terminals = fc.oneof(...opsOf("series", (n) => n === 0).map(build));
    return {
      series: fc.oneof(options, terminals, ...opsOf("series", (n) => n > 0, exclude).map(build)),
      bool: fc.oneof(options, build("gt"), ...opsOf("bool", () => true).map(build)),
      position: fc.oneof(options, build("signal"), build("short"), build("long_short")),
    };
  });
}
