#!/usr/bin/python3
"""Reference fixtures from PyTorch for descent's composed-expression test.

Produces tests/fixtures/autograd_expressions.json, which tests/autograd/fixtures_test.cpp reads.
For every expression below the file records, all in float64:

  * its inputs: name, dtype (float64, or int64/bool for indices and masks), shape and values;
  * its output: shape and values (flattened in row-major order);
  * a fixed random weight w of the output's shape, and the gradient of sum(output * w) with
    respect to every float64 input;
  * unless the expression says hvp=False, a fixed random direction v (one tensor per float64
    input) and the Hessian-vector product  d/dx [ (d sum(output * w) / dx) . v ],
    computed with torch.autograd.grad(..., create_graph=True).

Rerun from the repository root with the system interpreter, which has torch installed:

    /usr/bin/python3 tools/make_autograd_fixtures.py

The output is deterministic: every expression draws its inputs from its own generator, seeded
from SEED and the expression's name, so adding an expression does not change the others.
Input values are chosen inside safe domains (positive under log/sqrt/pow, away from the kinks
of relu/abs/clamp/softplus, no ties for amax/amin/maximum/minimum); the script asserts this on
the actual intermediate values and stops if a choice ever lands too close to a kink.

When you add an expression here, add the same expression, written with descent ops, to the
table in tests/autograd/fixtures_test.cpp (the test fails if the two lists differ).
"""

import json
import math
import os
import re
import sys
import zlib

import torch
import torch.nn.functional as F

SEED = 20240611
OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests",
                      "fixtures", "autograd_expressions.json")
DTYPE = torch.float64

torch.manual_seed(SEED)
torch.set_default_dtype(DTYPE)
torch.set_num_threads(1)  # fixed summation order, so reruns give identical bytes


# --- input construction ----------------------------------------------------------------------

class Inputs:
    """Draws the named inputs of one expression from that expression's own generator."""

    def __init__(self, name):
        self.gen = torch.Generator().manual_seed(SEED + zlib.crc32(name.encode()))
        self.specs = []  # (name, tensor) in declaration order

    def _add(self, name, value):
        assert all(n != name for n, _ in self.specs), f"input {name} declared twice"
        self.specs.append((name, value))
        return value

    def normal(self, name, shape, scale=1.0, shift=0.0):
        return self._add(name, torch.randn(shape, generator=self.gen, dtype=DTYPE) * scale + shift)

    def uniform(self, name, shape, low, high):
        u = torch.rand(shape, generator=self.gen, dtype=DTYPE)
        return self._add(name, low + (high - low) * u)

    def normal_away(self, name, shape, points, margin, scale=1.0):
        """Normal values, each pushed at least `margin` away from every point in `points`."""
        x = torch.randn(shape, generator=self.gen, dtype=DTYPE) * scale
        return self._add(name, push_away(x, points, margin))

    def uniform_away(self, name, shape, low, high, points, margin):
        """Uniform values in [low, high), pushed at least `margin` away from `points`."""
        x = low + (high - low) * torch.rand(shape, generator=self.gen, dtype=DTYPE)
        return self._add(name, push_away(x, points, margin))

    def distinct(self, name, shape, scale=2.0):
        """Values that are pairwise at least scale/(2n) apart: no ties for amax/amin."""
        n = math.prod(shape)
        perm = torch.randperm(n, generator=self.gen).to(DTYPE)
        jitter = torch.rand(n, generator=self.gen, dtype=DTYPE) * 0.5
        return self._add(name, ((perm + jitter) / n - 0.5).mul(2 * scale).reshape(shape))

    def index(self, name, shape, high):
        return self._add(name, torch.randint(0, high, shape, generator=self.gen))

    def mask(self, name, shape):
        return self._add(name, torch.rand(shape, generator=self.gen) < 0.5)

    def values(self, name, data, dtype=DTYPE):
        return self._add(name, torch.tensor(data, dtype=dtype))


def push_away(x, points, margin):
    """Moves every value closer than margin to a point out to 1.5 margin on its own side."""
    for p in points:
        d = x - p
        x = torch.where(d.abs() < margin, p + torch.where(d >= 0, 1.5, -1.5) * margin, x)
    assert_away(x, points, margin)
    return x


def assert_away(t, points, margin=1e-3):
    """Stops the script when an (intermediate) value lies within margin of a kink."""
    t = t.detach()
    for p in points:
        gap = (t - p).abs().min().item()
        if gap < margin:
            sys.exit(f"value within {gap:.3g} of the kink at {p}; pick other inputs")


def assert_no_ties(a, b, margin=1e-3):
    gap = (a.detach() - b.detach()).abs().min().item()
    if gap < margin:
        sys.exit(f"maximum/minimum operands only {gap:.3g} apart; pick other inputs")


# --- the expressions -------------------------------------------------------------------------

EXPRESSIONS = []


def expression(name, hvp=True):
    """Registers f(inputs) -> (lambda t: output), where t maps input names to leaf tensors.
    hvp=False leaves out the Hessian-vector product (needed when the gradient is constant)."""

    def register(build):
        assert all(e["name"] != name for e in EXPRESSIONS), f"duplicate expression {name}"
        EXPRESSIONS.append({"name": name, "build": build, "hvp": hvp,
                            "description": " ".join((build.__doc__ or "").split())})
        return build

    return register


@expression("matmul_2d_tanh")
def _(r):
    """tanh(A @ B + b), A [3,4], B [4,5], b [5]."""
    r.normal("A", (3, 4))
    r.normal("B", (4, 5), scale=0.5)
    r.normal("b", (5,))
    return lambda t: torch.tanh(t["A"] @ t["B"] + t["b"])


