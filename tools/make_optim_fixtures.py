#!/usr/bin/python3
"""Reference fixtures for descent's optim library: optimizer trajectories and lr schedules.

Writes two files, for the C++ tests of the optim library (tests/optim):

  tests/fixtures/optim_trajectories.json
      120-step parameter trajectories of every optimizer of the lecture on three problems
      (Rosenbrock, an ill-conditioned quadratic, a tiny two-group MLP), each algorithm in at least
      two hyperparameter settings, plus the annealed gradient-noise standard deviations.
  tests/fixtures/optim_schedules.json
      301 learning rates (and cycled momenta / Adam beta1) per parameter group for every
      torch.optim.lr_scheduler schedule of the lecture, over 300 scheduler steps.

Rerun from the repository root with the system interpreter (torch 1.13, CPU):

    /usr/bin/python3 tools/make_optim_fixtures.py

Everything is float64 and deterministic (fixed seeds, one thread); two runs write byte-identical
files. Each JSON file explains its own layout in its "about"/"semantics" fields.

Sources the values follow:
  * torch.optim 1.13 for SGD, Adagrad, RMSprop, Adam, AdamW, NAdam, RAdam and all schedulers,
    run through torch itself (single-tensor code paths, foreach=False, except NAdam: see below).
  * tools/optim_reference.py for the algorithms torch lacks, written from the papers and checked
    against the authors' code where there is some:
      SGDW      Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019;
      AdaBound  Luo et al., ICLR 2019, https://github.com/Luolc/AdaBound (adabound.py);
      SWATS     Keskar & Socher, "Improving Generalization Performance by Switching from Adam to
                SGD", arXiv:1712.07628, Algorithm 1;
      Lookahead Zhang, Lucas, Hinton, Ba, NeurIPS 2019, https://github.com/michaelrzhang/lookahead;
      gradient noise  Neelakantan et al., arXiv:1511.06807.
  * NAdam: torch 1.13's single-tensor path computes the second bias correction with
    P_t·μ_t·μ_{t+1} (one μ_t too many) while its documentation, the paper's form and its foreach
    path use ∏_{i≤t+1} μ_i = P_t·μ_{t+1}. The fixtures use torch's foreach path, and the script
    asserts it equals an independent implementation of the documented formula
    (optim_reference.NAdamDoc) to 1e-13 at every step of every NAdam run.

Conditioning: every run is integrated twice, the second time with each gradient element multiplied
by (1 + 1e-13·ξ), ξ ~ N(0, 1) from a fixed generator. A candidate learning rate is accepted only if
the two trajectories stay within 1e-9 of each other at every step (per tensor, max-norm of the
difference over max-norm of the tensor) and the run neither blows up nor ends above its starting
loss; otherwise the next candidate is tried and the rejected one is printed (and listed in the run
as rejected_lrs). The worst ratio is stored per run as "conditioning", so a C++ test can size its
tolerance: its own rounding differences (~1e-16 relative) grow by at most about
conditioning / 1e-13.

Other checks the script makes before writing anything (it stops on the first failure):
  * torch NAdam (foreach) == optim_reference.NAdamDoc to 1e-13 relative, every step and run;
  * SGDW == "p ← p·(1 − lr·wd), then torch.optim.SGD with weight_decay 0", bit for bit;
  * SWATS before its switch == torch.optim.Adam (both with eps = 0) to 1e-11; its switch step is
    the same in the perturbed run, and no tested criterion lies within 1e-6 (relative) of
    eps_switch;
  * every schedule equals an independent closed form in t to 1e-12 relative (the gap is stored;
    torch itself uses recursive formulas), and ReduceLROnPlateau equals an independent
    simulation exactly, with no metric within 1e-9 (relative) of its improvement threshold;
  * no warning is raised anywhere (warnings are errors), except the one torch raises internally
    when SequentialLR calls step(0) on its second scheduler at the milestone, which is filtered.
"""

import json
import math
import os
import sys
import warnings
import zlib

sys.dont_write_bytecode = True  # keep tools/ free of __pycache__ from importing the reference

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import optim_reference as ref  # noqa: E402

SEED = 20240917
STEPS = 120
NOISE_REL = 1e-13
DIVERGENCE_TOL = 1e-9
NADAM_TOL = 1e-13
SCHEDULE_STEPS = 300
DTYPE = torch.float64

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
OUT_TRAJ = os.path.join(ROOT, "tests", "fixtures", "optim_trajectories.json")
OUT_SCHED = os.path.join(ROOT, "tests", "fixtures", "optim_schedules.json")

torch.set_default_dtype(DTYPE)  # torch 1.13 keeps NAdam's mu_product and step in the default dtype
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

TORCH_VERSION = torch.__version__.split("+")[0]


def gen_for(name):
    return torch.Generator().manual_seed(SEED + zlib.crc32(name.encode()))


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def tensor_record(name, t):
    return {"name": name, "shape": list(t.shape), "values": flat(t)}


# --- problems --------------------------------------------------------------------------------

class Problem:
    """A loss over named parameters, split into parameter groups (lists of names, in order)."""

    def __init__(self, name, description, loss_text, params, groups, constants, loss):
        self.name = name
        self.description = description
        self.loss_text = loss_text
        self.params = params        # list of (name, initial tensor), in group order
        self.groups = groups        # list of lists of names
        self.constants = constants  # name -> JSON-ready value
        self.loss = loss            # callable(dict name -> tensor) -> scalar tensor
        order = [n for g in groups for n in g]
        assert order == [n for n, _ in params], "params must be listed in group order"

    def fresh(self):
        return [t.detach().clone().requires_grad_(True) for _, t in self.params]

    def loss_of(self, tensors):
        return self.loss({n: t for (n, _), t in zip(self.params, tensors)})

    def split(self, tensors):
        it = iter(tensors)
        return [[next(it) for _ in g] for g in self.groups]

    def record(self):
        tensors = self.fresh()
        loss = self.loss_of(tensors)
        grads = torch.autograd.grad(loss, tensors)
        return {
            "description": self.description,
            "loss": self.loss_text,
            "params": [tensor_record(n, t) for n, t in self.params],
            "groups": self.groups,
            "constants": self.constants,
            "initial_loss": float(loss),
            "initial_grads": [tensor_record(n, g) for (n, _), g in zip(self.params, grads)],
        }


