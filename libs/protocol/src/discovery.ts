/**
 * Discovery on the wire: market data in (bars imported on request and kept in
 * a JetStream stream), runs started and stopped by operators, the run's
 * progress, the scanner's regimes, and the candidates it found.
 *
 * Discovery registers every candidate that survives validation as a strategy
 * in the `candidate` state, instantiating the template {@link DISCOVERY_TEMPLATE_ID},
 * and publishes it on `<cluster>.discovery.events.candidate` with its
 * validation report (discovery-report.ts).
 */
import { type Static, Type } from "@sinclair/typebox";
import type { ValidationReport } from "./discovery-report.js";

/** Operations any client may use: `<cluster>.discovery.<op>` (any discovery process answers). */
export const DiscoveryOps = {
  /** Append bars of one series to the market-data stream (feeds and `stratreg data import`). */
  Import: "import",
  /** The series held: symbol, venue, bar count, first and last bar. */
  Data: "data",
  /** The discovery loop's state, the run in progress and the latest runs. */
  Status: "status",
  /** The latest candidates published, with their validation reports. */
  Candidates: "candidates",
  /** The scanner's latest findings: regimes, anomalies, lead-lag, calendar effects. */
  Scan: "scan",
} as const;
export type DiscoveryOp = (typeof DiscoveryOps)[keyof typeof DiscoveryOps];

/** Operations only operators may send: `<cluster>.control.discovery.<op>`. */
export const DiscoveryControlOps = {
  /** Start a run now (or resume a stopped one). */
  Run: "run",
  /** Stop the run in progress; its checkpoint is kept so that it can be resumed. */
  Stop: "stop",
} as const;
export type DiscoveryControlOp = (typeof DiscoveryControlOps)[keyof typeof DiscoveryControlOps];

/** Name under which discovery registers with the NATS services framework. */
export const DISCOVERY_SERVICE_NAME = "stratreg-discovery";

/** The template every discovered strategy instantiates: its parameters hold the expression and the traded series. */
export const DISCOVERY_TEMPLATE_ID = "discovered-pattern";

/** The owner of discovered strategies. */
export const DISCOVERY_OWNER = "discovery";

/** Size limits of discovery's messages. */
export const DiscoveryLimits = {
  /** Most bars in one import request. */
  barsPerImport: 1000,
  /** Most series one run mines. */
  symbolsMax: 64,
  /** Longest run budget: a day. */
  budgetMsMax: 24 * 3600 * 1000,
  /** Most candidates one `candidates` request returns. */
  candidatesMax: 200,
  /** Longest expression text a discovered strategy carries (a template parameter's string limit). */
  expressionMaxLength: 256,
} as const;

/**
 * Symbol and venue names: 1-32 of `[A-Za-z0-9_-]`. They are tokens of the
 * stream's subjects (`<cluster>.bars.<venue>.<symbol>`), where dots separate
 * tokens: `BRK.B` is imported as `BRK_B`.
 */
export const MARKET_NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$";
const MarketName = Type.String({ minLength: 1, maxLength: 32, pattern: MARKET_NAME_PATTERN });
const Price = Type.Number({ exclusiveMinimum: 0 });

/** One OHLCV bar: `t` is the bar's open time in integer ms UTC. */
export const BarSchema = Type.Object(
  {
    t: Type.Integer({ minimum: 0, maximum: 8.64e15 }),
    open: Price,
    high: Price,
    low: Price,
    close: Price,
    volume: Type.Number({ minimum: 0 }),
    /** Quoted spread as a fraction of the price, when known. */
    spread: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  },
  { additionalProperties: false },
);
export type BarInput = Static<typeof BarSchema>;

/** Bars of one series to append. A bar whose time the stream holds already is a duplicate: the first stays. */
export const ImportBarsSchema = Type.Object(
  {
    symbol: MarketName,
    venue: MarketName,
    bars: Type.Array(BarSchema, { minItems: 1, maxItems: DiscoveryLimits.barsPerImport }),
  },
  { additionalProperties: false },
);
export type ImportBarsRequest = Static<typeof ImportBarsSchema>;

/** What an import did. */
export interface ImportBarsReply {
  symbol: string;
  venue: string;
  /** Bars appended. */
  appended: number;
  /** Bars whose time was there already (re-imports are harmless). */
  duplicates: number;
  /** Bars the series holds now. */
  bars: number;
}

