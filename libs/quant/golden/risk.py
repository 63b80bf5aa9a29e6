"""Golden vectors for the risk functions of @stratreg/quant (src/portfolio.ts), computed
independently with numpy and scipy. Run `python3 risk.py` to rewrite risk.json next to it (then
`npx biome check --write libs/quant/golden`, which formats it as the lint expects).

- covariance: np.cov (ddof=1); correlation: np.corrcoef.
- Ledoit-Wolf shrinkage of the correlation matrix: sklearn.covariance.ledoit_wolf on the
  standardized series (population sd, so the shrinkage target mu*I is the identity). Without
  sklearn, the same formulas in numpy in sklearn's (expanded) form, from Ledoit & Wolf (2004):
  d2 = ||S - mu I||^2_F / p, b2 = (sum_t ||z_t||^4 / n - ||S||^2_F) / (n p), delta = min(b2, d2) / d2.
  The package's conventions on top: a constant series is left out (its correlations are 0),
  and delta = 1 (the identity) when n < 3, fewer than two series vary, or d2 = 0.
- clusters: scipy.sparse.csgraph.connected_components of the graph rho > threshold, relabelled
  in the order of first member.
- historical VaR/ES: np.quantile (default linear method); parametric: scipy.stats.norm.
- portfolio risk: sigma_p = sqrt(w' S w), marginal = z (S w)_i / sigma_p - mu_i.
"""

import json
import math
from pathlib import Path

import numpy as np
from scipy import stats
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

try:
    from sklearn.covariance import ledoit_wolf
except ImportError:  # not installed here: the numpy form of the same estimator below
    ledoit_wolf = None

LEVELS = [0.95, 0.99]
THRESHOLDS = [0.2, 0.4, 0.6]


def datasets():
    rng = np.random.default_rng(20250117)
    out = []
    # Five strategies, 250 days: 0-2 load on one factor, 3-4 on another, a little shared market.
    n = 250
    market = rng.normal(0, 0.004, n)
    f1 = rng.normal(0, 0.008, n)
    f2 = rng.normal(0, 0.006, n)
    loads = [(1.0, 0.0, 0.004), (0.9, 0.0, 0.005), (0.7, 0.0, 0.007), (0.0, 1.0, 0.005), (0.0, 0.8, 0.008)]
    x = np.array([0.0004 + market + a * f1 + b * f2 + rng.normal(0, s, n) for a, b, s in loads])
    out.append(("correlated", x, np.array([100_000.0, 50_000.0, -30_000.0, 80_000.0, 20_000.0])))
    # A short history: four strategies, twenty periods, two of them related.
    base = rng.normal(0, 0.01, 20)
    short = np.array([base + rng.normal(0, 0.006, 20), base + rng.normal(0, 0.01, 20), rng.normal(0.001, 0.012, 20),
                      rng.normal(-0.0005, 0.009, 20)])
    out.append(("short", short, np.array([10_000.0, 10_000.0, 5_000.0, -2_500.0])))
    out.append(("tiny", np.array([[0.01, -0.02, 0.015], [0.012, -0.01, 0.02], [-0.005, 0.01, 0.0]]),
                np.array([1.0, 2.0, -1.0])))
    # A constant series among varying ones (a strategy that has not traded).
    flat = rng.normal(0, 0.01, (3, 40))
    flat[1] = 0.0
    flat[2] += 0.5 * flat[0]
    out.append(("with-constant", flat, np.array([1_000.0, 500.0, 2_000.0])))
    return out


def lw_numpy(z):
    """Ledoit-Wolf intensity of standardized data z (n x p), sklearn's formula unblocked."""
    n, p = z.shape
    x = z - z.mean(0)
    s = x.T @ x / n
    mu = np.trace(s) / p
    beta_ = np.sum((x**2).T @ (x**2))
    delta_ = np.sum(s**2)
    beta = (beta_ / n - delta_) / (n * p)
    delta = (delta_ - 2.0 * mu * np.trace(s) + p * mu**2) / p
    beta = min(beta, delta)
    return 0.0 if beta == 0 else beta / delta