def make_problems():
    probs = {}

    def rosen(p):
        x, y = p["xy"][0], p["xy"][1]
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2

    probs["rosenbrock"] = Problem(
        "rosenbrock",
        "Rosenbrock's banana function; the two coordinates are ONE 1-D parameter tensor "
        "xy = [x, y].",
        "f(xy) = (1 - x)^2 + 100 * (y - x^2)^2,  x = xy[0], y = xy[1]",
        [("xy", torch.tensor([-1.5, 2.0]))], [["xy"]], {"a": 1.0, "b": 100.0}, rosen)

    lam = torch.tensor([1.0, 4.0, 30.0, 100.0])

    def quad(p):
        return 0.5 * (lam * p["x"] * p["x"]).sum()

    probs["quadratic"] = Problem(
        "quadratic",
        "Ill-conditioned diagonal quadratic (condition number 100), one parameter tensor x [4].",
        "f(x) = 0.5 * sum_i lambda[i] * x[i]^2",
        [("x", torch.tensor([1.0, -1.0, 0.5, -0.5]))], [["x"]], {"lambda": flat(lam)}, quad)

    g = gen_for("mlp")
    X = torch.randn(8, 4, generator=g)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 2, 0], dtype=torch.int64)
    W1 = torch.randn(5, 4, generator=g) * 0.5
    b1 = torch.randn(5, generator=g) * 0.1
    W2 = torch.randn(3, 5, generator=g) * 0.5
    b2 = torch.randn(3, generator=g) * 0.1

    def mlp(p):
        h = torch.tanh(F.linear(X, p["W1"], p["b1"]))
        return F.cross_entropy(F.linear(h, p["W2"], p["b2"]), y)

    probs["mlp"] = Problem(
        "mlp",
        "Tiny MLP 4 -> 5 (tanh) -> 3 on 8 fixed samples. Group 0 = the weights [W1, W2], group 1 "
        "= the biases [b1, b2]; group 1 gets half the run's learning rate and no weight decay.",
        "logits = tanh(X @ W1^T + b1) @ W2^T + b2;  f = mean_i (logsumexp_j logits[i, j] - "
        "logits[i, y[i]])   (torch.nn.functional.linear and cross_entropy, reduction 'mean')",
        [("W1", W1), ("W2", W2), ("b1", b1), ("b2", b2)], [["W1", "W2"], ["b1", "b2"]],
        {"X": {"shape": [8, 4], "values": flat(X)},
         "y": {"shape": [8], "dtype": "int64", "values": [int(v) for v in y.tolist()]}},
        mlp)
    return probs


PROBLEMS = make_problems()
PROBLEM_ORDER = ["rosenbrock", "quadratic", "mlp"]


# --- settings --------------------------------------------------------------------------------

TORCH_OPTIMIZERS = {
    "SGD": torch.optim.SGD, "Adagrad": torch.optim.Adagrad, "RMSprop": torch.optim.RMSprop,
    "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW, "NAdam": torch.optim.NAdam,
    "RAdam": torch.optim.RAdam,
}
REFERENCE_OPTIMIZERS = {"SGDW": ref.SGDW, "AdaBound": ref.AdaBound, "SWATS": ref.SWATS}
IMPLEMENTATION_FLAGS = ("foreach", "capturable", "differentiable", "fused")


class Setting:
    """One hyperparameter setting of one algorithm.

    options: the algorithm's options (everything but lr), overrides: problem -> options that
    differ for that problem; lrs: problem -> candidate learning rates, tried in order until one
    is well conditioned. For Lookahead, inner is the inner torch algorithm, options are its
    options, and lookahead = {"k": ..., "alpha": ...}.
    """

    def __init__(self, name, algorithm, options, lrs, note="", inner=None, lookahead=None,
                 foreach=False, overrides=None):
        self.name = name
        self.algorithm = algorithm
        self.options = options
        self.lrs = lrs
        self.note = note
        self.inner = inner
        self.lookahead = lookahead
        self.foreach = foreach
        self.overrides = overrides or {}

    def options_for(self, problem):
        opts = dict(self.options)
        opts.update(self.overrides.get(problem.name, {}))
        assert all(v is not None for v in opts.values()), f"{self.name}: unset option"
        return opts


def S(*args, **kw):
    return Setting(*args, **kw)


SETTINGS = [
    # torch.optim.SGD
    S("sgd_plain", "SGD", dict(momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False),
      {"rosenbrock": [2.5e-3, 2e-3], "quadratic": [1.5e-2], "mlp": [10.0, 2.0]}),
    S("sgd_momentum_dampening", "SGD",
      dict(momentum=0.9, dampening=0.1, weight_decay=0.0, nesterov=False),
      {"rosenbrock": [1e-3], "quadratic": [2e-2], "mlp": [0.5]}),
    S("sgd_nesterov", "SGD", dict(momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=True),
      {"rosenbrock": [1.5e-3, 1e-3], "quadratic": [2e-2, 1e-2], "mlp": [0.5]}),
    S("sgd_weight_decay", "SGD",
      dict(momentum=0.5, dampening=0.0, weight_decay=1e-2, nesterov=False),
      {"rosenbrock": [1e-3], "quadratic": [1.5e-2], "mlp": [1.0]}),
    # torch.optim.Adagrad
    S("adagrad_lr_decay_init_acc", "Adagrad",
      dict(lr_decay=1e-2, weight_decay=0.0, initial_accumulator_value=0.1, eps=1e-10),
      {"rosenbrock": [0.5], "quadratic": [0.3], "mlp": [0.5]}),
    S("adagrad_weight_decay", "Adagrad",
      dict(lr_decay=0.0, weight_decay=1e-2, initial_accumulator_value=0.0, eps=1e-10),
      {"rosenbrock": [0.3], "quadratic": [0.2], "mlp": [0.5]}),
    # torch.optim.RMSprop
    S("rmsprop_plain", "RMSprop",
      dict(alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False),
      {"rosenbrock": [1e-2], "quadratic": [1e-2], "mlp": [5e-2]}),
    S("rmsprop_momentum_centered_wd", "RMSprop",
      dict(alpha=0.9, eps=1e-8, weight_decay=1e-2, momentum=0.9, centered=True),
      {"rosenbrock": [3e-3], "quadratic": [3e-3], "mlp": [3e-2, 1e-2]}),
    # torch.optim.Adam
    S("adam_plain", "Adam", dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False),
      {"rosenbrock": [0.1], "quadratic": [5e-2], "mlp": [5e-2]}),
    S("adam_amsgrad_wd", "Adam", dict(betas=(0.8, 0.99), eps=1e-8, weight_decay=1e-2, amsgrad=True),
      {"rosenbrock": [5e-2], "quadratic": [5e-2], "mlp": [5e-2]}),
    # torch.optim.AdamW
    S("adamw_default_wd", "AdamW",
      dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False),
      {"rosenbrock": [0.1], "quadratic": [5e-2], "mlp": [5e-2]}),
    S("adamw_amsgrad", "AdamW", dict(betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1, amsgrad=True),
      {"rosenbrock": [5e-2], "quadratic": [3e-2], "mlp": [3e-2]}),
    # torch.optim.NAdam (foreach path, see the header); the first setting is torch's defaults
    S("nadam_default", "NAdam",
      dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3),
      {"rosenbrock": [2e-3], "quadratic": [2e-3], "mlp": [2e-3]}, foreach=True),
    S("nadam_weight_decay", "NAdam",
      dict(betas=(0.9, 0.99), eps=1e-8, weight_decay=1e-2, momentum_decay=4e-3),
      {"rosenbrock": [3e-2], "quadratic": [3e-2], "mlp": [3e-2]}, foreach=True),
    # torch.optim.RAdam; the first setting is torch's defaults
    S("radam_default", "RAdam", dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0),
      {"rosenbrock": [1e-3], "quadratic": [1e-3], "mlp": [1e-3]}),
    S("radam_weight_decay", "RAdam", dict(betas=(0.9, 0.99), eps=1e-8, weight_decay=1e-2),
      {"rosenbrock": [1e-2, 3e-3, 1e-3], "quadratic": [3e-2], "mlp": [3e-2]}),
    # SGDW (reference)
    S("sgdw_momentum", "SGDW", dict(momentum=0.9, dampening=0.0, weight_decay=1e-2, nesterov=False),
      {"rosenbrock": [1e-3], "quadratic": [2e-2], "mlp": [0.5]}),
    S("sgdw_nesterov", "SGDW", dict(momentum=0.8, dampening=0.0, weight_decay=5e-2, nesterov=True),
      {"rosenbrock": [1e-3], "quadratic": [1e-2], "mlp": [0.5]}),
    # AdaBound / AMSBound (reference); the first setting is the authors' defaults
    S("adabound", "AdaBound",
      dict(betas=(0.9, 0.999), final_lr=0.1, gamma=1e-3, eps=1e-8, weight_decay=0.0,
           amsbound=False),
      {"rosenbrock": [1e-3], "quadratic": [1e-3], "mlp": [1e-3]}),
    S("amsbound", "AdaBound",
      dict(betas=(0.9, 0.99), final_lr=0.05, gamma=2e-3, eps=1e-8, weight_decay=1e-3,
           amsbound=True),
      {"rosenbrock": [3e-3], "quadratic": [3e-3], "mlp": [3e-3]}),
    # SWATS (reference): eps_switch = 1e-9 as in the paper never fires within 120 steps here;
    # the second setting raises eps_switch per problem so that the switch fires mid-run, with
    # the criterion at least 3x away from the threshold on both sides.
    S("swats_no_switch", "SWATS",
      dict(betas=(0.9, 0.999), eps=1e-9, weight_decay=0.0, eps_switch=1e-9),
      {"rosenbrock": [1e-2], "quadratic": [3e-2], "mlp": [3e-2]}),
    S("swats_switch", "SWATS",
      dict(betas=(0.95, 0.99), eps=1e-9, weight_decay=1e-3, eps_switch=None),
      {"rosenbrock": [0.1], "quadratic": [0.1], "mlp": [3e-2]},
      overrides={"rosenbrock": {"eps_switch": 3e-6}, "quadratic": {"eps_switch": 4e-4},
                 "mlp": {"eps_switch": 5e-3}},
      note="eps_switch raised from the paper's 1e-9 (per problem: 3e-6 rosenbrock, 4e-4 "
           "quadratic, 5e-3 mlp) so that the switch to SGD happens within the run."),
    # Lookahead around torch optimizers
    S("lookahead_k5_a0.5_sgd_momentum", "Lookahead",
      dict(momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False),
      {"rosenbrock": [1e-3], "quadratic": [2e-2], "mlp": [0.5]},
      inner="SGD", lookahead={"k": 5, "alpha": 0.5}),
    S("lookahead_k5_a0.5_adam", "Lookahead",
      dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False),
      {"rosenbrock": [0.1], "quadratic": [5e-2], "mlp": [5e-2]},
      inner="Adam", lookahead={"k": 5, "alpha": 0.5}),
    S("lookahead_k3_a0.8_sgd_momentum", "Lookahead",
      dict(momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False),
      {"rosenbrock": [1e-3], "quadratic": [2e-2], "mlp": [0.5]},
      inner="SGD", lookahead={"k": 3, "alpha": 0.8}),
    S("lookahead_k3_a0.8_adam", "Lookahead",
      dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False),
      {"rosenbrock": [0.1], "quadratic": [5e-2], "mlp": [5e-2]},
      inner="Adam", lookahead={"k": 3, "alpha": 0.8}),
]


