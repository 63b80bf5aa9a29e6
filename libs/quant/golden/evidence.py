"""Golden vectors for the backtest evidence summaries and the Deflated Sharpe gate of
@stratreg/quant (src/evidence.ts, src/gates.ts), computed independently with numpy and scipy.
Run `python3 evidence.py` to rewrite evidence.json next to it (then
`npx biome check --write libs/quant/golden`, which formats it as the lint expects).

- Sharpe ratio: mean / std(ddof=1) * sqrt(A), rf = 0; undefined (null) for fewer than 2 returns
  or all returns equal. In-sample = returns[:oosStart], out-of-sample = returns[oosStart:].
- Max drawdown: wealth as np.cumprod(1 + r), the peak including V0 = 1, as a positive fraction.
- Skewness, kurtosis: scipy.stats.skew(bias=True), kurtosis(fisher=False, bias=True).
- A fold is positive when np.prod(1 + r[start:end]) - 1 > 0; each regime's Sharpe ratio is of
  its returns in order; regimes sorted by name.
- trialSharpeVariance: np.var(ddof=1); worst perturbation ratio: min(sharpe_p / sharpe).
- DSR: Phi((SR - SR*/sqrt(A)) sqrt(n - 1) / sqrt(1 - g3 SR + (g4 - 1)/4 SR^2)), SR per period,
  SR* = sqrt(V) ((1 - gamma) Phi^-1(1 - 1/N) + gamma Phi^-1(1 - 1/(N e))), with the gate's choice
  of N (the larger of the family's and the evidence's) and V (the family's, else the evidence's
  trial variance, else A/(T - 1)).
- Percentiles: np.percentile(x, 100 q) (the default linear method) of fixed arrays.
- Monte Carlo: sfc32 (PractRand's Small Fast Counting generator, seeded a = 0, b = seed, c = 0,
  counter = 1, 12 outputs discarded) written out here in Python, index int(u * (m / 2**32)) per
  draw, each resample's Sharpe ratio by numpy (-inf when its draws are all equal), sorted, and
  the 5th percentile by np.percentile. Not finite is written as null.
"""

import json
import math
from pathlib import Path

import numpy as np
from scipy import stats

EULER_GAMMA = 0.5772156649015329
MASK = 0xFFFFFFFF


def sharpe(r, a):
    r = np.asarray(r, dtype=float)
    if len(r) < 2 or np.all(r == r[0]):
        return None
    return float(np.mean(r) / np.std(r, ddof=1) * math.sqrt(a))


def max_drawdown(r):
    wealth = np.cumprod(1.0 + np.asarray(r))
    peak = np.maximum.accumulate(np.concatenate([[1.0], wealth]))[1:]
    return float(-min(0.0, float((wealth / peak - 1.0).min())))


def expected_max_sharpe(trials, variance):
    if trials == 1:
        return 0.0
    return float(math.sqrt(variance) * ((1 - EULER_GAMMA) * stats.norm.ppf(1 - 1 / trials)
                                        + EULER_GAMMA * stats.norm.ppf(1 - 1 / (trials * math.e))))


def deflated(r, a, trials, variance):
    n = len(r)
    sr = np.mean(r) / np.std(r, ddof=1)
    skew = stats.skew(r, bias=True)
    kurt = stats.kurtosis(r, fisher=False, bias=True)
    sr_star = expected_max_sharpe(trials, variance)
    factor = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr**2
    z = (sr - sr_star / math.sqrt(a)) * math.sqrt(n - 1) / math.sqrt(factor)
    return sr_star, float(stats.norm.cdf(z))


def summary(ev):
    r = np.array(ev["returns"])
    a = ev.get("periodsPerYear", 252)
    n = len(r)
    full = sharpe(r, a)
    split = ev.get("oosStart")
    folds = ev.get("folds", [])
    fold_returns = [float(np.prod(1.0 + r[s:e]) - 1.0) for s, e in folds]
    regimes = []
    labels = ev.get("regimes")
    if labels is not None:
        for name in sorted(set(labels)):
            part = r[np.array(labels) == name]
            regimes.append(dict(regime=name, periods=int(len(part)), sharpe=sharpe(part, a)))
    ts = ev.get("trialSharpes")
    perturbations = ev.get("perturbations", [])
    return dict(
        periods=n,
        sharpe=full,
        maxDrawdown=max_drawdown(r),
        skewness=float(stats.skew(r, bias=True)),
        kurtosis=float(stats.kurtosis(r, fisher=False, bias=True)),
        inSampleSharpe=None if split is None else sharpe(r[:split], a),
        outOfSampleSharpe=None if split is None else sharpe(r[split:], a),
        foldReturns=fold_returns,
        positiveFolds=sum(1 for x in fold_returns if x > 0),
        regimes=regimes,
        trialSharpeVariance=float(np.var(ts, ddof=1)) if ts is not None and len(ts) >= 2 else None,
        worstRatio=min(p["sharpe"] / full for p in perturbations) if perturbations and full > 0 else None,
    )


def deflated_gates(ev, families):
    r = np.array(ev["returns"])
    a = ev.get("periodsPerYear", 252)
    own_trials = ev.get("trials", 1)
    ts = ev.get("trialSharpes")
    out = []
    for family in families:
        trials = max(family["trials"], own_trials)
        if family["sharpeVariance"] is not None:
            variance = family["sharpeVariance"]
        elif ts is not None and len(ts) >= 2:
            variance = float(np.var(ts, ddof=1))
        else:
            variance = a / (len(r) - 1)
        sr_star, dsr = deflated(r, a, trials, variance)
        out.append(dict(family=family, trials=trials, variance=variance, srStar=sr_star, deflatedSharpe=dsr))
    return out