def shrunk(x):
    k, n = x.shape
    matrix = np.eye(k)
    varies = [i for i in range(k) if np.ptp(x[i]) > 0]
    if n < 3 or len(varies) < 2:
        return matrix, 1.0
    v = x[varies]
    z = ((v.T - v.mean(1)) / v.std(1, ddof=0))  # n x p
    r = np.corrcoef(v)
    p = len(varies)
    d2 = (np.sum(r**2) - p) / p
    if not d2 > 0:
        return matrix, 1.0
    delta = lw_numpy(z)
    if ledoit_wolf is not None:
        cov, sk = ledoit_wolf(z)
        assert abs(sk - delta) <= 1e-12 * max(delta, 1e-300), (sk, delta)
        assert np.allclose(cov, (1 - delta) * r + delta * np.eye(p), rtol=0, atol=1e-12)
    for a, i in enumerate(varies):
        for b, j in enumerate(varies):
            if i != j:
                matrix[i, j] = (1 - delta) * r[a, b]
    return matrix, float(delta)


def clusters(matrix, threshold):
    upper = np.triu(matrix > threshold, 1)
    _, raw = connected_components(csr_matrix(upper), directed=False)
    relabel = {}
    return [relabel.setdefault(int(c), len(relabel)) for c in raw]


def pairs(matrix, count):
    k = len(matrix)
    all_pairs = [(-matrix[i, j], i, j) for i in range(k) for j in range(i + 1, k)]
    return [dict(i=i, j=j, rho=float(-neg)) for neg, i, j in sorted(all_pairs)[:count]]


def historical(pnl, level):
    q = np.quantile(pnl, 1 - level)
    return float(-q), float(-pnl[pnl <= q].mean())


def parametric(mean, sd, level):
    z = stats.norm.ppf(level)
    return float(z * sd - mean), float(sd * stats.norm.pdf(z) / (1 - level) - mean)


def portfolio(w, cov, means, level):
    sw = cov @ w
    sd = math.sqrt(w @ sw)
    mean = float(w @ means)
    z = stats.norm.ppf(level)
    marginal = z * sw / sd - means
    var, es = parametric(mean, sd, level)
    return dict(level=level, sd=sd, mean=mean, var=var, es=es, marginal=marginal.tolist(),
                component=(w * marginal).tolist())


def flat(matrix):
    return [float(v) for v in np.asarray(matrix).ravel()]


def main():
    cases = []
    for name, x, w in datasets():
        k, n = x.shape
        cov = np.cov(x, ddof=1)
        matrix, delta = shrunk(x)
        means = x.mean(1)
        pnl = w @ x
        cases.append(dict(
            name=name,
            series=[[float(v) for v in row] for row in x],
            weights=w.tolist(),
            covariance=flat(cov),
            shrinkage=delta,
            shrunk=flat(matrix),
            clusters=[dict(threshold=t, labels=clusters(matrix, t)) for t in THRESHOLDS],
            pairs=pairs(matrix, 3),
            pnl=[float(v) for v in pnl],
            historical=[dict(level=lv, var=historical(pnl, lv)[0], es=historical(pnl, lv)[1]) for lv in LEVELS],
            portfolio=[portfolio(w, cov, means, lv) for lv in LEVELS],
            portfolioNoMeans=portfolio(w, cov, np.zeros(k), 0.99),
        ))
    scalar = [dict(mean=m, sd=s, level=lv, var=parametric(m, s, lv)[0], es=parametric(m, s, lv)[1])
              for m, s, lv in [(0.0, 1.0, 0.95), (0.0005, 0.012, 0.99), (-250.0, 4000.0, 0.975), (10.0, 0.0, 0.9),
                               (0.001, 0.02, 0.999)]]
    sk = __import__("sklearn").__version__ if ledoit_wolf is not None else "absent"
    golden = dict(
        generator="risk.py (numpy %s, scipy %s, sklearn %s)" % (np.__version__, __import__("scipy").__version__, sk),
        cases=cases,
        parametric=scalar,
    )
    path = Path(__file__).with_name("risk.json")
    path.write_text(json.dumps(golden, indent=1, allow_nan=False) + "\n")


if __name__ == "__main__":
    main()