def group_dicts(problem, tensors, options, lr):
    """Parameter groups: one for rosenbrock/quadratic; for the MLP, weights then biases."""
    groups = []
    for gi, members in enumerate(problem.split(tensors)):
        g = dict(options)
        g["lr"] = lr
        if gi == 1:  # MLP biases: half the learning rate, no weight decay
            g["lr"] = lr * 0.5
            g["weight_decay"] = 0.0
        g["params"] = members
        groups.append(g)
    return groups


def build_torch(algorithm, groups, lr, foreach):
    kwargs = {}
    if algorithm == "Adagrad":
        # torch 1.13 fills every accumulator at construction from the constructor's
        # initial_accumulator_value and ignores a per-group value, so pass it there.
        values = {g.get("initial_accumulator_value", 0.0) for g in groups}
        assert len(values) == 1, "Adagrad groups must share initial_accumulator_value"
        kwargs["initial_accumulator_value"] = values.pop()
    return TORCH_OPTIMIZERS[algorithm](groups, lr=lr, foreach=foreach, **kwargs)


def build(setting, problem, tensors, lr, algorithm=None, foreach=None):
    """The optimizer of a run; algorithm / foreach replace the setting's for cross-checks."""
    algorithm = algorithm or setting.algorithm
    foreach = setting.foreach if foreach is None else foreach
    groups = group_dicts(problem, tensors, setting.options_for(problem), lr)
    if algorithm == "Lookahead":
        return ref.Lookahead(build_torch(setting.inner, groups, lr, False), **setting.lookahead)
    if algorithm in TORCH_OPTIMIZERS:
        return build_torch(algorithm, groups, lr, foreach)
    return REFERENCE_OPTIMIZERS[algorithm](groups)


def recorded_options(opt):
    """Every option of every group, as the optimizer holds it (betas as a 2-list)."""
    groups = opt.param_groups
    out = []
    flags = {}
    for g in groups:
        opts = {}
        for k, v in g.items():
            if k == "params":
                continue
            if isinstance(v, tuple):
                v = list(v)
            if k in IMPLEMENTATION_FLAGS:
                flags[k] = v
            else:
                opts[k] = v
        out.append(opts)
    return out, flags


# --- integration -----------------------------------------------------------------------------

def integrate(setting, problem, lr, perturb=False, algorithm=None, foreach=None):
    tensors = problem.fresh()
    opt = build(setting, problem, tensors, lr, algorithm, foreach)
    noise = gen_for(f"noise/{setting.name}/{problem.name}") if perturb else None
    losses, traj = [], []
    for _ in range(STEPS):
        for t in tensors:
            t.grad = None
        loss = problem.loss_of(tensors)
        loss.backward()
        if noise is not None:
            with torch.no_grad():
                for t in tensors:
                    xi = torch.randn(t.shape, generator=noise, dtype=DTYPE)
                    t.grad.mul_(1 + NOISE_REL * xi)
        opt.step()
        losses.append(float(loss))
        snap = [t.detach().clone() for t in tensors]
        if not all(torch.isfinite(s).all() for s in snap):
            return opt, losses, None
        traj.append(snap)
    return opt, losses, traj


def divergence(a, b):
    """Worst over steps of max over tensors of |a - b|_inf / |a|_inf."""
    worst = 0.0
    for sa, sb in zip(a, b):
        for ta, tb in zip(sa, sb):
            scale = float(ta.abs().max())
            d = float((ta - tb).abs().max())
            worst = max(worst, d / scale if scale > 0 else (0.0 if d == 0 else math.inf))
    return worst


def swats_report(opt):
    eps_switch = opt.param_groups[0]["eps_switch"]
    crits = opt.criteria
    before = [c for k, c in crits if opt.switch_step is None or k < opt.switch_step]
    rep = {
        "switched": opt.switch_step is not None,
        "switch_step": opt.switch_step,
        "first_sgd_step": None if opt.switch_step is None else opt.switch_step + 1,
        "Lambda": opt.Lambda,
        "eps_switch": eps_switch,
        "min_criterion_before_switch": min(before) if before else None,
        "criterion_at_switch": None if opt.switch_step is None else dict(crits)[opt.switch_step],
    }
    # No rounding-level flip of the switch decision: every tested criterion stays well away from
    # eps_switch (relative margin 1e-6).
    for k, c in crits:
        if opt.switch_step is not None and k > opt.switch_step:
            break
        assert abs(c / eps_switch - 1) > 1e-6, \
            f"SWATS criterion {c} at step {k} too close to {eps_switch}"
    return rep


def radam_first_rectified_step(beta2):
    rho_inf = 2 / (1 - beta2) - 1
    for t in range(1, STEPS + 1):
        if rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t) > 5:
            return t
    return None