@expression("matmul_batched_broadcast_tanh")
def _(r):
    """tanh(A @ B), A [2,1,3,4] and B [5,4,2] broadcast to the batch [2,5]."""
    r.normal("A", (2, 1, 3, 4))
    r.normal("B", (5, 4, 2), scale=0.5)
    return lambda t: torch.tanh(t["A"] @ t["B"])


@expression("matmul_batched_with_2d")
def _(r):
    """tanh(X @ W) * (M @ N): batched [2,3,4] @ 2-D [4,2], and 2-D [3,4] @ batched [2,4,2]."""
    r.normal("X", (2, 3, 4))
    r.normal("W", (4, 2))
    r.normal("M", (3, 4))
    r.normal("N", (2, 4, 2))
    return lambda t: torch.tanh(t["X"] @ t["W"]) * (t["M"] @ t["N"])


@expression("matmul_vector_cases")
def _(r):
    """tanh(N @ u + v @ M) * (u @ v) + v @ N^T(1,2): matrix-vector, vector-matrix, dot, and
    vector @ batched, with u, v [4], M [4,3], N [2,3,4]."""
    r.normal("u", (4,))
    r.normal("v", (4,))
    r.normal("M", (4, 3))
    r.normal("N", (2, 3, 4))
    return lambda t: (torch.tanh(t["N"] @ t["u"] + t["v"] @ t["M"]) * (t["u"] @ t["v"])
                      + t["v"] @ t["N"].transpose(1, 2))


@expression("softmax_log_softmax")
def _(r):
    """softmax(x, 1) * log_softmax(x, 0) + 0.5 * log_softmax(x, -1), x [3,5]."""
    r.normal("x", (3, 5), scale=2.0)
    return lambda t: (torch.softmax(t["x"], 1) * torch.log_softmax(t["x"], 0)
                      + 0.5 * torch.log_softmax(t["x"], -1))


@expression("softmax_middle_dim")
def _(r):
    """log_softmax(3 * softmax(x, 1), -1), x [2,4,3]: softmax over a middle dim."""
    r.normal("x", (2, 4, 3))
    return lambda t: torch.log_softmax(3.0 * torch.softmax(t["x"], 1), -1)


@expression("logsumexp_dims")
def _(r):
    """logsumexp(x, [1], keepdim) + logsumexp(x, [0,2], keepdim) + logsumexp(3x, [-1])[..., None],
    x [2,3,4] with large entries (tests the max shift)."""
    r.normal("x", (2, 3, 4), scale=10.0)
    return lambda t: (torch.logsumexp(t["x"], [1], keepdim=True)
                      + torch.logsumexp(t["x"], [0, 2], keepdim=True)
                      + torch.logsumexp(3.0 * t["x"], [-1]).unsqueeze(-1))


@expression("mean_var_std_keepdim")
def _(r):
    """mean(x,[1],keep) + var(x,[0,2],unbiased,keep) * std(x,[1],biased,keep)
    + std(x,[-1],unbiased,keep), x [3,4,2]."""
    r.normal("x", (3, 4, 2))
    return lambda t: (torch.mean(t["x"], [1], keepdim=True)
                      + torch.var(t["x"], [0, 2], unbiased=True, keepdim=True)
                      * torch.std(t["x"], [1], unbiased=False, keepdim=True)
                      + torch.std(t["x"], [-1], unbiased=True, keepdim=True))


@expression("var_std_full_and_dims")
def _(r):
    """cat(stack(var(x), var(x,biased), std(x), std(x,biased), mean(x), sum(x)),
    var(x,[1],biased), std(x,[0],unbiased)), x [3,5]."""
    r.normal("x", (3, 5))

    def f(t):
        x = t["x"]
        full = torch.stack([torch.var(x), torch.var(x, unbiased=False), torch.std(x),
                            torch.std(x, unbiased=False), torch.mean(x), torch.sum(x)])
        return torch.cat([full, torch.var(x, [1], unbiased=False),
                          torch.std(x, [0], unbiased=True)])

    return f


@expression("amax_amin_dims")
def _(r):
    """amax(x,1,keep) * amin(x,[0,2],keep) + amax(x) + amin(x,-1)[..., None], x [3,4,5], no ties."""
    r.distinct("x", (3, 4, 5))
    return lambda t: (torch.amax(t["x"], 1, keepdim=True) * torch.amin(t["x"], [0, 2], keepdim=True)
                      + torch.amax(t["x"]) + torch.amin(t["x"], -1).unsqueeze(-1))


@expression("amax_shifted_softmax")
def _(r):
    """e / sum(e, 1, keep) with e = exp(x - amax(x, 1, keep)), x [4,6], no ties."""
    r.distinct("x", (4, 6), scale=3.0)

    def f(t):
        e = torch.exp(t["x"] - torch.amax(t["x"], 1, keepdim=True))
        return e / e.sum(1, keepdim=True)

    return f


@expression("broadcast_arithmetic")
def _(r):
    """((a + b) * c - c / d) / (1.5 + a * a) + (2 - b) * 0.5 + 3 / d - a / 4,
    a [3,1], b [4], c [2,3,4], d [1,4] positive."""
    r.normal("a", (3, 1))
    r.normal("b", (4,))
    r.normal("c", (2, 3, 4))
    r.uniform("d", (1, 4), 0.5, 2.0)
    return lambda t: (((t["a"] + t["b"]) * t["c"] - t["c"] / t["d"]) / (1.5 + t["a"] * t["a"])
                      + (2.0 - t["b"]) * 0.5 + 3.0 / t["d"] - t["a"] / 4.0)