class Sfc32:
    def __init__(self, seed):
        self.a, self.b, self.c, self.counter = 0, seed & MASK, 0, 1
        for _ in range(12):
            self.next()

    def next(self):
        t = (self.a + self.b + self.counter) & MASK
        self.counter = (self.counter + 1) & MASK
        self.a = self.b ^ (self.b >> 9)
        self.b = (self.c + (self.c << 3)) & MASK
        self.c = ((((self.c << 21) | (self.c >> 11)) & MASK) + t) & MASK
        return t


def bootstrap(values, runs, seed, a):
    values = np.asarray(values, dtype=float)
    m = len(values)
    scale = m / 2.0**32
    rng = Sfc32(seed)
    sharpes = []
    for _ in range(runs):
        draw = values[[int(rng.next() * scale) for _ in range(m)]]
        s = sharpe(draw, a)
        sharpes.append(-math.inf if s is None else s)
    sharpes.sort()
    with np.errstate(invalid="ignore"):  # -inf - -inf when the percentile falls among the -inf
        p5 = float(np.percentile(sharpes, 5))
    return [x if math.isfinite(x) else None for x in sharpes], p5 if math.isfinite(p5) else None


def cases():
    rng = np.random.default_rng(20250301)
    out = []
    # Three years of daily returns: a regime pattern, a small "crash" regime, six half-year folds.
    n = 756
    r = rng.normal(0.0007, 0.01, n)
    labels = ["bull" if (i // 90) % 3 == 0 else "bear" if (i // 90) % 3 == 1 else "sideways" for i in range(n)]
    for i in range(300, 310):
        labels[i] = "crash"
        r[i] = rng.normal(-0.01, 0.02)
    trial_sharpes = [float(x) for x in rng.normal(0.6, 0.5, 12)]
    out.append(("daily", dict(
        returns=[float(x) for x in r],
        oosStart=504,
        folds=[[i * 126, (i + 1) * 126] for i in range(6)],
        regimes=labels,
        trials=12,
        trialSharpes=trial_sharpes,
        perturbations=[dict(param="lookback", change=0.1, sharpe=1.1), dict(param="lookback", change=-0.1, sharpe=0.9),
                       dict(param="threshold", change=0.1, sharpe=0.55)],
    ), [dict(trials=50, sharpeVariance=0.4), dict(trials=3, sharpeVariance=None)]))
    # Weekly, negatively skewed, with trades, overlapping folds, a fold that nets exactly zero
    # (1.25 * 0.8 = 1) and a regime of constant returns (no Sharpe ratio).
    n = 300
    lognormal = rng.lognormal(0.0, 0.5, n)
    r = 0.004 - 0.01 * (lognormal - math.exp(0.125))
    r[40], r[41] = 0.25, -0.2
    labels = ["calm" if i % 5 else "stressed" for i in range(n)]
    for i in range(200, 230):
        r[i] = 0.0
        labels[i] = "closed"
    out.append(("weekly", dict(
        returns=[float(x) for x in r],
        periodsPerYear=52,
        trades=[float(x) for x in rng.normal(0.002, 0.03, 150)],
        oosStart=180,
        folds=[[0, 100], [50, 150], [40, 42], [100, 200], [150, 300], [200, 230]],
        regimes=labels,
        trials=4,
        perturbations=[dict(param="stop", change=-0.1, sharpe=-0.2)],
    ), [dict(trials=1, sharpeVariance=None), dict(trials=200, sharpeVariance=None), dict(trials=200, sharpeVariance=0.0)]))
    return out


def percentiles():
    rng = np.random.default_rng(7)
    arrays = [[3.0, 1.0, 2.0], [0.5], [-1.0, 2.0], list(range(21)), [float(x) for x in rng.normal(0, 1, 201)],
              [float(x) for x in rng.standard_t(3, 37)]]
    out = []
    for x in arrays:
        xs = sorted(x)
        out.append(dict(sorted=xs, q=[0.0, 0.05, 0.5, 0.95, 1.0],
                        values=[float(np.percentile(xs, 100 * q)) for q in [0.0, 0.05, 0.5, 0.95, 1.0]]))
    return out


def monte_carlo():
    rng = np.random.default_rng(11)
    out = []
    for name, values, runs, seed, a in [
        ("drift", [float(x) for x in rng.normal(0.002, 0.01, 400)], 250, 7, 252),
        ("weekly-trades", [float(x) for x in rng.normal(0.0, 0.02, 37)], 400, 123456789, 52),
        # Nine equal values and one other: a third of the resamples are all equal (-inf), so the
        # 5th percentile is undefined, and the rest have a handful of distinct values.
        ("degenerate", [0.01] * 9 + [0.02], 200, 3, 252),
        ("seed-max", [0.01, -0.02, 0.015, -0.005, 0.02, -0.01, 0.03, -0.015, 0.005, 0.01], 100, 2**32 - 1, 252),
    ]:
        sharpes, p5 = bootstrap(values, runs, seed, a)
        out.append(dict(name=name, values=values, runs=runs, seed=seed, periodsPerYear=a, sharpes=sharpes, p5Sharpe=p5))
    return out


def main():
    golden = dict(
        generator="evidence.py (numpy %s, scipy %s)" % (np.__version__, __import__("scipy").__version__),
        cases=[dict(name=name, evidence=ev, summary=summary(ev), deflated=deflated_gates(ev, families))
               for name, ev, families in cases()],
        percentiles=percentiles(),
        monteCarlo=monte_carlo(),
    )
    path = Path(__file__).with_name("evidence.json")
    path.write_text(json.dumps(golden, indent=1, allow_nan=False) + "\n")


if __name__ == "__main__":
    main()
