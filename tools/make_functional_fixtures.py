#!/usr/bin/python3
"""Reference values of torch.autograd.functional (torch 1.13, CPU, float64) for descent's
derivatives (jacobian, hessian, vjp, jvp, hvp, vhp): tests/fixtures/autograd_functional.json.

Rerun from the repository root with the system interpreter:

    /usr/bin/python3 tools/make_functional_fixtures.py

The functions are written with ops descent has, so tests/autograd/derivatives_test.cpp computes
the same ones; their fixed matrices come from the file. Deterministic: two runs write
byte-identical files.
"""

import json

import torch
from torch.autograd import functional as F

torch.set_default_dtype(torch.float64)
torch.manual_seed(0)

A = torch.randn(3, 4)
W = torch.randn(3, 4)
b = torch.randn(3)


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def quartic(x):
    return (torch.exp(x) * x * x).sum() + torch.tanh(x).sum() * x.sum()


def lse(x):
    return torch.logsumexp(A @ x, 0)


def layer(x):
    return torch.tanh(W @ x + b)


def softmax(x):
    return torch.softmax(x, 0)


SCALAR = {"rosenbrock": rosenbrock, "quartic": quartic, "logsumexp": lse}
VECTOR = {"layer": layer, "softmax": softmax}
POINTS = {
    "rosenbrock": [[-1.5, 2.0], [1.0, 1.0], [0.3, -0.7]],
    "quartic": [[0.5, -1.0, 2.0, 0.1]],
    "logsumexp": [[0.2, -0.4, 1.1, -2.0]],
    "layer": [[0.3, -0.2, 0.8, -1.1]],
    "softmax": [[1.0, -0.5, 0.25, 2.0]],
}


def values(t):
    return [float(v) for v in t.detach().reshape(-1)]


def main():
    cases = []
    for name, points in POINTS.items():
        for point in points:
            x = torch.tensor(point)
            v = torch.linspace(-1.0, 1.5, x.numel())
            case = {"function": name, "x": point, "v": values(v)}
            if name in SCALAR:
                f = SCALAR[name]
                case["value"] = float(f(x))
                case["hessian"] = values(F.hessian(f, x))
                case["hvp"] = values(F.hvp(f, x, v)[1])
                case["vhp"] = values(F.vhp(f, x, v)[1])
                case["jacobian"] = values(F.jacobian(f, x))  # the gradient
            else:
                f = VECTOR[name]
                y = f(x)
                u = torch.linspace(0.5, -2.0, y.numel())
                case["u"] = values(u)
                case["jacobian"] = values(F.jacobian(f, x))
                case["vjp"] = values(F.vjp(f, x, u)[1])
                case["jvp"] = values(F.jvp(f, x, v)[1])
                case["output_size"] = y.numel()
            cases.append(case)
    out = {
        "about": "torch.autograd.functional 1.13 (float64) on the functions of "
                 "tools/make_functional_fixtures.py; tensors flattened row-major",
        "A": values(A), "W": values(W), "b": values(b),
        "cases": cases,
    }
    with open("tests/fixtures/autograd_functional.json", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
