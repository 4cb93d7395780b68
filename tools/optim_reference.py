"""Reference implementations, in float64 torch tensors, of the optimizers that torch 1.13 lacks.

Used by tools/make_optim_fixtures.py to produce tests/fixtures/optim_trajectories.json. Every
class here is written from the published formulas (and, where the authors published code, checked
against that code's update order); none of it is copied from anywhere. The classes mimic the small
part of the torch.optim.Optimizer interface the fixture driver needs: they are built from a list
of parameter groups (dicts holding "params" plus options), read p.grad, and update the parameters
in place in step().

    SGDW       Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019.
    AdaBound   Luo, Xiong, Liu, Sun, "Adaptive Gradient Methods with Dynamic Bound of Learning
               Rate", ICLR 2019; authors' code https://github.com/Luolc/AdaBound (adabound.py).
    SWATS      Keskar & Socher, "Improving Generalization Performance by Switching from Adam to
               SGD", arXiv:1712.07628 (2017), Algorithm 1.
    Lookahead  Zhang, Lucas, Hinton, Ba, "Lookahead Optimizer: k steps forward, 1 step back",
               NeurIPS 2019; authors' code https://github.com/michaelrzhang/lookahead.
    NAdamDoc   NAdam exactly as the torch 1.13 documentation writes it (Dozat, "Incorporating
               Nesterov Momentum into Adam", ICLR 2016 workshop, with torch's momentum-decay
               schedule), used to check torch's foreach implementation.
    gradient_noise_sigma   Neelakantan et al., "Adding Gradient Noise Improves Learning for Very
               Deep Networks", arXiv:1511.06807 (2015).
"""

import math

import torch


def _group_options(groups, defaults):
    """Copies each group's options, filling in the defaults, and checks for unknown names."""
    out = []
    for g in groups:
        unknown = set(g) - set(defaults) - {"params"}
        if unknown:
            raise ValueError(f"unknown options {sorted(unknown)}")
        opts = dict(defaults)
        opts.update({k: v for k, v in g.items() if k != "params"})
        opts["params"] = list(g["params"])
        out.append(opts)
    return out


class SGDW:
    """SGD with decoupled weight decay.

    Per step, for every parameter θ with gradient g (the plain gradient: no L2 term is added):

        θ ← θ·(1 − lr·wd)                 decay first, from the current weights
        then exactly torch.optim.SGD's step with weight_decay = 0:
        b ← g                             on the first step
        b ← momentum·b + (1 − dampening)·g  afterwards
        d ← g + momentum·b  (nesterov)   or  d ← b  (momentum > 0)   or  d ← g
        θ ← θ − lr·d

    The paper (Algorithm 1, "SGDW") scales the decay by the schedule multiplier η_t alone
    (θ ← θ − η_t·λ·θ); here, as in torch's AdamW, the decay is scaled by the learning rate, so
    a weight_decay value means the same thing for SGDW and AdamW. With a constant learning rate
    the two differ only by the constant factor lr folded into wd.
    """

    defaults = dict(lr=None, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False)

    def __init__(self, groups):
        self.param_groups = _group_options(groups, self.defaults)
        for g in self.param_groups:
            if g["nesterov"] and (g["momentum"] <= 0 or g["dampening"] != 0):
                raise ValueError("nesterov needs momentum > 0 and dampening = 0")
        self.state = {}

    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            lr, mom, damp, wd = g["lr"], g["momentum"], g["dampening"], g["weight_decay"]
            for p in g["params"]:
                grad = p.grad
                if wd != 0:
                    p.mul_(1 - lr * wd)
                d = grad
                if mom != 0:
                    st = self.state.setdefault(id(p), {})
                    if "momentum_buffer" not in st:
                        st["momentum_buffer"] = grad.clone()
                    else:
                        st["momentum_buffer"].mul_(mom).add_(grad, alpha=1 - damp)
                    buf = st["momentum_buffer"]
                    d = grad.add(buf, alpha=mom) if g["nesterov"] else buf
                p.add_(d, alpha=-lr)


