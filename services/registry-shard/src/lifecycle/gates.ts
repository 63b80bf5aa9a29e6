/**
 * The quality gates of one strategy, as the shard evaluates them before a
 * validation or an activation and for a dry run: the summary of its latest
 * evidence, against the thresholds in force for its family and template, with
 * the Deflated Sharpe Ratio deflated by its family's recorded trials, and its
 * parameters checked against its template.
 */
import {
  type GatesReply,
  type LifecycleContext,
  lifecycleOf,
  type Strategy,
  type TemplateRef,
  type TradingState,
  type TradingStatus,
  templateParamViolations,
  valueName,
} from "@stratreg/protocol";
import { type EvidenceSummary, evaluateGates, type GateResult } from "@stratreg/quant";
import type { TemplateStore } from "../templates/store.js";
import type { LifecycleEventPublisher } from "./events.js";
import type { EvidenceStore, FamilyTrialsStore, GateSettings } from "./stores.js";

/** What the lifecycle's handlers need from the shard around them. */
export interface LifecycleServices {
  gates: GateSettings;
  trials: FamilyTrialsStore;
  evidence: EvidenceStore;
  events: LifecycleEventPublisher;
  /** The trading state the risk guard last announced (undefined before it has). */
  trading(): TradingStatus | undefined;
  /** Why an instance's parameters do not fit its template version (undefined: they do). */
  templateProblem?(ref: TemplateRef): Promise<string | undefined>;
  /** Activations and resumptions in flight: a halt is acknowledged only once they have settled. */
  readonly activations: Set<Promise<unknown>>;
}

/** The evidence a strategy's lifecycle keeps: the summary and where the evidence itself is. */
export interface EvidenceRecord {
  summary: EvidenceSummary;
  at: number;
  by: string;
  /** Revision of the evidence in the evidence bucket. */
  revision: number;
  [field: string]: unknown;
}

/** What a strategy without evidence is judged on: nothing (every gate fails, saying so). */
const NO_EVIDENCE: EvidenceSummary = {
  periods: 0,
  periodsPerYear: 252,
  trades: 0,
  sharpe: null,
  maxDrawdown: null,
  skewness: null,
  kurtosis: null,
  inSampleSharpe: null,
  outOfSampleSharpe: null,
  folds: 0,
  positiveFolds: 0,
  monteCarlo: { runs: 0, seed: 0, resampled: "returns", p5Sharpe: null },
  perturbation: { runs: 0, worstRatio: null, worst: null },
  regimes: [],
  trials: 1,
  trialSharpeVariance: null,
};

/** Why an instance's parameters do not fit its template version, read from `store` (undefined: they fit). */
export function templateChecker(store: Pick<TemplateStore, "find">): (ref: TemplateRef) => Promise<string | undefined> {
  return async (ref) => {
    const template = await store.find(ref.id, ref.version);
    if (template === undefined) {
      return `template ${ref.id}${ref.version === undefined ? "" : ` v${ref.version}`} does not exist`;
    }
    const { violations } = templateParamViolations(template, ref.params);
    return violations.length === 0 ? undefined : violations.map((violation) => violation.message).join("; ");
  };
}

/** The gate that checks an instance's parameters against its template. */
export const TEMPLATE_GATE = "template";

/** The gates of `strategy` as they stand now. */
export async function evaluateStrategy(strategy: Strategy, services: LifecycleServices): Promise<GatesReply> {
  const lifecycle = lifecycleOf(strategy);
  const evidence = (lifecycle.context as LifecycleContext).evidence as EvidenceRecord | undefined;
  const [resolved, family, templateProblem] = await Promise.all([
    services.gates.resolve(strategy.family, strategy.template?.id ?? null),
    strategy.family === null ? undefined : services.trials.of(strategy.family),
    strategy.template === null || services.templateProblem === undefined
      ? undefined
      : services.templateProblem(strategy.template),
  ]);
  const own = evidence?.summary.trials ?? 1;
  const trials = { trials: Math.max(family?.trials ?? 0, own), sharpeVariance: family?.sharpeVariance ?? null };
  const evaluation = evaluateGates(evidence?.summary ?? NO_EVIDENCE, resolved.thresholds, trials);
  const gates: GateResult[] =
    evidence === undefined
      ? evaluation.gates.map((result) => ({ ...result, passed: false, detail: "no evidence attached" }))
      : [...evaluation.gates];
  let passed = evidence !== undefined && evaluation.passed;
  if (strategy.template !== null) {
    const fits = templateProblem === undefined;
    gates.push({
      gate: TEMPLATE_GATE as GateResult["gate"],
      value: fits ? 0 : 1,
      threshold: 0,
      comparison: "<=",
      passed: fits,
      detail: fits ? `parameters fit ${strategy.template.id}` : templateProblem,
    });
    passed &&= fits;
  }
  const trading = services.trading();
  return {
    id: strategy.id,
    version: strategy.version,
    state: valueName(lifecycle.value),
    passed,
    gates,
    thresholds: { ...resolved.thresholds },
    trials,
    trading: (trading?.state as TradingState | undefined) ?? null,
  };
}