def check_nadam(setting, problem, lr, traj):
    """torch foreach NAdam == documented formula (NAdamDoc); report the single-tensor gap."""
    _, _, doc = integrate(setting, problem, lr, algorithm="NAdamDoc_")
    gap = divergence(traj, doc)
    assert gap <= NADAM_TOL, f"NAdam foreach vs documented formula: {gap}"
    _, _, single = integrate(setting, problem, lr, foreach=False)
    return gap, divergence(traj, single)


REFERENCE_OPTIMIZERS["NAdamDoc_"] = ref.NAdamDoc


def check_sgdw(setting, problem, lr, traj):
    """SGDW == decay p ← p·(1 − lr·wd), then torch.optim.SGD's step with weight_decay 0."""
    tensors = problem.fresh()
    opts = setting.options_for(problem)
    decays = [g["weight_decay"] for g in group_dicts(problem, tensors, opts, lr)]
    opts["weight_decay"] = 0.0
    sgd = torch.optim.SGD(group_dicts(problem, tensors, opts, lr), lr=lr, foreach=False)
    for k in range(STEPS):
        for t in tensors:
            t.grad = None
        problem.loss_of(tensors).backward()
        with torch.no_grad():
            for g, wd in zip(sgd.param_groups, decays):
                for p in g["params"]:
                    p.mul_(1 - g["lr"] * wd)
        sgd.step()
        for a, b in zip(traj[k], tensors):
            assert torch.equal(a, b.detach()), "SGDW differs from decay + torch SGD"


def reject_reason(losses, traj, traj2):
    """Why a candidate run is unusable as a fixture, or None, plus its conditioning."""
    if traj is None or traj2 is None:
        return "non-finite values", None
    cond = divergence(traj, traj2)
    if cond > DIVERGENCE_TOL:
        return f"perturbed trajectory diverges by {cond:.3e} > {DIVERGENCE_TOL:g}", cond
    biggest = max(float(t.abs().max()) for step in traj for t in step)
    if biggest > 1e3 or not losses[-1] < losses[0]:
        return f"run diverges (max |param| {biggest:.3g}, loss {losses[0]:.4g} -> " \
               f"{losses[-1]:.4g})", cond
    return None, cond


def check_swats_prefix(setting, problem, lr, opt):
    """Before its switch SWATS is Adam; with eps = 0 (where the two place eps differently:
    SWATS adds it to sqrt(v), torch to sqrt(v)/sqrt(1 - beta2^k)) both must agree with
    torch.optim.Adam to rounding over the steps before the switch."""
    n = opt.switch_step or STEPS
    opts = dict(setting.options_for(problem), eps=0.0)
    a, b = problem.fresh(), problem.fresh()
    swats = ref.SWATS(group_dicts(problem, a, opts, lr))
    adam_opts = {k: opts[k] for k in ("betas", "eps", "weight_decay")}
    adam = torch.optim.Adam(group_dicts(problem, b, adam_opts, lr), lr=lr, foreach=False)
    worst = 0.0
    for _ in range(n):
        for tensors, o in ((a, swats), (b, adam)):
            for t in tensors:
                t.grad = None
            problem.loss_of(tensors).backward()
            o.step()
        worst = max(worst, divergence([[t.detach() for t in a]], [[t.detach() for t in b]]))
    assert worst < 1e-11, f"SWATS Adam phase (eps = 0) vs torch Adam: {worst}"
    return worst


def run_setting(setting, problem):
    rejected = []
    for lr in setting.lrs[problem.name]:
        opt, losses, traj = integrate(setting, problem, lr)
        _, _, traj2 = integrate(setting, problem, lr, perturb=True)
        why, cond = reject_reason(losses, traj, traj2)
        if why is None:
            break
        rejected.append(lr)
        print(f"  rejected {setting.name}/{problem.name} lr={lr:g}: {why}")
    else:
        raise SystemExit(f"{setting.name}/{problem.name}: every candidate lr rejected")

    options, flags = recorded_options(opt)
    run = {
        "name": f"{setting.name}/{problem.name}",
        "setting": setting.name,
        "algorithm": setting.algorithm,
        "problem": problem.name,
        "groups": [{"params": names, "options": o} for names, o in zip(problem.groups, options)],
    }
    if setting.algorithm in TORCH_OPTIMIZERS:
        run["source"] = f"torch.optim.{setting.algorithm} (torch {TORCH_VERSION})"
        run["torch_flags"] = flags
    elif setting.algorithm == "Lookahead":
        run["source"] = (f"tools/optim_reference.py Lookahead around torch.optim.{setting.inner} "
                         f"(torch {TORCH_VERSION})")
        run["torch_flags"] = flags
        run["inner_algorithm"] = setting.inner
        run["lookahead"] = dict(setting.lookahead)
    else:
        run["source"] = f"tools/optim_reference.py {setting.algorithm}"
    if setting.note:
        run["note"] = setting.note
    if rejected:
        run["rejected_lrs"] = rejected
    if setting.algorithm == "SWATS":
        run["swats"] = swats_report(opt)
        opt2, _, _ = integrate(setting, problem, lr, perturb=True)
        assert opt2.switch_step == opt.switch_step, "SWATS switch moved under perturbation"
        run["swats"]["adam_phase_vs_torch_adam_eps0"] = check_swats_prefix(setting, problem, lr,
                                                                           opt)
    if setting.algorithm == "RAdam":
        run["radam_first_rectified_step"] = radam_first_rectified_step(
            setting.options_for(problem)["betas"][1])
    if setting.algorithm == "NAdam":
        gap, single_gap = check_nadam(setting, problem, lr, traj)
        run["nadam_check"] = {"foreach_vs_documented_formula": gap,
                              "single_tensor_path_vs_foreach": single_gap}
    if setting.algorithm == "SGDW":
        check_sgdw(setting, problem, lr, traj)
    run["conditioning"] = cond
    run["losses"] = losses
    run["trajectory"] = [[flat(t) for t in step] for step in traj]
    return run