@expression("pow_scalar_and_tensor")
def _(r):
    """x^2.5 - x^y + x^-1.5 + 0.1 * x^3, x [2,3] in [0.5, 2], y [2,3]."""
    r.uniform("x", (2, 3), 0.5, 2.0)
    r.uniform("y", (2, 3), -1.0, 2.0)
    return lambda t: (t["x"] ** 2.5 - t["x"] ** t["y"] + t["x"] ** -1.5
                      + 0.1 * t["x"] ** 3.0)


@expression("pow_tensor_broadcast")
def _(r):
    """pow(x, e) + pow(e, x), x [2,3] and e [3] positive, broadcast."""
    r.uniform("x", (2, 3), 0.3, 2.0)
    r.uniform("e", (3,), 0.5, 2.5)
    return lambda t: torch.pow(t["x"], t["e"]) + torch.pow(t["e"], t["x"])


@expression("exp_log_sqrt_abs")
def _(r):
    """log(x) * exp(-x) + sqrt(x + 1) * abs(x - 1.3) + abs(-x), x [4,3] in [0.2, 2.5]."""
    r.uniform_away("x", (4, 3), 0.2, 2.5, [1.3], 0.05)
    return lambda t: (torch.log(t["x"]) * torch.exp(-t["x"])
                      + torch.sqrt(t["x"] + 1.0) * torch.abs(t["x"] - 1.3) + torch.abs(-t["x"]))


@expression("sigmoid_relu_leaky_relu")
def _(r):
    """sigmoid(x) * relu(x) + leaky_relu(x, 0.2) - 0.3 * relu(-x) + leaky_relu(x) * x
    (default slope 0.01), x [3,4] away from 0."""
    r.normal_away("x", (3, 4), [0.0], 0.05)
    return lambda t: (torch.sigmoid(t["x"]) * F.relu(t["x"]) + F.leaky_relu(t["x"], 0.2)
                      - 0.3 * F.relu(-t["x"]) + F.leaky_relu(t["x"]) * t["x"])


@expression("gelu_erf_tanh")
def _(r):
    """gelu(x) + gelu(x, approximate='tanh') * erf(x), x [2,5]."""
    r.normal("x", (2, 5), scale=1.5)
    return lambda t: F.gelu(t["x"]) + F.gelu(t["x"], approximate="tanh") * torch.erf(t["x"])


@expression("softplus_beta_threshold")
def _(r):
    """softplus(x, beta=2, threshold=3) + softplus(x) + softplus(x, beta=0.5), x [3,4] in
    [-4, 4] (several entries above the threshold 2x > 3, none near it)."""
    x = r.uniform_away("x", (3, 4), -4.0, 4.0, [1.5], 0.05)
    assert (2.0 * x > 3.0).sum() >= 2 and (2.0 * x < 3.0).sum() >= 2
    return lambda t: (F.softplus(t["x"], beta=2.0, threshold=3.0) + F.softplus(t["x"])
                      + F.softplus(t["x"], beta=0.5))


@expression("erf_clamp")
def _(r):
    """clamp(x, -0.5, 0.8) * erf(x) + clamp(x, min=0.1) + clamp(x, max=-0.2) * x, x [3,4]
    away from the bounds."""
    r.normal_away("x", (3, 4), [-0.5, 0.8, 0.1, -0.2], 0.03)
    return lambda t: (torch.clamp(t["x"], -0.5, 0.8) * torch.erf(t["x"])
                      + torch.clamp(t["x"], min=0.1) + torch.clamp(t["x"], max=-0.2) * t["x"])


@expression("where_mask")
def _(r):
    """where(m, x * x, exp(y)) + where(n, tanh(x), y), x [3,4], y [4], masks m [3,4], n [3,1]."""
    r.normal("x", (3, 4))
    r.normal("y", (4,))
    m = r.mask("m", (3, 4))
    n = r.values("n", [[True], [False], [True]], dtype=torch.bool)
    assert m.any() and not m.all() and n.any() and not n.all()
    return lambda t: (torch.where(t["m"], t["x"] * t["x"], torch.exp(t["y"]))
                      + torch.where(t["n"], torch.tanh(t["x"]), t["y"]))


@expression("trigonometric")
def _(r):
    """sin(x) * cos(y) + tan(u) + asin(u) * acos(u) + atan(x) * sinh(y) + cosh(x), x [3,4],
    y [4], u [3,4] in (-0.9, 0.9)."""
    r.normal("x", (3, 4))
    r.normal("y", (4,))
    r.uniform("u", (3, 4), -0.9, 0.9)
    return lambda t: (torch.sin(t["x"]) * torch.cos(t["y"]) + torch.tan(t["u"])
                      + torch.asin(t["u"]) * torch.acos(t["u"])
                      + torch.atan(t["x"]) * torch.sinh(t["y"]) + torch.cosh(t["x"]))


@expression("atan2_hypot")
def _(r):
    """atan2(a, b) * hypot(a, b) + atan2(b, -a) + hypot(2 * a, b) ** 2, a [3,4], b [4] away
    from 0 (atan2 and hypot have no derivative at the origin)."""
    r.normal_away("a", (3, 4), [0.0], 0.1)
    r.normal_away("b", (4,), [0.0], 0.1)
    return lambda t: (torch.atan2(t["a"], t["b"]) * torch.hypot(t["a"], t["b"])
                      + torch.atan2(t["b"], -t["a"]) + torch.hypot(2 * t["a"], t["b"]) ** 2)


