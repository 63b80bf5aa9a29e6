"""Golden vectors for @stratreg/market's Gaussian HMM (src/hmm.ts), computed independently.

The TypeScript scales the forward-backward pass per step; this computes it in log space with
scipy's logsumexp and norm.logpdf, the textbook way, so the two share no code path. For fixed
parameters and observations drawn by numpy it records the forward log-likelihood, the state
posteriors, the Viterbi path and one Baum-Welch re-estimation (variances floored as given).
Run `python3 hmm.py` to rewrite hmm.json next to it.
"""

import json
from pathlib import Path

import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm


def log_emissions(x, means, variances):
    # x: n x d, means/variances: K x d -> n x K, diagonal covariances.
    return norm.logpdf(x[:, None, :], means[None, :, :], np.sqrt(variances)[None, :, :]).sum(axis=2)


def forward_backward(x, initial, transition, means, variances):
    log_b = log_emissions(x, means, variances)
    log_a = np.log(transition)
    n, k = log_b.shape
    log_alpha = np.empty((n, k))
    log_alpha[0] = np.log(initial) + log_b[0]
    for t in range(1, n):
        log_alpha[t] = logsumexp(log_alpha[t - 1][:, None] + log_a, axis=0) + log_b[t]
    log_likelihood = logsumexp(log_alpha[-1])
    log_beta = np.zeros((n, k))
    for t in range(n - 2, -1, -1):
        log_beta[t] = logsumexp(log_a + (log_b[t + 1] + log_beta[t + 1])[None, :], axis=1)
    posterior = np.exp(log_alpha + log_beta - log_likelihood)
    xi = np.zeros((k, k))
    for t in range(n - 1):
        xi += np.exp(log_alpha[t][:, None] + log_a + (log_b[t + 1] + log_beta[t + 1])[None, :] - log_likelihood)
    return log_likelihood, posterior, xi


def baum_welch_step(x, initial, transition, means, variances, floor):
    _, posterior, xi = forward_backward(x, initial, transition, means, variances)
    weight = posterior.sum(axis=0)
    new_means = (posterior.T @ x) / weight[:, None]
    new_variances = np.stack([(posterior[:, k][:, None] * (x - new_means[k]) ** 2).sum(axis=0) / weight[k]
                              for k in range(len(weight))])
    return dict(
        initial=posterior[0].tolist(),
        transition=(xi / xi.sum(axis=1, keepdims=True)).ravel().tolist(),
        means=new_means.ravel().tolist(),
        variances=np.maximum(new_variances, floor[None, :]).ravel().tolist(),
    )


def viterbi(x, initial, transition, means, variances):
    log_b = log_emissions(x, means, variances)
    log_a = np.log(transition)
    n, k = log_b.shape
    delta = np.log(initial) + log_b[0]
    back = np.zeros((n, k), dtype=int)
    for t in range(1, n):
        scores = delta[:, None] + log_a
        back[t] = scores.argmax(axis=0)
        delta = scores.max(axis=0) + log_b[t]
    path = [int(delta.argmax())]
    for t in range(n - 1, 0, -1):
        path.append(int(back[t][path[-1]]))
    return path[::-1]


def simulate(rng, n, stay, sds, d):
    state = 0
    rows = []
    for _ in range(n):
        if rng.random() > stay:
            state = (state + 1 + rng.integers(len(sds) - 1)) % len(sds)
        rows.append(rng.normal(0.0, sds[state], d))
    return np.array(rows)


def case(name, x, initial, transition, means, variances, floor):
    initial, transition = np.array(initial), np.array(transition)
    means, variances, floor = np.array(means), np.array(variances), np.array(floor)
    log_likelihood, posterior, _ = forward_backward(x, initial, transition, means, variances)
    return dict(
        name=name,
        observations=x.T.tolist(),  # one list per dimension
        parameters=dict(initial=initial.tolist(), transition=transition.ravel().tolist(),
                        means=means.ravel().tolist(), variances=variances.ravel().tolist()),
        floor=floor.tolist(),
        logLikelihood=float(log_likelihood),
        posterior=posterior.ravel().tolist(),
        viterbi=viterbi(x, initial, transition, means, variances),
        step=baum_welch_step(x, initial, transition, means, variances, floor),
    )


def main():
    rng = np.random.default_rng(20240611)
    cases = []
    x = simulate(rng, 250, 0.97, [0.01, 0.03], 1)
    cases.append(case("two-state", x, [0.6, 0.4], [[0.95, 0.05], [0.1, 0.9]], [[0.0005], [-0.001]],
                      [[1e-4], [9e-4]], [1e-8]))
    x = simulate(rng, 300, 0.95, [0.005, 0.01, 0.025], 1)
    cases.append(case("three-state", x, [0.2, 0.5, 0.3],
                      [[0.9, 0.07, 0.03], [0.05, 0.9, 0.05], [0.02, 0.08, 0.9]],
                      [[0.0], [0.001], [-0.002]], [[3e-5], [1e-4], [5e-4]], [1e-8]))
    x = simulate(rng, 200, 0.96, [0.01, 0.02], 2)
    cases.append(case("two-dimensions", x, [0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]],
                      [[0.0, 0.001], [0.0, -0.001]], [[1e-4, 2e-4], [4e-4, 3e-4]], [1e-8, 1e-8]))
    # A crash no state expects: its emission is e^-1000 under both, which a plain
    # forward pass would underflow to zero; and a variance floor that binds.
    x = simulate(rng, 120, 0.97, [0.01, 0.02], 1)
    x[60, 0] = 0.9
    cases.append(case("outlier-and-floor", x, [0.5, 0.5], [[0.97, 0.03], [0.05, 0.95]], [[0.0], [0.0]],
                      [[1e-4], [4e-4]], [2.5e-4]))
    out = Path(__file__).with_name("hmm.json")
    out.write_text(json.dumps(dict(cases=cases), indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
