"""Golden vectors for @stratreg/quant, computed independently with numpy and scipy.

Each metric is computed directly from its definition in DESIGN.md ("Quant conventions"):
wealth as a cumulative product, moments with scipy.stats (population, biased estimators),
Φ and Φ⁻¹ with scipy.stats.norm. The reference points for Φ and Φ⁻¹ themselves come from
mpmath at 40 digits: scipy's are good to about 1e-13 in the far tail (Φ(−37)), not to the
1e-15 the TypeScript is held to. Run `python3 golden.py` to rewrite golden.json next to it.
NaN is written as null (JSON has no NaN).
"""

import json
import math
from pathlib import Path

import mpmath
import numpy as np
from scipy import stats

EULER_GAMMA = 0.5772156649015329


def series():
    rng = np.random.default_rng(20240607)
    out = []
    out.append(("normal", rng.normal(0.0006, 0.011, 500), dict(periodsPerYear=252, riskFree=0.0, mar=0.0)))
    # Negatively skewed, fat-tailed: small steady gains, rare large losses.
    lognormal = rng.lognormal(0.0, 0.6, 400)
    skewed = 0.0015 - 0.004 * (lognormal - math.exp(0.18))
    out.append(("skewed", skewed, dict(periodsPerYear=252, riskFree=0.0001, mar=0.0002)))
    # A long drawdown: a slide, a flat stretch, a partial recovery.
    slide = np.concatenate([rng.normal(0.002, 0.004, 40), rng.normal(-0.003, 0.006, 120), rng.normal(0.0, 0.003, 60),
                            rng.normal(0.002, 0.005, 80)])
    out.append(("long-drawdown", slide, dict(periodsPerYear=252, riskFree=0.0, mar=0.0)))
    out.append(("all-positive", rng.uniform(0.0001, 0.003, 50), dict(periodsPerYear=52, riskFree=0.0, mar=0.0)))
    out.append(("tiny", np.array([0.02, -0.01, 0.005]), dict(periodsPerYear=12, riskFree=0.001, mar=0.0)))
    return out


def metrics(r, c):
    a, rf, mar = c["periodsPerYear"], c["riskFree"], c["mar"]
    n = len(r)
    sd = np.std(r, ddof=1)
    sr = np.mean(r - rf) / sd  # per period
    downside = math.sqrt(np.mean(np.minimum(r - mar, 0.0) ** 2)) * math.sqrt(a)
    wealth = np.cumprod(1.0 + r)
    peak = np.maximum.accumulate(np.concatenate([[1.0], wealth]))[1:]
    drawdown = wealth / peak - 1.0
    mdd = min(0.0, float(drawdown.min()))
    longest = run = 0
    for w, p in zip(wealth, peak):
        run = run + 1 if w < p else 0
        longest = max(longest, run)
    cagr = wealth[-1] ** (a / n) - 1.0
    skew = stats.skew(r, bias=True)
    kurt = stats.kurtosis(r, fisher=False, bias=True)
    return dict(
        periods=n,
        mean=float(np.mean(r)),
        volatility=float(sd * math.sqrt(a)),
        sharpe=float(sr * math.sqrt(a)),
        sortino=float(np.mean(r - mar) * a / downside) if downside > 0 else None,
        downsideRisk=downside,
        cagr=float(cagr),
        totalReturn=float(wealth[-1] - 1.0),
        maxDrawdown=mdd,
        maxDrawdownDuration=longest,
        calmar=float(cagr / abs(mdd)) if mdd < 0 else None,
        skewness=float(skew),
        kurtosis=float(kurt),
        psr=psr(sr, n, skew, kurt, 0.0),
    ), sr, skew, kurt


def variance_factor(sr, skew, kurt):
    return 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr**2


def psr(sr, n, skew, kurt, sr_star):
    return float(stats.norm.cdf((sr - sr_star) * math.sqrt(n - 1) / math.sqrt(variance_factor(sr, skew, kurt))))


def expected_max_sharpe(trials, variance):
    return float(math.sqrt(variance) * ((1 - EULER_GAMMA) * stats.norm.ppf(1 - 1 / trials)
                                        + EULER_GAMMA * stats.norm.ppf(1 - 1 / (trials * math.e))))


def min_trl(sr, skew, kurt, sr_star, p):
    return float(1 + variance_factor(sr, skew, kurt) * (stats.norm.ppf(p) / (sr - sr_star)) ** 2)


def quantile(p):
    """Φ⁻¹(p) by solving Φ(x) = p in 40-digit arithmetic, from scipy's value as the start."""
    if p == 0.5:
        return 0.0
    with mpmath.workdps(40):
        target = mpmath.log(mpmath.mpf(p))
        return float(mpmath.findroot(lambda x: mpmath.log(mpmath.ncdf(x)) - target, float(stats.norm.ppf(p))))


def main():
    cases = []
    for name, r, c in series():
        m, sr, skew, kurt = metrics(r, c)
        root_a = math.sqrt(c["periodsPerYear"])
        # Sharpe ratios in and out of the inference are annualised; the formulas run per period.
        sr_star_annual = 0.5
        trials, variance_annual = 50, 0.3
        e_max = expected_max_sharpe(trials, variance_annual)
        inference = dict(
            srStar=sr_star_annual,
            psrAtSrStar=psr(sr, len(r), skew, kurt, sr_star_annual / root_a),
            trials=trials,
            sharpeVariance=variance_annual,
            expectedMaxSharpe=e_max,
            deflatedSharpe=psr(sr, len(r), skew, kurt, e_max / root_a),
            confidence=0.95,
            minTrackRecordLength=min_trl(sr, skew, kurt, 0.0, 0.95) if sr > 0 else None,
        )
        cases.append(dict(name=name, conventions=c, returns=[float(x) for x in r], metrics=m, inference=inference))

    expected_max = [dict(trials=t, variance=v, value=expected_max_sharpe(t, v))
                    for t, v in [(2, 1.0), (10, 1.0), (100, 0.5), (1000, 2.0), (1e6, 0.01)]]
    cdf_points = [-37.0, -20.0, -8.0, -3.5, -1.0, -0.3, 0.0, 0.2, 0.6744, 1.5, 3.0, 6.0, 8.0]
    quantile_points = [1e-300, 1e-50, 1e-10, 1e-4, 0.01, 0.024, 0.2, 0.4999, 0.5, 0.75, 0.9, 0.975, 0.999999]
    golden = dict(
        generator="golden.py (numpy %s, scipy %s, mpmath %s)" % (np.__version__, __import__("scipy").__version__, mpmath.__version__),
        cases=cases,
        expectedMaxSharpe=expected_max,
        normalCdf=[dict(x=x, value=float(mpmath.ncdf(x))) for x in cdf_points],
        normalQuantile=[dict(p=p, value=quantile(p)) for p in quantile_points],
    )
    path = Path(__file__).with_name("golden.json")
    path.write_text(json.dumps(golden, indent=1, allow_nan=False) + "\n")


if __name__ == "__main__":
    main()