@expression("log_exp_variants")
def _(r):
    """log1p(p) * expm1(x) + log2(p) + log10(p) * rsqrt(p) + reciprocal(x) + square(x) * p,
    x [3,4] away from 0, p [3,4] in [0.3, 3)."""
    r.normal_away("x", (3, 4), [0.0], 0.2)
    r.uniform("p", (3, 4), 0.3, 3.0)
    return lambda t: (torch.log1p(t["p"]) * torch.expm1(t["x"]) + torch.log2(t["p"])
                      + torch.log10(t["p"]) * torch.rsqrt(t["p"]) + torch.reciprocal(t["x"])
                      + torch.square(t["x"]) * t["p"])


@expression("rounding_remainders")
def _(r):
    """floor(3x) * x + ceil(3x) * y + round(3x) + round(x, decimals=1) * x + trunc(3x) * y
    + fmod(3x, y) * x + remainder(3x, y) + fmod(x, -0.7) + remainder(x, 0.7), x [3,4], y [4]
    away from 0; 3x/y, 3x, 10x, x/0.7 away from integers (the steps of every rounding)."""
    x = r.normal("x", (3, 4))
    y = r.normal_away("y", (4,), [0.0], 0.3)
    for q in (3 * x / y, 3 * x, 10 * x, x / 0.7):
        assert_away(q - q.round(), [-0.5, 0.0, 0.5], 1e-4)
    return lambda t: (torch.floor(3 * t["x"]) * t["x"] + torch.ceil(3 * t["x"]) * t["y"]
                      + torch.round(3 * t["x"]) + torch.round(t["x"], decimals=1) * t["x"]
                      + torch.trunc(3 * t["x"]) * t["y"] + torch.fmod(3 * t["x"], t["y"]) * t["x"]
                      + torch.remainder(3 * t["x"], t["y"]) + torch.fmod(t["x"], -0.7)
                      + torch.remainder(t["x"], 0.7))


@expression("maximum_minimum")
def _(r):
    """maximum(a, b) * minimum(a, 2 * b) + maximum(a * a, b), a [3,4], b [4], no ties."""
    a = r.normal("a", (3, 4))
    b = r.normal("b", (4,))
    assert_no_ties(a, b)
    assert_no_ties(a, 2.0 * b)
    assert_no_ties(a * a, b)
    return lambda t: (torch.maximum(t["a"], t["b"]) * torch.minimum(t["a"], 2.0 * t["b"])
                      + torch.maximum(t["a"] * t["a"], t["b"]))


@expression("slice_with_step")
def _(r):
    """x[1:6:2, 0:7:3] @ x[0:6:2, -5:-1:2] + x[-3:, 4:6], x [6,7]."""
    r.normal("x", (6, 7))
    return lambda t: t["x"][1:6:2, 0:7:3] @ t["x"][0:6:2, -5:-1:2] + t["x"][-3:, 4:6]


@expression("index_select_repeated")
def _(r):
    """y * y + index_select(x, -1, j)[0:3] with y = index_select(index_select(x, 0, i), 1, j),
    x [4,5], i = [2,0,2], j = [4,1,1,3] (repeated indices accumulate)."""
    r.normal("x", (4, 5))
    r.values("i", [2, 0, 2], dtype=torch.int64)
    r.values("j", [4, 1, 1, 3], dtype=torch.int64)

    def f(t):
        y = torch.index_select(torch.index_select(t["x"], 0, t["i"]), 1, t["j"])
        return y * y + torch.index_select(t["x"], -1, t["j"])[0:3]

    return f


@expression("gather_dims")
def _(r):
    """g * g + g with g = cat(gather(x, 1, i1).flatten(), gather(x, 0, i0).flatten()),
    x [3,4,2], i1 [3,2,2] into dim 1, i0 [2,4,1] into dim 0."""
    r.normal("x", (3, 4, 2))
    r.index("i1", (3, 2, 2), 4)
    r.index("i0", (2, 4, 1), 3)

    def f(t):
        g = torch.cat([torch.gather(t["x"], 1, t["i1"]).reshape(-1),
                       torch.gather(t["x"], 0, t["i0"]).reshape(-1)])
        return g * g + g

    return f


@expression("concat_stack_split")
def _(r):
    """p0, p1, p2 = split(cat([a, b], 1), 2, 1); q0, q1 = split(c, [1, 2], 1);
    stack([p0 * p1, q1 + p2, exp(q0) * p0], -1) * stack([a[:, :2], c[:, 1:]], 0)[..., None]
    (broadcast to [2,2,2,3]), a [2,3], b [2,2], c [2,3]."""
    r.normal("a", (2, 3))
    r.normal("b", (2, 2))
    r.normal("c", (2, 3))

    def f(t):
        p0, p1, p2 = torch.split(torch.cat([t["a"], t["b"]], 1), 2, 1)
        q0, q1 = torch.split(t["c"], [1, 2], 1)
        left = torch.stack([p0 * p1, q1 + p2, torch.exp(q0) * p0], -1)
        right = torch.stack([t["a"][:, 0:2], t["c"][:, 1:3]], 0)
        return left * right.unsqueeze(-1)

    return f


