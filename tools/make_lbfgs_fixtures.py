#!/usr/bin/python3
"""Reference trajectories of torch.optim.LBFGS (torch 1.13, CPU, float64) for descent's L-BFGS:
tests/fixtures/lbfgs_trajectories.json.

Rerun from the repository root with the system interpreter:

    /usr/bin/python3 tools/make_lbfgs_fixtures.py

Two problems, written with ops descent has so that tests/optim/lbfgs_test.cpp computes the same
ones: Rosenbrock's function from (-1.5, 2), and a small regression MLP
(mean((tanh(X·W1ᵀ + b1)·W2ᵀ + b2 − Y)²), 4-6-3, 16 samples, fixed data and initial weights in
the file). Each setting runs a few outer step(closure) calls; after each the file holds the
loss step() returned, the parameters, torch's state counters func_evals and n_iter, and the
step's sensitivity: how far a twin run whose gradients are perturbed by a relative 1e-13 has
drifted (a C++ run differs from torch's by rounding, ~1e-16 relative per operation, and
quasi-Newton iterations amplify such differences; the test sizes its tolerance by it).
Deterministic: two runs write byte-identical files.
"""

import json

import torch

torch.set_default_dtype(torch.float64)


def rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def mlp_problem():
    g = torch.Generator().manual_seed(0)
    data = {
        "X": torch.randn(16, 4, generator=g),
        "Y": torch.randn(16, 3, generator=g),
        "W1": torch.randn(6, 4, generator=g) * 0.5,
        "b1": torch.randn(6, generator=g) * 0.1,
        "W2": torch.randn(3, 6, generator=g) * 0.5,
        "b2": torch.randn(3, generator=g) * 0.1,
    }
    return data


def mlp_loss(d, W1, b1, W2, b2):
    h = torch.tanh(d["X"] @ W1.T + b1)
    r = h @ W2.T + b2 - d["Y"]
    return (r * r).mean()


SETTINGS = [
    {"name": "rosenbrock_plain", "problem": "rosenbrock", "steps": 6,
     "options": {"lr": 0.25, "max_iter": 20, "history_size": 100, "line_search_fn": None}},
    {"name": "rosenbrock_wolfe", "problem": "rosenbrock", "steps": 6,
     "options": {"lr": 1.0, "max_iter": 20, "history_size": 10, "line_search_fn": "strong_wolfe"}},
    {"name": "rosenbrock_short_history", "problem": "rosenbrock", "steps": 5,
     "options": {"lr": 1.0, "max_iter": 10, "history_size": 3, "line_search_fn": "strong_wolfe"}},
    {"name": "mlp_plain", "problem": "mlp", "steps": 4,
     "options": {"lr": 0.5, "max_iter": 10, "history_size": 5, "line_search_fn": None}},
    {"name": "mlp_wolfe", "problem": "mlp", "steps": 4,
     "options": {"lr": 1.0, "max_iter": 10, "history_size": 5, "line_search_fn": "strong_wolfe"}},
]


def values(t):
    return [float(v) for v in t.detach().reshape(-1)]


def run(setting, perturb=0.0):
    noise = torch.Generator().manual_seed(1)
    if setting["problem"] == "rosenbrock":
        params = [torch.tensor([-1.5, 2.0], requires_grad=True)]
        loss_fn = lambda: rosenbrock(params[0])
    else:
        d = mlp_problem()
        params = [d[k].clone().requires_grad_() for k in ("W1", "b1", "W2", "b2")]
        loss_fn = lambda: mlp_loss(d, *params)
    opt = torch.optim.LBFGS(params, **setting["options"])

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        if perturb:
            for p in params:
                p.grad.mul_(1 + perturb * torch.randn(p.shape, generator=noise))
        return loss

    steps = []
    for _ in range(setting["steps"]):
        returned = opt.step(closure)
        state = opt.state[params[0]]
        steps.append({
            "returned_loss": float(returned),
            "params": [values(p) for p in params],
            "func_evals": int(state["func_evals"]),
            "n_iter": int(state["n_iter"]),
        })
    out = dict(setting)
    out["steps_taken"] = steps
    return out


def with_sensitivity(setting):
    """The run, and per step how far a twin drifts whose gradients are multiplied by
    (1 + 1e-13·ξ): max over parameters of |θ_twin − θ| / max(|θ|, 1)."""
    out = run(setting)
    twin = run(setting, perturb=1e-13)
    for step, other in zip(out["steps_taken"], twin["steps_taken"]):
        step["sensitivity"] = max(
            abs(a - b) / max(abs(a), 1.0)
            for pa, pb in zip(step["params"], other["params"]) for a, b in zip(pa, pb))
    return out


def main():
    d = mlp_problem()
    out = {
        "about": "torch.optim.LBFGS 1.13 (float64) trajectories; see tools/make_lbfgs_fixtures.py",
        "mlp": {k: {"shape": list(v.shape), "values": values(v)} for k, v in d.items()},
        "runs": [with_sensitivity(s) for s in SETTINGS],
    }
    with open("tests/fixtures/lbfgs_trajectories.json", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