class AdaBound:
    """AdaBound / AMSBound, following the update order of the authors' adabound.py.

    Per parameter, step t = 1, 2, ... (weight decay is an L2 term added to the gradient):

        g ← g + wd·θ
        m ← β1·m + (1 − β1)·g
        v ← β2·v + (1 − β2)·g²
        v̄ ← max(v̄, v)   (amsbound; v̄ replaces v below)
        denom     = √v + eps
        step_size = lr·√(1 − β2ᵗ) / (1 − β1ᵗ)
        final     = final_lr·lr / base_lr      (base_lr = the group's lr at construction, so a
                                                 schedule on lr moves the bounds too)
        lower     = final·(1 − 1/(γ·t + 1))
        upper     = final·(1 + 1/(γ·t))
        θ ← θ − clamp(step_size / denom, lower, upper) ⊙ m      (clamp elementwise)
    """

    defaults = dict(lr=1e-3, betas=(0.9, 0.999), final_lr=0.1, gamma=1e-3, eps=1e-8,
                    weight_decay=0.0, amsbound=False)

    def __init__(self, groups):
        self.param_groups = _group_options(groups, self.defaults)
        self.base_lrs = [g["lr"] for g in self.param_groups]
        self.state = {}

    @torch.no_grad()
    def step(self):
        for g, base_lr in zip(self.param_groups, self.base_lrs):
            beta1, beta2 = g["betas"]
            for p in g["params"]:
                grad = p.grad
                st = self.state.setdefault(id(p), {})
                if not st:
                    st["step"] = 0
                    st["exp_avg"] = torch.zeros_like(p)
                    st["exp_avg_sq"] = torch.zeros_like(p)
                    if g["amsbound"]:
                        st["max_exp_avg_sq"] = torch.zeros_like(p)
                st["step"] += 1
                t = st["step"]
                if g["weight_decay"] != 0:
                    grad = grad.add(p, alpha=g["weight_decay"])
                m, v = st["exp_avg"], st["exp_avg_sq"]
                m.mul_(beta1).add_(grad, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                if g["amsbound"]:
                    torch.maximum(st["max_exp_avg_sq"], v, out=st["max_exp_avg_sq"])
                    denom = st["max_exp_avg_sq"].sqrt().add_(g["eps"])
                else:
                    denom = v.sqrt().add_(g["eps"])
                step_size = g["lr"] * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
                final_lr = g["final_lr"] * g["lr"] / base_lr
                lower = final_lr * (1 - 1 / (g["gamma"] * t + 1))
                upper = final_lr * (1 + 1 / (g["gamma"] * t))
                eta = torch.full_like(denom, step_size).div_(denom).clamp_(lower, upper)
                p.sub_(eta.mul_(m))


class SWATS:
    """SWATS: Adam that switches once, for the whole model, to SGD with momentum.

    Keskar & Socher (2017), Algorithm 1, with one phase for all parameters together. Step
    k = 1, 2, ...; g is the gradient plus the L2 term wd·θ (the paper has no weight decay; the
    L2 form matches torch's Adam). While in the Adam phase, per parameter:

        m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
        p = −lr·√(1 − β2ᵏ)/(1 − β1ᵏ) · m / (√v + eps)          (eps outside the square root)
        θ ← θ + p

    then, with the dot products taken over all parameters of all groups concatenated:

        if pᵀg ≠ 0:
            γ_k = pᵀp / (−pᵀg)
            λ ← β2·λ + (1 − β2)·γ_k
            if k > 1 and |λ/(1 − β2ᵏ) − γ_k| < eps_switch:
                switch to SGD from step k + 1 on, with Λ = λ/(1 − β2ᵏ) and v_sgd = 0
        (if pᵀg = 0, λ is left unchanged and no switch is tested)

    In the SGD phase: v_sgd ← β1·v_sgd + g,  θ ← θ − (1 − β1)·Λ·v_sgd, with the single Λ for
    every parameter (Λ was estimated from the actual, per-group-lr Adam steps, so it already
    reflects them; the groups' lr no longer matter after the switch).

    betas and eps_switch must be the same in every group (there is one phase and one λ).
    switch_step (the k at which the test fired, None if never), Lambda and the criterion values
    |λ/(1 − β2ᵏ) − γ_k| of every tested step are kept for the fixture.
    """

    defaults = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-9, weight_decay=0.0, eps_switch=1e-9)

    def __init__(self, groups):
        self.param_groups = _group_options(groups, self.defaults)
        first = self.param_groups[0]
        for g in self.param_groups:
            if tuple(g["betas"]) != tuple(first["betas"]) or g["eps_switch"] != first["eps_switch"]:
                raise ValueError("SWATS: betas and eps_switch must agree across groups")
        self.state = {}
        self.k = 0
        self.lam = 0.0
        self.phase = "adam"
        self.switch_step = None
        self.Lambda = None
        self.criteria = []  # (k, |λ/(1−β2ᵏ) − γ_k|) for every step where the test was made

    @torch.no_grad()
    def step(self):
        self.k += 1
        k = self.k
        beta1, beta2 = self.param_groups[0]["betas"]
        grads = {}
        for g in self.param_groups:
            for p in g["params"]:
                grad = p.grad
                if g["weight_decay"] != 0:
                    grad = grad.add(p, alpha=g["weight_decay"])
                grads[id(p)] = grad

        if self.phase == "sgd":
            for g in self.param_groups:
                for p in g["params"]:
                    buf = self.state[id(p)]["v_sgd"]
                    buf.mul_(beta1).add_(grads[id(p)])
                    p.add_(buf, alpha=-(1 - beta1) * self.Lambda)
            return

        ptp = 0.0
        ptg = 0.0
        for g in self.param_groups:
            scale = -g["lr"] * math.sqrt(1 - beta2 ** k) / (1 - beta1 ** k)
            for p in g["params"]:
                grad = grads[id(p)]
                st = self.state.setdefault(id(p), {})
                if not st:
                    st["exp_avg"] = torch.zeros_like(p)
                    st["exp_avg_sq"] = torch.zeros_like(p)
                m, v = st["exp_avg"], st["exp_avg_sq"]
                m.mul_(beta1).add_(grad, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                step = m.div(v.sqrt().add_(g["eps"])).mul_(scale)
                p.add_(step)
                ptp += float(torch.dot(step.reshape(-1), step.reshape(-1)))
                ptg += float(torch.dot(step.reshape(-1), grad.reshape(-1)))

        if ptg != 0.0:
            gamma = ptp / -ptg
            self.lam = beta2 * self.lam + (1 - beta2) * gamma
            corrected = self.lam / (1 - beta2 ** k)
            if k > 1:
                crit = abs(corrected - gamma)
                self.criteria.append((k, crit))
                if crit < self.param_groups[0]["eps_switch"]:
                    self.phase = "sgd"
                    self.switch_step = k
                    self.Lambda = corrected
                    for g in self.param_groups:
                        for p in g["params"]:
                            self.state[id(p)]["v_sgd"] = torch.zeros_like(p)


class Lookahead:
    """Lookahead around any optimizer with param_groups and step().

    The slow weights are a copy of the parameters taken at construction. After every k-th inner
    step:  slow ← slow + α·(fast − slow),  fast ← slow  (the inner optimizer's state, e.g. its
    momentum buffers, is left alone: the authors' pullback_momentum="none"). The authors'
    lookahead_pytorch.py writes the same interpolation as fast·α + slow·(1 − α); the two forms
    agree up to rounding.
    """

    def __init__(self, inner, k=5, alpha=0.5):
        self.inner = inner
        self.k = k
        self.alpha = alpha
        self.counter = 0
        self.slow = {id(p): p.detach().clone() for g in inner.param_groups for p in g["params"]}

    @property
    def param_groups(self):
        return self.inner.param_groups

    @torch.no_grad()
    def step(self):
        self.inner.step()
        self.counter += 1
        if self.counter >= self.k:
            self.counter = 0
            for g in self.inner.param_groups:
                for p in g["params"]:
                    slow = self.slow[id(p)]
                    slow.add_(p - slow, alpha=self.alpha)
                    p.copy_(slow)


class NAdamDoc:
    """NAdam as the torch 1.13 documentation of torch.optim.NAdam writes it.

    Step t = 1, 2, ...; ψ = momentum_decay; P_t = ∏_{i=1..t} μ_i (P_0 = 1):

        g ← g + wd·θ
        μ_t = β1·(1 − ½·0.96^(t·ψ)),   μ_{t+1} = β1·(1 − ½·0.96^((t+1)·ψ))
        m ← β1·m + (1 − β1)·g,         v ← β2·v + (1 − β2)·g²
        m̂ = μ_{t+1}·m / (1 − P_t·μ_{t+1}) + (1 − μ_t)·g / (1 − P_t)
        v̂ = v / (1 − β2ᵗ)
        θ ← θ − lr·m̂ / (√v̂ + eps)

    The product in the first denominator is ∏_{i=1..t+1} μ_i = P_t·μ_{t+1}. (torch 1.13's
    single-tensor path uses P_t·μ_t·μ_{t+1} there, one μ_t too many; its foreach path uses
    P_t·μ_{t+1}, as documented.) √v̂ is evaluated as √v / √(1 − β2ᵗ), the same value.
    """

    defaults = dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                    momentum_decay=4e-3)

    def __init__(self, groups):
        self.param_groups = _group_options(groups, self.defaults)
        self.state = {}

    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            beta1, beta2 = g["betas"]
            psi = g["momentum_decay"]
            for p in g["params"]:
                grad = p.grad
                st = self.state.setdefault(id(p), {})
                if not st:
                    st["step"] = 0
                    st["mu_product"] = 1.0
                    st["exp_avg"] = torch.zeros_like(p)
                    st["exp_avg_sq"] = torch.zeros_like(p)
                st["step"] += 1
                t = st["step"]
                if g["weight_decay"] != 0:
                    grad = grad.add(p, alpha=g["weight_decay"])
                mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))
                mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
                st["mu_product"] *= mu
                prod = st["mu_product"]
                m, v = st["exp_avg"], st["exp_avg_sq"]
                m.mul_(beta1).add_(grad, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = v.sqrt().div_(math.sqrt(1 - beta2 ** t)).add_(g["eps"])
                p.addcdiv_(grad, denom, value=-g["lr"] * (1 - mu) / (1 - prod))
                p.addcdiv_(m, denom, value=-g["lr"] * mu_next / (1 - prod * mu_next))


def gradient_noise_sigma(eta, t, gamma=0.55):
    """Standard deviation of the annealed Gaussian gradient noise at step t (t = 0, 1, ...).

    Neelakantan et al. (2015), section 2: g_t ← g_t + N(0, σ_t²) with σ_t² = η / (1 + t)^γ,
    η ∈ {0.01, 0.3, 1.0} and γ = 0.55 in the paper.
    """
    return math.sqrt(eta / (1 + t) ** gamma)