@expression("reshape_permute_transpose")
def _(r):
    """p.t() @ q + s @ q + f @ p with p = permute(x, [2,0,1]).reshape(4,6), q = x.reshape(4,6),
    s = transpose(x, 0, -1).reshape(6,4), f = flatten(x, 0, 1), x [2,3,4]."""
    r.normal("x", (2, 3, 4))

    def f(t):
        x = t["x"]
        p = x.permute(2, 0, 1).reshape(4, 6)
        q = x.reshape(4, 6)
        s = x.transpose(0, -1).reshape(6, 4)
        return p.t() @ q + s @ q + torch.flatten(x, 0, 1) @ p

    return f


@expression("expand_squeeze_unsqueeze")
def _(r):
    """(x.expand(2,-1,5,-1) * y[:, None, None] + z.squeeze()) * x.squeeze(1).unsqueeze(1),
    x [3,1,4], y [3], z [1,4,1]."""
    r.normal("x", (3, 1, 4))
    r.normal("y", (3,))
    r.normal("z", (1, 4, 1))

    def f(t):
        e = t["x"].expand(2, -1, 5, -1)
        inner = e * t["y"].unsqueeze(-1).unsqueeze(-1) + t["z"].squeeze()
        return inner * t["x"].squeeze(1).unsqueeze(1)

    return f


@expression("sum_mean_dims")
def _(r):
    """sum(x, [0,-1], keep) * mean(x, [1]).unsqueeze(1) + sum(x * x), x [2,3,4]."""
    r.normal("x", (2, 3, 4))
    return lambda t: (torch.sum(t["x"], [0, -1], keepdim=True)
                      * torch.mean(t["x"], [1]).unsqueeze(1) + torch.sum(t["x"] * t["x"]))


@expression("cumsum_cumprod")
def _(r):
    """cumsum(x, 1) * cumprod(x, 0) + (cumprod(z, 1) * cumsum(z, -1)).sum(0) + cumprod(z, 0)[1],
    x [3,4], z [2,4] with zeros (first, repeated and last along dim 1)."""
    r.normal("x", (3, 4))
    r.values("z", [[0.0, 1.3, -0.8, 0.0], [0.9, 0.0, -1.2, 0.7]])
    return lambda t: (torch.cumsum(t["x"], 1) * torch.cumprod(t["x"], 0)
                      + (torch.cumprod(t["z"], 1) * torch.cumsum(t["z"], -1)).sum(0)
                      + torch.cumprod(t["z"], 0)[1])


@expression("sort_topk")
def _(r):
    """sort(x, 1).values * x + topk(x, 2, 0).values.sum(0) ** 2 + sort(x, 0, descending).values
    * topk(x, 3, -1, largest=False, sorted=False).values.sum(1, keepdim=True), x [3,5], no ties."""
    r.distinct("x", (3, 5))

    def f(t):
        x = t["x"]
        smallest = torch.topk(x, 3, -1, largest=False, sorted=False).values
        return (torch.sort(x, 1).values * x + torch.topk(x, 2, 0).values.sum(0) ** 2
                + torch.sort(x, 0, descending=True).values * smallest.sum(1, keepdim=True))

    return f


@expression("flip_roll_triangles")
def _(r):
    """flip(x, [0,1]) * roll(x, (1,-2), (0,1)) + roll(x, 5) * flip(x, [-1])
    + triu(x, -1) * tril(x, 1) + (triu(y) @ tril(y, -1))[:3], x [3,4], y [4,4]."""
    r.normal("x", (3, 4))
    r.normal("y", (4, 4))

    def f(t):
        x, y = t["x"], t["y"]
        return (torch.flip(x, [0, 1]) * torch.roll(x, (1, -2), (0, 1))
                + torch.roll(x, 5) * torch.flip(x, [-1]) + torch.triu(x, -1) * torch.tril(x, 1)
                + (torch.triu(y) @ torch.tril(y, -1))[:3])

    return f


@expression("repeat_tile_masked_fill")
def _(r):
    """x.repeat(2,1,2) * tile(y, (2,2)) + x.masked_fill(m, 0.5).repeat(1,2) * tile(x, (2,))
    + tile(y.masked_fill(m, -1) * y, (1,2)), x [2,3], y [3], mask m [2,3]."""
    r.normal("x", (2, 3))
    r.normal("y", (3,))
    m = r.mask("m", (2, 3))
    assert m.any() and not m.all()

    def f(t):
        x, y, m = t["x"], t["y"], t["m"]
        return (x.repeat(2, 1, 2) * torch.tile(y, (2, 2))
                + x.masked_fill(m, 0.5).repeat(1, 2) * torch.tile(x, (2,))
                + torch.tile(y.masked_fill(m, -1.0) * y, (1, 2)))

    return f


@expression("outer_bmm_vector_norms")
def _(r):
    """cat(outer(u, v) * x, baddbmm(C, A, B, beta=0.5, alpha=-1.5) + bmm(A, B), vector_norm(x, p,
    dim=1) for p in 2, 3, inf, -inf, 1, 0.5, vector_norm(q) of the second part), flattened;
    u [3], v [4], x [3,4] away from 0 with distinct magnitudes per row, A [2,3,4], B [2,4,2],
    C [3,1]."""
    r.normal("u", (3,))
    r.normal("v", (4,))
    x = r.uniform_away("x", (3, 4), -2.0, 2.0, [0.0], 0.2)
    gaps = (x.abs().unsqueeze(-1) - x.abs().unsqueeze(-2)).abs() + torch.eye(4)
    assert gaps.min() > 1e-3, "ties of |x| in a row"
    r.normal("A", (2, 3, 4))
    r.normal("B", (2, 4, 2))
    r.normal("C", (3, 1))

    def f(t):
        x = t["x"]
        q = (torch.baddbmm(t["C"], t["A"], t["B"], beta=0.5, alpha=-1.5)
             + torch.bmm(t["A"], t["B"]))
        norms = [torch.linalg.vector_norm(x, p, dim=1)
                 for p in (2, 3, float("inf"), float("-inf"), 1, 0.5)]
        return torch.cat([(torch.outer(t["u"], t["v"]) * x).reshape(-1), q.reshape(-1), *norms,
                          torch.linalg.vector_norm(q).reshape(1)])

    return f