def make_trajectories():
    runs = []
    for setting in SETTINGS:
        for pname in PROBLEM_ORDER:
            problem = PROBLEMS[pname]
            run = run_setting(setting, problem)
            tail = ""
            if "swats" in run:
                sw = run["swats"]
                tail = f"  switch_step={sw['switch_step']} Lambda={sw['Lambda']}"
            if "nadam_check" in run:
                c = run["nadam_check"]
                tail = (f"  doc-vs-foreach={c['foreach_vs_documented_formula']:.1e}"
                        f" single-vs-foreach={c['single_tensor_path_vs_foreach']:.1e}")
            print(f"{run['name']:45s} lr={run['groups'][0]['options']['lr']:<8g} "
                  f"cond={run['conditioning']:.2e} loss {run['losses'][0]:.4g} -> "
                  f"{run['losses'][-1]:.4g}{tail}")
            runs.append(run)

    noise = []
    for eta in (0.01, 0.3, 1.0):
        noise.append({"eta": eta, "gamma": 0.55,
                      "sigma": [ref.gradient_noise_sigma(eta, t, 0.55) for t in range(300)]})

    return {
        "about": "Reference optimizer trajectories for descent's optim library, float64. For every "
                 "run: the problem (see 'problems'), the parameter groups with every option "
                 "spelled out, and the parameter values after each of the 120 steps. Generated "
                 "by tools/make_optim_fixtures.py; do not edit by hand.",
        "generator": "tools/make_optim_fixtures.py",
        "torch_version": TORCH_VERSION,
        "dtype": "float64",
        "seed": SEED,
        "steps": STEPS,
        "semantics": {
            "loop": "for k in 1..steps: zero the gradients; loss = f(params); backward; "
                    "optimizer.step(). No closure, no gradient clipping, no scheduler.",
            "trajectory": "trajectory[k-1] = parameter values right after step k (k = 1..steps); "
                          "each entry lists the tensors in group order (run.groups[0].params, "
                          "then run.groups[1].params), each flattened row-major. The values "
                          "before step 1 are problems[run.problem].params.",
            "losses": "losses[k-1] = f at the parameters before step k (the loss whose gradient "
                      "step k used).",
            "groups": "run.groups[i].options holds every option of parameter group i as the "
                      "optimizer holds it, under torch's names (betas as [beta1, beta2]). For "
                      "mlp, group 1 (biases) has lr = 0.5 * group 0's lr and weight_decay = 0.",
            "torch_flags": "implementation-only torch flags of the run (foreach etc.); they do "
                           "not change the mathematics except for NAdam, where foreach=True "
                           "selects the documented formula (see nadam_check).",
            "conditioning": "the run was integrated a second time with every gradient element "
                            "multiplied by (1 + 1e-13 * N(0,1)); conditioning = max over steps "
                            "and tensors of max|a - b| / max|a| between the two trajectories. "
                            "Every run has conditioning <= 1e-9.",
            "Lookahead": "inner_algorithm's options are in groups; lookahead = {k, alpha}. "
                         "Slow weights = parameters at construction; after every k-th inner "
                         "step: slow += alpha * (fast - slow); fast = slow. The inner "
                         "optimizer's state (momentum buffers, Adam moments, step counts) is "
                         "kept as is. The trajectory holds the parameters themselves (the fast "
                         "weights, equal to the slow ones right after steps k, 2k, ...).",
            "SGDW": "p = p * (1 - lr * weight_decay); then torch.optim.SGD's step (momentum, "
                    "dampening, nesterov as torch; momentum buffer = gradient on step 1) on "
                    "the plain gradient.",
            "AdaBound": "authors' adabound.py (github.com/Luolc/AdaBound): L2 weight decay into "
                        "the gradient; m, v as Adam (uncorrected); amsbound: v -> running max; "
                        "denom = sqrt(v) + eps; step_size = lr * sqrt(1 - beta2^t) / (1 - "
                        "beta1^t); final = final_lr * lr / base_lr (base_lr = lr at "
                        "construction, so final = final_lr here); lower = final * (1 - 1 / "
                        "(gamma * t + 1)); upper = final * (1 + 1 / (gamma * t)); p -= "
                        "clamp(step_size / denom, lower, upper) * m, elementwise.",
            "SWATS": "Keskar & Socher 2017, Algorithm 1, one phase for the whole model: g = "
                     "grad + weight_decay * p; Adam phase: m, v as Adam (uncorrected), "
                     "p_k = -lr * sqrt(1 - beta2^k) / (1 - beta1^k) * m / (sqrt(v) + eps) "
                     "(per group lr), p += p_k; with dot products over all parameters "
                     "concatenated, if p_k.g != 0: gamma_k = p_k.p_k / (-p_k.g), lambda = beta2 "
                     "* lambda + (1 - beta2) * gamma_k (lambda starts at 0), and if k > 1 and "
                     "|lambda / (1 - beta2^k) - gamma_k| < eps_switch, switch: Lambda = lambda / "
                     "(1 - beta2^k), v_sgd = 0. From step k + 1 on: v_sgd = beta1 * v_sgd + g; "
                     "p -= (1 - beta1) * Lambda * v_sgd (the same Lambda for every group). "
                     "run.swats: switch_step (the k whose test fired, null if never), "
                     "first_sgd_step = switch_step + 1, Lambda, eps_switch, "
                     "criterion_at_switch, min_criterion_before_switch (smallest criterion of "
                     "the tested steps before the switch, or of all steps if none) and "
                     "adam_phase_vs_torch_adam_eps0 (gap to torch Adam before the switch, "
                     "both with eps = 0).",
            "NAdam": "torch's foreach path = the documented formula with prod_{i<=t+1} mu_i = "
                     "P_t * mu_{t+1}; nadam_check gives its max relative gap to an independent "
                     "implementation of that formula and to torch's single-tensor path (which "
                     "uses P_t * mu_t * mu_{t+1}).",
            "RAdam": "torch 1.13: rectified update once rho_t > 5; radam_first_rectified_step "
                     "is the first step t where that holds.",
            "rejected_lrs": "learning rates tried first for this run and rejected (non-finite, "
                            "divergent, or conditioning > 1e-9); informational.",
            "gradient_noise": "sigma[t] = sqrt(eta / (1 + t)^gamma) for t = 0..299 (Neelakantan "
                              "et al. 2015): the standard deviation of the Gaussian noise added "
                              "to the gradient at step t. The noise itself is random.",
        },
        "problems": {n: PROBLEMS[n].record() for n in PROBLEM_ORDER},
        "runs": runs,
        "gradient_noise": noise,
    }


# --- schedules -------------------------------------------------------------------------------

BASE_LRS = [0.1, 0.02]
LR = torch.optim.lr_scheduler


class Case:
    """One schedule case.

    scheduler: torch class name; args: every constructor argument but the optimizer, as
    recorded (for SequentialLR / ChainedScheduler the inner schedulers are listed with their
    own args, in construction order); make(opt) builds the scheduler; closed_form(t, g, base)
    is an independent formula for the lr of group g at index t (base = the group's lr as the
    optimizer was built); cycled: "momentum" or "beta1" when the schedule drives it.
    """

    def __init__(self, name, scheduler, args, make, closed_form, optimizer="SGD", cycled=None,
                 note="", metrics=None, closed_form_text=""):
        self.name = name
        self.scheduler = scheduler
        self.args = args
        self.make = make
        self.closed_form = closed_form
        self.optimizer = optimizer
        self.cycled = cycled
        self.note = note
        self.metrics = metrics
        self.closed_form_text = closed_form_text


def std_args(**kw):
    kw.setdefault("last_epoch", -1)
    kw.setdefault("verbose", False)
    return kw


def plain(cls, **kw):
    """A case whose scheduler takes (optimizer, **args) directly."""
    args = std_args(**kw)
    return args, (lambda opt: getattr(LR, cls)(opt, **args))


def cosine(t, base, t_max, eta_min):
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / t_max)) / 2


def warm_restart_position(t, t0, mult):
    """(T_cur, T_i) of SGDR at integer step t."""
    t_i, start = t0, 0
    while t >= start + t_i:
        start += t_i
        t_i *= mult
    return t - start, t_i


def one_cycle(t, phases, anneal):
    """OneCycleLR's piecewise annealing; phases = [(end_step, start, end)], ends as torch."""
    start_step = 0.0
    for i, (end_step, a, b) in enumerate(phases):
        if t <= end_step or i == len(phases) - 1:
            pct = (t - start_step) / (end_step - start_step)
            if anneal == "cos":
                return b + (a - b) / 2.0 * (math.cos(math.pi * pct) + 1)
            return (b - a) * pct + a
        start_step = end_step