/** One series held, as `data` lists it. */
export interface SeriesInfo {
  symbol: string;
  venue: string;
  bars: number;
  /** First and last bar time, ms UTC. */
  from: number;
  to: number;
}

/** How a run searches; every field has a default (docs/protocol.md). */
export const RunSchema = Type.Object(
  {
    /** Symbols to trade (default: every symbol held). A symbol on several venues trades on each. */
    symbols: Type.Optional(
      Type.Array(MarketName, { minItems: 1, maxItems: DiscoveryLimits.symbolsMax, uniqueItems: true }),
    ),
    /** Wall-clock budget of the whole run, ms (default 60 s). */
    budgetMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: DiscoveryLimits.budgetMsMax })),
    /** Seed of the search (default: derived from the run id). */
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 32 - 1 })),
    /** Individuals per generation (default 200). */
    population: Type.Optional(Type.Integer({ minimum: 10, maximum: 5000 })),
    /** Most generations per traded series (default 12). */
    generations: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    /** Combine registered discovered strategies too (default true). */
    synthesis: Type.Optional(Type.Boolean()),
    /** Resume this stopped run from its checkpoint instead of starting a new one. */
    resume: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" })),
  },
  { additionalProperties: false },
);
export type RunRequest = Static<typeof RunSchema>;

/** Phases of a run, in order. */
export const RunPhases = {
  Loading: "loading",
  Scanning: "scanning",
  Mining: "mining",
  Validating: "validating",
  Synthesising: "synthesising",
  Publishing: "publishing",
} as const;
export type RunPhase = (typeof RunPhases)[keyof typeof RunPhases];

/** How a run ended. */
export const RunOutcomes = {
  Completed: "completed",
  /** An operator stopped it; its checkpoint can be resumed. */
  Stopped: "stopped",
  /** The trading state turned HALTED: the run stopped where it was, keeping its checkpoint. */
  Halted: "halted",
  Failed: "failed",
} as const;
export type RunOutcome = (typeof RunOutcomes)[keyof typeof RunOutcomes];

/** A run as status and progress messages describe it. */
export interface RunProgress {
  runId: string;
  startedAt: number;
  budgetMs: number;
  elapsedMs: number;
  phase: RunPhase;
  /** Traded series (`symbol@venue`) of the run, and how many have been mined. */
  targets: string[];
  targetsDone: number;
  /** The series being mined now. */
  target: string | null;
  generation: number;
  /** Distinct candidates evaluated so far, over every series. */
  evaluated: number;
  /** Best train Sharpe ratio of the series being mined. */
  bestTrainSharpe: number | null;
  /** Candidates that survived validation so far. */
  candidates: number;
  outcome?: RunOutcome;
  /** Why it failed, for a failed run. */
  error?: string;
}

/** Operators' stop: which run (default the one in progress). */
export const StopSchema = Type.Object(
  { runId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) },
  { additionalProperties: false },
);
export type StopRequest = Static<typeof StopSchema>;

/**
 * A candidate as published on `<cluster>.discovery.events.candidate`, and listed by
 * `candidates` (there without its report's `evidence`, which the stream keeps).
 */
export interface CandidateMessage {
  /** The registered strategy's id. */
  id: string;
  runId: string;
  /** `mined` by the search, or `synthesised` from registered strategies. */
  origin: "mined" | "synthesised";
  expression: string;
  /** Traded series, `symbol@venue`. */
  target: string;
  family: string;
  parents: string[];
  report: ValidationReport;
  at: number;
}

/** Request bodies of discovery's operations. */
export const DiscoveryRequestBodies = {
  [DiscoveryOps.Import]: ImportBarsSchema,
  [DiscoveryOps.Data]: Type.Object({}, { additionalProperties: false }),
  [DiscoveryOps.Status]: Type.Object({}, { additionalProperties: false }),
  [DiscoveryOps.Candidates]: Type.Object(
    {
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: DiscoveryLimits.candidatesMax })),
      runId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    },
    { additionalProperties: false },
  ),
  [DiscoveryOps.Scan]: Type.Object({}, { additionalProperties: false }),
} as const;

/** Request bodies of the operators' control operations. */
export const DiscoveryControlBodies = {
  [DiscoveryControlOps.Run]: RunSchema,
  [DiscoveryControlOps.Stop]: StopSchema,
} as const;

/** The series key discovery uses everywhere: `symbol@venue`. */
export function seriesKeyOf(symbol: string, venue: string): string {
  return `${symbol}@${venue}`;
}