@expression("mlp_cross_entropy")
def _(r):
    """Cross-entropy by hand: h = relu(linear(x, W1, b1)); logits = linear(h, W2, b2);
    -mean(gather(log_softmax(logits, 1), 1, target[:, None])), x [5,4], W1 [6,4], b1 [6],
    W2 [3,6], b2 [3], target [5] (int64)."""
    r.normal("x", (5, 4))
    r.normal("W1", (6, 4), scale=0.7)
    r.normal("b1", (6,), scale=0.3)
    r.normal("W2", (3, 6), scale=0.7)
    r.normal("b2", (3,), scale=0.3)
    r.values("target", [0, 2, 1, 2, 0], dtype=torch.int64)

    def f(t):
        pre = F.linear(t["x"], t["W1"], t["b1"])
        assert_away(pre, [0.0], 1e-3)
        logits = F.linear(F.relu(pre), t["W2"], t["b2"])
        logp = torch.log_softmax(logits, 1)
        return -torch.gather(logp, 1, t["target"].unsqueeze(1)).mean()

    return f


@expression("attention_softmax")
def _(r):
    """softmax(q @ k^T(-1,-2) / 2, -1) @ v, q [2,3,4], k [2,5,4], v [2,5,3]."""
    r.normal("q", (2, 3, 4))
    r.normal("k", (2, 5, 4))
    r.normal("v", (2, 5, 3))
    return lambda t: torch.softmax(t["q"] @ t["k"].transpose(-1, -2) / 2.0, -1) @ t["v"]


@expression("layer_norm_by_hand")
def _(r):
    """(x - mean(x, -1, keep)) / sqrt(var(x, -1, biased, keep) + 1e-5) * gamma + beta,
    x [3,6], gamma [6], beta [6]."""
    r.normal("x", (3, 6))
    r.normal("gamma", (6,), scale=0.5, shift=1.0)
    r.normal("beta", (6,), scale=0.5)

    def f(t):
        x = t["x"]
        centered = x - torch.mean(x, [-1], keepdim=True)
        scale = torch.sqrt(torch.var(x, [-1], unbiased=False, keepdim=True) + 1e-5)
        return centered / scale * t["gamma"] + t["beta"]

    return f


@expression("scalar_output_chain")
def _(r):
    """sum(exp(x) * log(y)) / sum(y): a 0-d output, x [4], y [4] positive."""
    r.normal("x", (4,))
    r.uniform("y", (4,), 0.5, 3.0)
    return lambda t: torch.sum(torch.exp(t["x"]) * torch.log(t["y"])) / torch.sum(t["y"])


# --- convolution, pooling, padding, unfold/fold (descent/spatial.hpp) --------------------------

@expression("conv2d_stride_groups")
def _(r):
    """tanh(conv2d(x, w, b, stride=2, padding=1, groups=2)), x [2,4,6,5], w [6,2,3,3], b [6]."""
    r.normal("x", (2, 4, 6, 5))
    r.normal("w", (6, 2, 3, 3), scale=0.3)
    r.normal("b", (6,), scale=0.3)
    return lambda t: torch.tanh(F.conv2d(t["x"], t["w"], t["b"], stride=2, padding=1, groups=2))


@expression("conv2d_same_dilation_depthwise")
def _(r):
    """conv2d(x, w, padding='same', dilation=(2,1)) ** 2 + conv2d(x, d, stride=(1,2),
    padding=(0,1), groups=3).sum(), x [1,3,5,4], w [2,3,2,3], d [3,1,2,2]."""
    r.normal("x", (1, 3, 5, 4))
    r.normal("w", (2, 3, 2, 3), scale=0.5)
    r.normal("d", (3, 1, 2, 2), scale=0.5)
    return lambda t: (F.conv2d(t["x"], t["w"], padding="same", dilation=(2, 1)) ** 2
                      + F.conv2d(t["x"], t["d"], stride=(1, 2), padding=(0, 1), groups=3).sum())


@expression("conv1d_variants")
def _(r):
    """tanh(conv1d(x, w, b, padding=1)) and conv1d(u, v, stride=2, dilation=2, groups=2) ** 2
    (unbatched) and conv1d(x, e, padding='same') (even kernel), concatenated flat; x [2,3,7],
    w [4,3,3], b [4], u [4,9], v [2,2,3], e [2,3,4]."""
    r.normal("x", (2, 3, 7))
    r.normal("w", (4, 3, 3), scale=0.5)
    r.normal("b", (4,), scale=0.3)
    r.normal("u", (4, 9))
    r.normal("v", (2, 2, 3), scale=0.5)
    r.normal("e", (2, 3, 4), scale=0.5)
    return lambda t: torch.cat([
        torch.tanh(F.conv1d(t["x"], t["w"], t["b"], padding=1)).reshape(-1),
        (F.conv1d(t["u"], t["v"], stride=2, dilation=2, groups=2) ** 2).reshape(-1),
        F.conv1d(t["x"], t["e"], padding="same").reshape(-1)])