def one_cycle_case(name, optimizer, max_lr, total_steps, pct_start, anneal, three_phase,
                   div_factor, final_div_factor, base_momentum, max_momentum):
    args = std_args(max_lr=max_lr, total_steps=total_steps, epochs=None, steps_per_epoch=None,
                    pct_start=pct_start, anneal_strategy=anneal, cycle_momentum=True,
                    base_momentum=base_momentum, max_momentum=max_momentum,
                    div_factor=div_factor, final_div_factor=final_div_factor,
                    three_phase=three_phase)

    def phases(g, what):
        top = max_lr[g]
        lo = top / div_factor
        lows = {"lr": (lo, top, lo / final_div_factor),
                "momentum": (max_momentum, base_momentum, max_momentum)}[what]
        init, peak, final = lows
        e1 = float(pct_start * total_steps) - 1
        if three_phase:
            e2 = float(2 * pct_start * total_steps) - 2
            if what == "lr":
                return [(e1, init, peak), (e2, peak, init), (total_steps - 1, init, final)]
            return [(e1, init, peak), (e2, peak, init), (total_steps - 1, init, init)]
        return [(e1, init, peak), (total_steps - 1, peak, final)]

    def closed(t, g, base, what="lr"):
        return one_cycle(t, phases(g, what), anneal)

    text = ("OneCycleLR: initial = max_lr / div_factor, min = initial / final_div_factor; "
            "phase ends at pct_start*total_steps - 1 (and 2*pct_start*total_steps - 2 for "
            "three_phase), last phase ends at total_steps - 1; within a phase pct = (t - "
            "previous end) / (end - previous end) (previous end 0 for the first) and the value "
            "anneals start -> end by cos (end + (start - end)/2*(cos(pi*pct) + 1)) or linearly; "
            "momentum runs max -> base -> max (three_phase: max -> base -> max -> max).")
    return Case(name, "OneCycleLR", args, lambda opt: LR.OneCycleLR(opt, **args), closed,
                optimizer=optimizer, cycled="beta1" if optimizer == "Adam" else "momentum",
                closed_form_text=text)


def cyclic_case(name, mode, step_size_up, step_size_down, gamma):
    base_lr, max_lr, base_m, max_m = [0.01, 0.002], [0.1, 0.02], 0.8, 0.9
    args = std_args(base_lr=base_lr, max_lr=max_lr, step_size_up=step_size_up,
                    step_size_down=step_size_down, mode=mode, gamma=gamma, scale_fn=None,
                    scale_mode="cycle", cycle_momentum=True, base_momentum=base_m,
                    max_momentum=max_m)
    up = float(step_size_up)
    total = up + float(step_size_down if step_size_down is not None else step_size_up)

    def closed(t, g, base, what="lr"):
        cycle = math.floor(1 + t / total)
        x = 1.0 + t / total - cycle
        ratio = up / total
        frac = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
        scale = {"triangular": 1.0, "triangular2": 1 / 2.0 ** (cycle - 1),
                 "exp_range": gamma ** t}[mode]
        if what == "lr":
            return base_lr[g] + (max_lr[g] - base_lr[g]) * frac * scale
        return max_m - (max_m - base_m) * frac * scale

    text = ("CyclicLR: cycle = floor(1 + t/(up + down)), x = 1 + t/(up + down) - cycle, frac = "
            "x/r if x <= r else (x - 1)/(r - 1) with r = up/(up + down); lr = base_lr + "
            "(max_lr - base_lr)*frac*s, momentum = max_momentum - (max_momentum - "
            "base_momentum)*frac*s, s = 1 (triangular), 1/2^(cycle - 1) (triangular2), gamma^t "
            "(exp_range; scale_mode is then 'iterations' whatever the scale_mode argument).")
    return Case(name, "CyclicLR", args, lambda opt: LR.CyclicLR(opt, **args), closed,
                cycled="momentum", closed_form_text=text,
                note="The optimizer's lr is replaced by base_lr and its momentum by "
                     "base_momentum at construction; index 0 then already holds t = 0 values.")


def plateau_metrics(mode):
    """A designed metric sequence of SCHEDULE_STEPS values: stretches that improve every step
    (by 3 % of the distance to 0.05, plus 0.002) alternate with flat stretches that wobble by at most
    0.4 % without ever improving on the best value, so that reductions and cooldowns happen at
    predictable places. mode "max" mirrors the sequence into an accuracy-like curve. Values are
    rounded to 6 significant digits."""
    stretches = [(25, True), (30, False), (15, True), (45, False), (20, True), (25, False),
                 (10, True), (60, False), (15, True), (55, False)]
    assert sum(n for n, _ in stretches) == SCHEDULE_STEPS
    out, value, t = [], 1.0, 0
    for n, improving in stretches:
        level = value
        for i in range(n):
            if improving:
                value = value - 0.03 * (value - 0.05) - 0.002
                out.append(value)
            else:
                wobble = 0.002 * (1 + math.sin(0.7 * t + 0.3 * i))  # in [0, 0.004]
                out.append(level * (1 + wobble))
            t += 1
    out = [float(f"{v:.6g}") for v in out]
    if mode == "max":
        out = [float(f"{1.0 - 0.5 * v:.6g}") for v in out]
    return out


def plateau_case(name, mode, threshold_mode, threshold, factor, patience, cooldown, min_lr, eps):
    metrics = plateau_metrics(mode)
    args = dict(mode=mode, factor=factor, patience=patience, threshold=threshold,
                threshold_mode=threshold_mode, cooldown=cooldown, min_lr=min_lr, eps=eps,
                verbose=False)
    return Case(name, "ReduceLROnPlateau", args,
                lambda opt: LR.ReduceLROnPlateau(opt, **args), None, metrics=metrics,
                note="Index i >= 1 is the lr after scheduler.step(metrics[i - 1]). "
                     "reduction_steps: the i where num_bad_epochs exceeded patience (torch "
                     "calls _reduce_lr and starts the cooldown there); lr_changed_steps[g]: "
                     "the i where group g's lr actually changed (not when new = max(lr * "
                     "factor, min_lr) differs from lr by eps or less, e.g. at min_lr); "
                     "cooldown_steps: the i where the cooldown counter was running (bad "
                     "epochs ignored).")


def simulate_plateau(case, base_lrs):
    """ReduceLROnPlateau written out independently; also checks that no comparison is within
    1e-9 (relative) of flipping, and returns the lrs and the reduction / cooldown indices."""
    a = case.args
    lrs = [list(base_lrs)]
    mins = a["min_lr"] if isinstance(a["min_lr"], list) else [a["min_lr"]] * len(base_lrs)
    best = math.inf if a["mode"] == "min" else -math.inf
    bad, cool = 0, 0
    reductions, cooldown_steps = [], []
    cur = list(base_lrs)
    for i, m in enumerate(case.metrics, start=1):
        sign = 1 if a["mode"] == "max" else -1
        if a["threshold_mode"] == "rel":
            bar = best * (1 + sign * a["threshold"])
        else:
            bar = best + sign * a["threshold"]
        better = m > bar if a["mode"] == "max" else m < bar
        if math.isfinite(bar):
            assert abs(m - bar) > 1e-9 * abs(bar), f"{case.name}: metric {i} on the threshold"
        if better:
            best, bad = m, 0
        else:
            bad += 1
        if cool > 0:
            cool -= 1
            bad = 0
            cooldown_steps.append(i)
        if bad > a["patience"]:
            new = [max(lr * a["factor"], lo) for lr, lo in zip(cur, mins)]
            cur = [n if o - n > a["eps"] else o for o, n in zip(cur, new)]
            reductions.append(i)
            cool, bad = a["cooldown"], 0
        lrs.append(list(cur))
    return lrs, reductions, cooldown_steps


