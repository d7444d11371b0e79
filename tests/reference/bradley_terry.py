#!/usr/bin/env python3
"""Goldens for the leaderboard's Bradley-Terry fit (ml/eval/bradley_terry.*, issue 22), by an
independent route: the fit as a logistic regression solved by scipy.optimize.minimize.

Run: tests/reference/.venv/bin/python tests/reference/bradley_terry.py  (seeded; rewrites
tests/reference/golden/bradley_terry/cases.json). Read by tests/ml/bradley_terry_test.cpp.

Each comparison (i, j, s) is one row of a logistic regression with the design row e_i - e_j and a
fractional outcome s (1 win, 0.5 tie, 0 loss): the negative log-likelihood
    -sum [s log sigmoid(x.theta) + (1 - s) log sigmoid(-x.theta)] + ridge / 2 * |theta|^2
is minimised by BFGS with scipy's own line search (not Newton, as the C++ does), the gradient
X^T (sigmoid(X theta) - s) + ridge theta. With ridge 0 theta_0 is pinned at 0 (the thetas are
defined up to a shift) and the result centred to mean 0, as the C++ returns it.
"""

import json
import pathlib

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit

OUT = pathlib.Path(__file__).resolve().parent / "golden" / "bradley_terry"


def fit(num_models, outcomes, ridge):
    x = np.zeros((len(outcomes), num_models))
    s = np.array([o[2] for o in outcomes], dtype=np.float64)
    for row, (i, j, _) in enumerate(outcomes):
        x[row, i] += 1.0
        x[row, j] -= 1.0
    free = slice(1, None) if ridge == 0 else slice(0, None)

    def full(params):
        theta = np.zeros(num_models)
        theta[free] = params
        return theta

    def loss(params):
        theta = full(params)
        z = x @ theta
        value = -np.sum(s * log_expit(z) + (1 - s) * log_expit(-z)) + 0.5 * ridge * theta @ theta
        grad = x.T @ (expit(z) - s) + ridge * theta
        return value, grad[free]

    start = np.zeros(num_models)[free]
    result = minimize(loss, start, jac=True, method="BFGS",
                      options={"gtol": 1e-12, "maxiter": 10000})
    theta = full(result.x)
    theta -= theta.mean()
    z = x @ theta
    loglik = float(np.sum(s * log_expit(z) + (1 - s) * log_expit(-z)))
    return theta, loglik, float(np.max(np.abs(result.jac)))


def random_outcomes(rng, num_models, count, strengths, tie_rate):
    outcomes = []
    for _ in range(count):
        i, j = rng.choice(num_models, size=2, replace=False)
        p = expit(strengths[i] - strengths[j])
        u = rng.random()
        if u < tie_rate:
            score = 0.5
        else:
            score = 1.0 if rng.random() < p else 0.0
        outcomes.append([int(i), int(j), score])
    return outcomes


def main():
    rng = np.random.default_rng(22)
    cases = []
    # Two models, 7 wins of 10: theta_0 - theta_1 = log(7/3) in closed form.
    cases.append({"name": "two_models_7_of_10", "num_models": 2, "ridge": 0.0,
                  "outcomes": [[0, 1, 1.0]] * 7 + [[0, 1, 0.0]] * 3})
    # Ties counted as half a win, both orders of a pair, ridge 0.
    cases.append({"name": "four_models_ties", "num_models": 4, "ridge": 0.0,
                  "outcomes": [[0, 1, 1.0], [1, 0, 1.0], [0, 1, 0.5], [1, 2, 1.0], [2, 1, 0.0],
                               [2, 3, 0.5], [3, 2, 1.0], [0, 3, 0.0], [3, 0, 0.0], [0, 2, 1.0],
                               [2, 0, 1.0], [1, 3, 0.5], [3, 1, 1.0], [0, 3, 1.0]]})
    # A model that never lost (model 4 wins all): finite only through the ridge.
    undefeated = random_outcomes(rng, 4, 40, np.array([0.0, 0.5, -0.3, 1.0]), 0.2)
    undefeated += [[4, int(k % 4), 1.0] for k in range(6)]
    cases.append({"name": "undefeated_ridge", "num_models": 5, "ridge": 0.1,
                  "outcomes": undefeated})
    # A larger random tournament with ties and a strong ridge.
    strengths = rng.normal(0.0, 1.0, size=7)
    cases.append({"name": "seven_models_ridge_1", "num_models": 7, "ridge": 1.0,
                  "outcomes": random_outcomes(rng, 7, 150, strengths, 0.15)})
    cases.append({"name": "seven_models_ridge_0", "num_models": 7, "ridge": 0.0,
                  "outcomes": random_outcomes(rng, 7, 300, strengths, 0.1)})
    for case in cases:
        theta, loglik, grad = fit(case["num_models"], case["outcomes"], case["ridge"])
        case["theta"] = theta.tolist()
        case["log_likelihood"] = loglik
        case["scipy_max_gradient"] = grad
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "cases.json").write_text(json.dumps({"cases": cases}, indent=1) + "\n")
    print(f"wrote {OUT / 'cases.json'}: {len(cases)} cases")


if __name__ == "__main__":
    main()