@expression("conv_transpose")
def _(r):
    """tanh(conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2)) flat,
    then conv_transpose1d(u, v, stride=3, padding=2, dilation=2) ** 2 flat; x [2,4,3,3],
    w [4,3,3,3], b [6], u [2,3,4], v [3,2,3]."""
    r.normal("x", (2, 4, 3, 3))
    r.normal("w", (4, 3, 3, 3), scale=0.4)
    r.normal("b", (6,), scale=0.3)
    r.normal("u", (2, 3, 4))
    r.normal("v", (3, 2, 3), scale=0.5)
    return lambda t: torch.cat([
        torch.tanh(F.conv_transpose2d(t["x"], t["w"], t["b"], stride=2, padding=1,
                                      output_padding=1, groups=2)).reshape(-1),
        (F.conv_transpose1d(t["u"], t["v"], stride=3, padding=2, dilation=2) ** 2).reshape(-1)])


@expression("max_pools")
def _(r):
    """max_pool2d(x, 3, stride=2, padding=1, dilation=(1,2), ceil_mode=True) ** 2 flat, then
    max_pool1d(y, 2, ceil_mode=True) ** 2 flat; x [2,2,6,7] and y [2,3,7] distinct (no ties)."""
    r.distinct("x", (2, 2, 6, 7))
    r.distinct("y", (2, 3, 7))
    return lambda t: torch.cat([
        (F.max_pool2d(t["x"], 3, stride=2, padding=1, dilation=(1, 2), ceil_mode=True) ** 2)
        .reshape(-1),
        (F.max_pool1d(t["y"], 2, ceil_mode=True) ** 2).reshape(-1)])


@expression("avg_pools")
def _(r):
    """avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False) ** 2,
    avg_pool2d(x, (2,3), padding=(1,0), divisor_override=4) ** 2, avg_pool1d(y, 3, stride=2,
    padding=1) ** 2, all flat; x [2,2,5,6], y [2,3,6]."""
    r.normal("x", (2, 2, 5, 6))
    r.normal("y", (2, 3, 6))
    return lambda t: torch.cat([
        (F.avg_pool2d(t["x"], 3, stride=2, padding=1, ceil_mode=True,
                      count_include_pad=False) ** 2).reshape(-1),
        (F.avg_pool2d(t["x"], (2, 3), padding=(1, 0), divisor_override=4) ** 2).reshape(-1),
        (F.avg_pool1d(t["y"], 3, stride=2, padding=1) ** 2).reshape(-1)])


@expression("adaptive_pools")
def _(r):
    """adaptive_avg_pool2d(x, (3,4)) ** 2, adaptive_max_pool2d(x, (4,3)) ** 2,
    adaptive_avg_pool1d(y, 4) ** 2, adaptive_max_pool1d(y, 3) ** 2, all flat; x [2,2,5,7] and
    y [2,3,7] distinct."""
    r.distinct("x", (2, 2, 5, 7))
    r.distinct("y", (2, 3, 7))
    return lambda t: torch.cat([
        (F.adaptive_avg_pool2d(t["x"], (3, 4)) ** 2).reshape(-1),
        (F.adaptive_max_pool2d(t["x"], (4, 3)) ** 2).reshape(-1),
        (F.adaptive_avg_pool1d(t["y"], 4) ** 2).reshape(-1),
        (F.adaptive_max_pool1d(t["y"], 3) ** 2).reshape(-1)])


@expression("pads")
def _(r):
    """pad(x, (-1,2,1,0), value=1.5), pad(x, (2,1,1,2), 'reflect'), pad(x, (3,1,0,2),
    'replicate'), pad(x, (3,1,2,1), 'circular') (torch's circular needs a batch dim: on x[None]),
    each squared and flat; x [2,3,4]."""
    r.normal("x", (2, 3, 4))
    return lambda t: torch.cat([
        (F.pad(t["x"], (-1, 2, 1, 0), value=1.5) ** 2).reshape(-1),
        (F.pad(t["x"], (2, 1, 1, 2), mode="reflect") ** 2).reshape(-1),
        (F.pad(t["x"], (3, 1, 0, 2), mode="replicate") ** 2).reshape(-1),
        (F.pad(t["x"].unsqueeze(0), (3, 1, 2, 1), mode="circular") ** 2).reshape(-1)])


@expression("unfold_fold")
def _(r):
    """unfold(x, (2,3), padding=1, stride=(1,2)) ** 2 flat, then fold(c, (4,5), (2,3),
    padding=1, stride=(1,2)) ** 2 flat; x [2,2,4,5], c [2,12,15]."""
    r.normal("x", (2, 2, 4, 5))
    r.normal("c", (2, 12, 15))
    return lambda t: torch.cat([
        (F.unfold(t["x"], (2, 3), padding=1, stride=(1, 2)) ** 2).reshape(-1),
        (F.fold(t["c"], (4, 5), (2, 3), padding=1, stride=(1, 2)) ** 2).reshape(-1)])


@expression("interpolate_nearest")
def _(r):
    """interpolate(x, scale_factor=(2,1.5)), interpolate(x, size=(2,3)), interpolate(y,
    scale_factor=0.7), interpolate(y, size=10), mode nearest, each squared and flat;
    x [2,2,3,5], y [2,3,7]."""
    r.normal("x", (2, 2, 3, 5))
    r.normal("y", (2, 3, 7))
    return lambda t: torch.cat([
        (F.interpolate(t["x"], scale_factor=(2, 1.5)) ** 2).reshape(-1),
        (F.interpolate(t["x"], size=(2, 3)) ** 2).reshape(-1),
        (F.interpolate(t["y"], scale_factor=0.7) ** 2).reshape(-1),
        (F.interpolate(t["y"], size=10) ** 2).reshape(-1)])