def schedule_cases():
    cases = []

    def add(name, cls, closed, text, note="", **kw):
        args, make = plain(cls, **kw)
        cases.append(Case(name, cls, args, make, closed, note=note, closed_form_text=text))

    add("step_lr", "StepLR", lambda t, g, b: b * 0.5 ** (t // 40),
        "base * gamma^floor(t / step_size)", step_size=40, gamma=0.5)
    add("multistep_lr", "MultiStepLR",
        lambda t, g, b: b * 0.3 ** sum(1 for m in (50, 120, 200) if t >= m),
        "base * gamma^(number of milestones <= t)", milestones=[50, 120, 200], gamma=0.3)
    add("exponential_lr", "ExponentialLR", lambda t, g, b: b * 0.985 ** t, "base * gamma^t",
        gamma=0.985)
    add("cosine_annealing_lr", "CosineAnnealingLR", lambda t, g, b: cosine(t, b, 300, 1e-3),
        "eta_min + (base - eta_min) * (1 + cos(pi * t / T_max)) / 2", T_max=300, eta_min=1e-3)
    add("cosine_annealing_lr_periodic", "CosineAnnealingLR",
        lambda t, g, b: cosine(t, b, 100, 1e-3),
        "eta_min + (base - eta_min) * (1 + cos(pi * t / T_max)) / 2, also for t > T_max (torch "
        "keeps following the cosine: back up to base at t = 2 T_max)",
        note="t runs to 3 * T_max: torch's schedule is periodic with period 2 * T_max.",
        T_max=100, eta_min=1e-3)
    add("cosine_warm_restarts_mult1", "CosineAnnealingWarmRestarts",
        lambda t, g, b: cosine(*warm_restart_position(t, 50, 1)[:1], b,
                               warm_restart_position(t, 50, 1)[1], 1e-3),
        "eta_min + (base - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2; T_i = T_0 * T_mult^n "
        "for the n-th restart, T_cur = steps since the last restart", T_0=50, T_mult=1,
        eta_min=1e-3)
    add("cosine_warm_restarts_mult2", "CosineAnnealingWarmRestarts",
        lambda t, g, b: cosine(*warm_restart_position(t, 20, 2)[:1], b,
                               warm_restart_position(t, 20, 2)[1], 1e-4),
        "as cosine_warm_restarts_mult1; restarts at t = 20, 60, 140, 300", T_0=20, T_mult=2,
        eta_min=1e-4)
    cases.append(cyclic_case("cyclic_triangular", "triangular", 20, 30, 1.0))
    cases.append(cyclic_case("cyclic_triangular2", "triangular2", 25, None, 1.0))
    cases.append(cyclic_case("cyclic_exp_range", "exp_range", 40, None, 0.995))
    cases.append(one_cycle_case("one_cycle_cos_two_phase", "SGD", [0.1, 0.02], 301, 0.3, "cos",
                                False, 25.0, 1e4, 0.85, 0.95))
    cases.append(one_cycle_case("one_cycle_linear_three_phase", "SGD", [0.1, 0.02], 301, 0.25,
                                "linear", True, 10.0, 100.0, 0.8, 0.9))
    cases.append(one_cycle_case("one_cycle_linear_two_phase_adam", "Adam", [0.1, 0.02], 301,
                                0.4, "linear", False, 20.0, 1e3, 0.85, 0.95))
    cases.append(one_cycle_case("one_cycle_cos_three_phase_adam", "Adam", [0.1, 0.02], 301,
                                0.2, "cos", True, 25.0, 1e4, 0.8, 0.95))
    add("linear_lr_warmup", "LinearLR",
        lambda t, g, b: b * (0.1 + 0.9 * min(t, 25) / 25),
        "base * (start_factor + (end_factor - start_factor) * min(t, total_iters) / "
        "total_iters)", note="A linear warm-up from 0.1 * base to base over 25 steps.",
        start_factor=0.1, end_factor=1.0, total_iters=25)
    add("constant_lr", "ConstantLR", lambda t, g, b: b * (0.5 if t < 40 else 1.0),
        "base * (factor if t < total_iters else 1)", factor=0.5, total_iters=40)
    add("polynomial_lr_power1", "PolynomialLR",
        lambda t, g, b: b * (1 - min(t, 300) / 300) ** 1.0,
        "base * (1 - min(t, total_iters) / total_iters)^power", total_iters=300, power=1.0)
    add("polynomial_lr_power2", "PolynomialLR",
        lambda t, g, b: b * (1 - min(t, 250) / 250) ** 2.0,
        "base * (1 - min(t, total_iters) / total_iters)^power (0 from t = total_iters on)",
        total_iters=250, power=2.0)

    lam_args = std_args(lr_lambda="lambda t: 1 / sqrt(t + 1)")
    cases.append(Case(
        "lambda_lr_inverse_sqrt", "LambdaLR", lam_args,
        lambda opt: LR.LambdaLR(opt, lr_lambda=lambda t: 1 / math.sqrt(t + 1)),
        lambda t, g, b: b * (1 / math.sqrt(t + 1)), closed_form_text="base / sqrt(t + 1)",
        note="lr_lambda(t) = 1/sqrt(t + 1): the lecture's Adagrad-style 1/sqrt(t) decay "
             "(shifted by one so that t = 0 gives the base lr). Computed in Python as "
             "base * (1 / math.sqrt(t + 1))."))

    seq_args = std_args(
        schedulers=[{"scheduler": "LinearLR",
                     "args": std_args(start_factor=0.1, end_factor=1.0, total_iters=20)},
                    {"scheduler": "CosineAnnealingLR",
                     "args": std_args(T_max=280, eta_min=1e-4)}],
        milestones=[20])

    def make_seq(opt):
        s1 = LR.LinearLR(opt, **seq_args["schedulers"][0]["args"])
        s2 = LR.CosineAnnealingLR(opt, **seq_args["schedulers"][1]["args"])
        return LR.SequentialLR(opt, schedulers=[s1, s2], milestones=[20])

    cases.append(Case(
        "sequential_warmup_cosine", "SequentialLR", seq_args, make_seq,
        lambda t, g, b: (b * (0.1 + 0.9 * t / 20) if t < 20 else cosine(t - 20, b, 280, 1e-4)),
        closed_form_text="t < 20: base * (0.1 + 0.9 * t / 20); t >= 20: eta_min + (base - "
                         "eta_min) * (1 + cos(pi * (t - 20) / 280)) / 2",
        note="Linear warm-up for 20 steps, then cosine annealing restarted at t = 20 "
             "(torch steps the second scheduler with step(0) at the milestone; that call's "
             "epoch-deprecation UserWarning is the one warning the script filters out)."))

    ch_args = {"schedulers": [{"scheduler": "ConstantLR",
                               "args": std_args(factor=0.5, total_iters=10)},
                              {"scheduler": "ExponentialLR", "args": std_args(gamma=0.98)}]}

    def make_chain(opt):
        s1 = LR.ConstantLR(opt, **ch_args["schedulers"][0]["args"])
        s2 = LR.ExponentialLR(opt, **ch_args["schedulers"][1]["args"])
        return LR.ChainedScheduler([s1, s2])

    cases.append(Case(
        "chained_constant_exponential", "ChainedScheduler", ch_args, make_chain,
        lambda t, g, b: b * 0.98 ** t * (0.5 if t < 10 else 1.0),
        closed_form_text="product of the factors: base * 0.98^t * (0.5 if t < 10 else 1)"))

    cases.append(plateau_case("plateau_min_rel", "min", "rel", 1e-2, 0.5, 8, 5, [1e-3, 5e-4],
                              1e-8))
    cases.append(plateau_case("plateau_min_abs", "min", "abs", 5e-3, 0.3, 5, 10, 1e-4, 1e-8))
    cases.append(plateau_case("plateau_max_rel", "max", "rel", 2e-3, 0.5, 4, 3, 0.0, 1e-8))
    cases.append(plateau_case("plateau_max_abs", "max", "abs", 1e-3, 0.2, 10, 0, [2e-3, 1e-3],
                              1e-8))
    return cases


def make_optimizer(kind):
    params = [torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)]
    if kind == "SGD":
        groups = [{"params": [params[0]], "lr": BASE_LRS[0], "momentum": 0.9},
                  {"params": [params[1]], "lr": BASE_LRS[1], "momentum": 0.9}]
        return torch.optim.SGD(groups, lr=BASE_LRS[0], momentum=0.9, foreach=False)
    groups = [{"params": [params[0]], "lr": BASE_LRS[0]},
              {"params": [params[1]], "lr": BASE_LRS[1]}]
    return torch.optim.Adam(groups, lr=BASE_LRS[0], betas=(0.9, 0.999), foreach=False)


