/**
 * Golden vectors: the scaled forward–backward pass, Viterbi and one Baum–Welch step against
 * golden/hmm.py, which computes them in log space with scipy (logsumexp, norm.logpdf).
 * `python3 libs/market/golden/hmm.py` rewrites golden/hmm.json; the tests only read it.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { baumWelchStep, type HmmParameters, hmmLogLikelihood, hmmPosterior, toObservations, viterbi } from "./hmm.js";

interface Parameters {
  initial: number[];
  transition: number[];
  means: number[];
  variances: number[];
}
interface GoldenCase {
  name: string;
  observations: number[][];
  parameters: Parameters;
  floor: number[];
  logLikelihood: number;
  posterior: number[];
  viterbi: number[];
  step: Parameters;
}

const golden = JSON.parse(readFileSync(new URL("../golden/hmm.json", import.meta.url), "utf8")) as {
  cases: GoldenCase[];
};

function parameters(p: Parameters, d: number): HmmParameters {
  return {
    states: p.initial.length,
    dimensions: d,
    initial: Float64Array.from(p.initial),
    transition: Float64Array.from(p.transition),
    means: Float64Array.from(p.means),
    variances: Float64Array.from(p.variances),
  };
}

function expectClose(actual: ArrayLike<number>, expected: number[], relative: number, absolute: number, what: string) {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] as number;
    const a = actual[i] as number;
    expect(Math.abs(a - e), `${what}[${i}]: ${a} vs ${e}`).toBeLessThanOrEqual(
      Math.max(absolute, relative * Math.abs(e)),
    );
  }
}

describe("Gaussian HMM against numpy/scipy in log space", () => {
  test("the cases are all there", () => {
    expect(golden.cases.map((c) => c.name)).toEqual([
      "two-state",
      "three-state",
      "two-dimensions",
      "outlier-and-floor",
    ]);
  });

  for (const c of golden.cases) {
    const obs = toObservations(c.observations);
    const p = parameters(c.parameters, obs.d);

    test(`${c.name}: forward log-likelihood and posteriors`, () => {
      expectClose([hmmLogLikelihood(obs, p)], [c.logLikelihood], 1e-12, 0, "log-likelihood");
      const { posterior, logLikelihood } = hmmPosterior(obs, p);
      expect(logLikelihood).toBe(hmmLogLikelihood(obs, p));
      expectClose(posterior, c.posterior, 0, 1e-10, "posterior");
    });

    test(`${c.name}: Viterbi path`, () => {
      expect(Array.from(viterbi(obs, p))).toEqual(c.viterbi);
    });

    test(`${c.name}: one Baum–Welch step`, () => {
      const { parameters: next, logLikelihood } = baumWelchStep(obs, p, Float64Array.from(c.floor));
      expectClose([logLikelihood], [c.logLikelihood], 1e-12, 0, "log-likelihood");
      expectClose(next.initial, c.step.initial, 1e-9, 1e-12, "initial");
      expectClose(next.transition, c.step.transition, 1e-9, 1e-12, "transition");
      expectClose(next.means, c.step.means, 1e-9, 1e-15, "means");
      expectClose(next.variances, c.step.variances, 1e-9, 0, "variances");
    });
  }
});