@expression("interpolate_linear")
def _(r):
    """bilinear interpolate(x, size=(7,9)), (x, scale_factor=(0.6,0.75)), (x, scale_factor=1.5,
    align_corners), (x, size=(3,2), align_corners); linear interpolate(y, scale_factor=2.5),
    (y, size=4, align_corners); each squared and flat; x [2,2,4,5], y [2,3,6]."""
    r.normal("x", (2, 2, 4, 5))
    r.normal("y", (2, 3, 6))
    bilinear = dict(mode="bilinear", align_corners=False)
    bilinear_corners = dict(mode="bilinear", align_corners=True)
    return lambda t: torch.cat([
        (F.interpolate(t["x"], size=(7, 9), **bilinear) ** 2).reshape(-1),
        (F.interpolate(t["x"], scale_factor=(0.6, 0.75), **bilinear) ** 2).reshape(-1),
        (F.interpolate(t["x"], scale_factor=1.5, **bilinear_corners) ** 2).reshape(-1),
        (F.interpolate(t["x"], size=(3, 2), **bilinear_corners) ** 2).reshape(-1),
        (F.interpolate(t["y"], scale_factor=2.5, mode="linear",
                       align_corners=False) ** 2).reshape(-1),
        (F.interpolate(t["y"], size=4, mode="linear", align_corners=True) ** 2).reshape(-1)])


# --- evaluation and output -------------------------------------------------------------------

def dump(t):
    """A tensor as {shape, values}: values flattened in row-major order."""
    t = t.detach().contiguous()
    if t.dtype == torch.bool:
        values = [bool(v) for v in t.reshape(-1).tolist()]
    elif t.dtype == torch.int64:
        values = [int(v) for v in t.reshape(-1).tolist()]
    else:
        assert t.dtype == DTYPE, t.dtype
        assert torch.isfinite(t).all(), "non-finite value in a fixture"
        values = [float(v) for v in t.reshape(-1).tolist()]
    return {"shape": list(t.shape), "values": values}


def dtype_name(t):
    return {torch.float64: "float64", torch.int64: "int64", torch.bool: "bool"}[t.dtype]


def evaluate(entry):
    r = Inputs(entry["name"])
    fn = entry["build"](r)
    gen = r.gen
    leaves = {}
    for name, value in r.specs:
        leaf = value.detach().clone()
        if leaf.dtype == DTYPE:
            leaf.requires_grad_(True)
        leaves[name] = leaf
    diff_names = [n for n, v in leaves.items() if v.requires_grad]

    out = fn(leaves)
    assert out.dtype == DTYPE
    w = torch.randn(out.shape, generator=gen, dtype=DTYPE)
    diff = [leaves[n] for n in diff_names]
    grads = torch.autograd.grad(out, diff, grad_outputs=w, create_graph=entry["hvp"])

    record = {
        "name": entry["name"],
        "description": entry["description"],
        "inputs": [dict(name=n, dtype=dtype_name(v), requires_grad=v.requires_grad, **dump(v))
                   for n, v in leaves.items()],
        "output": dump(out),
        "weight": dump(w),
        "grads": {n: dump(g) for n, g in zip(diff_names, grads)},
    }
    if entry["hvp"]:
        vs = [torch.randn(x.shape, generator=gen, dtype=DTYPE) for x in diff]
        dot = sum((g * v).sum() for g, v in zip(grads, vs))
        assert dot.requires_grad, f"{entry['name']}: gradient is constant, no HVP"
        hvps = torch.autograd.grad(dot, diff, allow_unused=True)
        hvps = [torch.zeros_like(x) if h is None else h for x, h in zip(diff, hvps)]
        record["hvp"] = {
            "v": {n: dump(v) for n, v in zip(diff_names, vs)},
            "result": {n: dump(h) for n, h in zip(diff_names, hvps)},
        }
    return record


def main():
    records = [evaluate(e) for e in EXPRESSIONS]
    doc = {
        "about": "Reference values from PyTorch for descent's composed expressions: output, "
                 "gradient of sum(output * weight) for every float64 input, and for some "
                 "expressions the Hessian-vector product d/dx[(d sum(output*weight)/dx) . v]. "
                 "Values are flattened row-major. Generated by tools/make_autograd_fixtures.py; "
                 "do not edit by hand.",
        "generator": "tools/make_autograd_fixtures.py",
        "torch_version": torch.__version__.split("+")[0],
        "seed": SEED,
        "dtype": "float64",
        "expressions": records,
    }
    path = os.path.normpath(OUTPUT)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    text = json.dumps(doc, indent=1)
    # One line per shape or values list (they hold only numbers or booleans), not one per number.
    text = re.sub(r"(\": )\[\s*([^\[\]{}\"]*?)\s*\]",
                  lambda m: m.group(1) + "[" + ", ".join(
                      v.strip() for v in m.group(2).split(",") if v.strip()) + "]", text)
    assert json.loads(text) == doc
    with open(path, "w") as f:
        f.write(text + "\n")
    n_hvp = sum(1 for r in records if "hvp" in r)
    print(f"wrote {path}: {len(records)} expressions, {n_hvp} with a Hessian-vector product")


if __name__ == "__main__":
    main()