def rel_gap(a, b):
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b))


def run_case(case):
    opt = make_optimizer(case.optimizer)
    opt_record, _ = recorded_options(opt)
    sched = case.make(opt)
    n_groups = len(opt.param_groups)
    lrs = [[] for _ in range(n_groups)]
    cyc = [[] for _ in range(n_groups)]

    def snap():
        for g, group in enumerate(opt.param_groups):
            lrs[g].append(float(group["lr"]))
            if case.cycled == "momentum":
                cyc[g].append(float(group["momentum"]))
            elif case.cycled == "beta1":
                cyc[g].append(float(group["betas"][0]))

    snap()
    for i in range(SCHEDULE_STEPS):
        opt.step()  # no gradients: a no-op that keeps torch's call-order check satisfied
        if case.metrics is not None:
            sched.step(case.metrics[i])
        elif case.scheduler == "SequentialLR":
            with warnings.catch_warnings():
                # torch's own step(0) call at the milestone (EPOCH_DEPRECATION_WARNING)
                warnings.filterwarnings("ignore", message="The epoch parameter in",
                                        category=UserWarning)
                sched.step()
        else:
            sched.step()
        snap()

    rec = {"name": case.name, "scheduler": case.scheduler, "args": case.args,
           "optimizer": {"algorithm": case.optimizer, "groups": opt_record}}
    if case.note:
        rec["note"] = case.note
    rec["lr"] = lrs
    if case.cycled:
        rec[case.cycled] = cyc

    if case.metrics is not None:
        sim, reductions, cooldowns = simulate_plateau(case, [g["lr"] for g in opt_record])
        assert all(sim[i][g] == lrs[g][i] for i in range(len(sim)) for g in range(n_groups)), \
            f"{case.name}: torch differs from the independent simulation"
        assert len(reductions) >= 3 and cooldowns or case.args["cooldown"] == 0, case.name
        rec["metrics"] = case.metrics
        rec["reduction_steps"] = reductions
        rec["lr_changed_steps"] = [[i for i in range(1, len(lrs[g])) if lrs[g][i] != lrs[g][i - 1]]
                                   for g in range(n_groups)]
        rec["cooldown_steps"] = cooldowns
        rec["closed_form_max_rel_diff"] = 0.0
        rec["closed_form"] = "independent simulation of ReduceLROnPlateau (identical values)"
        detail = f"reductions at {reductions}"
    else:
        worst = 0.0
        for g in range(n_groups):
            base = opt_record[g]["lr"]
            for t in range(SCHEDULE_STEPS + 1):
                worst = max(worst, rel_gap(lrs[g][t], case.closed_form(t, g, base)))
                if case.cycled:
                    worst = max(worst, rel_gap(cyc[g][t], case.closed_form(t, g, base,
                                                                           "momentum")))
        assert worst < 1e-12, f"{case.name}: torch vs closed form {worst}"
        rec["closed_form"] = case.closed_form_text
        rec["closed_form_max_rel_diff"] = worst
        detail = f"closed-form gap {worst:.1e}"
    print(f"{case.name:34s} {case.scheduler:28s} lr[0] {lrs[0][0]:.4g} -> {lrs[0][-1]:.4g}  "
          f"{detail}")
    return rec


def make_schedules():
    cases = [run_case(c) for c in schedule_cases()]
    return {
        "about": "Reference learning-rate schedules from torch.optim.lr_scheduler (torch "
                 f"{TORCH_VERSION}) for descent's optim library, float64. Generated by "
                 "tools/make_optim_fixtures.py; do not edit by hand.",
        "generator": "tools/make_optim_fixtures.py",
        "torch_version": TORCH_VERSION,
        "steps": SCHEDULE_STEPS,
        "semantics": (
            "Driver: build the optimizer (case.optimizer: two parameter groups, options as "
            "listed, group 0 lr 0.1 and group 1 lr 0.02 unless the scheduler overrides them at "
            "construction), build the scheduler with case.args, record; then 300 times: "
            "optimizer.step(); scheduler.step() (ReduceLROnPlateau: scheduler.step(metrics[i - "
            "1]) on the i-th time); record. So lr[g][i], i = 0..300, is "
            "optimizer.param_groups[g]['lr'] right after construction (i = 0) and right after "
            "the i-th scheduler.step() (i >= 1); for every scheduler but ReduceLROnPlateau that "
            "is the schedule at t = i = torch's last_epoch. The (i+1)-th optimizer.step() of a "
            "training loop uses lr[g][i]. 'momentum' (SGD) / 'beta1' (Adam, betas[0]) are "
            "recorded the same way where the scheduler cycles them. Values are what torch "
            "stores, produced by its recursive (chainable) formulas where it has them; "
            "closed_form states an explicit formula in t and base = the group's initial lr "
            "(lr[g][0] for most cases) and closed_form_max_rel_diff the largest relative gap "
            "between it and torch's values over all t, groups and cycled momenta."),
        "cases": cases,
    }


# --- output ----------------------------------------------------------------------------------

def _depth(x):
    if isinstance(x, list):
        return 1 + max((_depth(v) for v in x), default=0)
    return 0


def _leaves(x):
    return sum(_leaves(v) for v in x) if isinstance(x, list) else 1


def _is_numeric(x):
    if isinstance(x, list):
        return all(_is_numeric(v) for v in x)
    return x is None or isinstance(x, (int, float, bool))


def encode(x, indent=0):
    """JSON with a number list (or a small list of number lists) on one line."""
    pad = " " * indent
    if isinstance(x, float):
        assert math.isfinite(x), "non-finite value in a fixture"
    if isinstance(x, dict):
        if not x:
            return "{}"
        items = [f'{pad} {json.dumps(k)}: {encode(v, indent + 1)}' for k, v in x.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(x, list):
        if _is_numeric(x) and (_depth(x) <= 1 or (_depth(x) == 2 and _leaves(x) <= 100)):
            return json.dumps(x, separators=(", ", ": "))
        if not x:
            return "[]"
        items = [pad + " " + encode(v, indent + 1) for v in x]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(x)


def write(path, doc):
    text = encode(doc) + "\n"
    assert json.loads(text) == json.loads(json.dumps(doc)), "encoder round trip"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    print(f"wrote {os.path.relpath(path, ROOT)} ({len(text) / 1e6:.2f} MB)")


def main():
    warnings.simplefilter("error")  # any warning not explicitly expected stops the script
    traj = make_trajectories()
    sched = make_schedules()
    write(OUT_TRAJ, traj)
    write(OUT_SCHED, sched)


if __name__ == "__main__":
    main()
