#!/usr/bin/python3
"""PyTorch reference fixtures for descent's losses, as one safetensors file.

Writes tests/fixtures/nn/losses.safetensors (float64, torch CPU, seeded, one thread; two runs
write byte-identical files). For each case <c>:

  "<c>.input"        the logits (cross_entropy, binary_cross_entropy_with_logits), the
                     log-probabilities (nll_loss) or the probabilities (binary_cross_entropy)
  "<c>.target"       int64 class indices, or floating targets of the input's shape
  "<c>.weight"       class weights [C] or BCE weights (when the case has them)
  "<c>.pos_weight"   BCE pos_weight (when the case has it)
  "<c>.loss"         the loss, reduced as the case says
  "<c>.out_weight"   for reduction "none": a fixed random R of the loss's shape
  "<c>.grad.input"   d L / d input, with L the loss (mean, sum) or sum(loss * R) (none)
  "<c>.grad.target"  d L / d target, for floating targets (weights are constants, as in torch)
The metadata maps each case name to a JSON object: {"loss": ..., "reduction": ...,
"ignore_index": ..., "label_smoothing": ...} (the last two for the class losses), and "grad" false
where the gradients are not stored (binary_cross_entropy with inputs exactly 0 or 1, where torch's
backward reports (x − y)/1e-12 rather than the derivative of the clamped loss).

Cases: ranks 1 to 4 ([C], [N,C], [N,C,L], [N,C,H,W]), every reduction, with and without class
weights, ignore_index hitting some targets (and, in the "allignored" cases, all of them; and one
family with ignore_index = 1, a valid class), label smoothing 0, 0.1, 0.3; probability targets
with smoothing and weights; empty batches; pos_weight of shape [C], [1], [] and [d, 1]; BCE
weights of the input's shape and broadcast ones. Logits reach ±30.

The semantics checked here (weighted mean Σ w_y·l / Σ w_y; smoothing with weights and
ignore_index; probability targets' mean over positions; NaN for a mean over nothing) are the same
in torch 1.13 (the interpreter here) and torch 2.x's aten/src/ATen/native/LossNLL.cpp.

Rerun from the repository root with the system interpreter:

    /usr/bin/python3 tools/make_loss_fixtures.py
"""

import json
import sys
from collections import OrderedDict
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_nn_fixtures import OUT, from_safetensors, to_safetensors  # noqa: E402

D = torch.float64
IGNORE = -100

# [C] / [N,C] / [N,C,L] / [N,C,H,W] and the class-index target shapes that go with them
SHAPES = {
    "r1": (5,),
    "r2": (6, 5),
    "r3": (3, 4, 5),
    "r4": (2, 3, 2, 3),
}


def logits_of(shape, gen):
    """Normal logits ×8 with a few set to ±30 (softmax's stability)."""
    x = torch.randn(shape, generator=gen, dtype=D) * 8
    flat = x.view(-1)
    flat[0] = 30.0
    if flat.numel() > 3:
        flat[3] = -30.0
    return x


def class_target(shape, classes, gen, ignore_fraction, ignore_index=IGNORE):
    t = torch.randint(0, classes, target_shape(shape), generator=gen)
    if ignore_fraction > 0 and t.numel() > 1:
        hit = torch.rand(t.shape, generator=gen) < ignore_fraction
        hit.view(-1)[1] = True  # at least one
        t = torch.where(hit, torch.full_like(t, ignore_index), t)
    return t


def target_shape(shape):
    return () if len(shape) == 1 else (shape[0],) + tuple(shape[2:])


def class_weight(classes, gen):
    return torch.rand(classes, generator=gen, dtype=D) * 2 + 0.1


class Cases:
    def __init__(self):
        self.tensors = OrderedDict()
        self.metadata = {}
        self.gen = torch.Generator().manual_seed(20240611)

    def add(self, name, meta, fn, inputs, target, extra=None, grad=True):
        """Runs fn(input, target, **extra) and stores the inputs, the loss and its gradients."""
        extra = extra or {}
        assert name not in self.metadata, name
        x = inputs.clone().requires_grad_(grad)
        floating_target = target.is_floating_point()
        y = target.clone().requires_grad_(grad and floating_target)
        kw = {k: v.clone() for k, v in extra.items()}  # constants, as in torch
        loss = fn(x, y, **kw)
        s = self.tensors
        s[f"{name}.input"] = inputs
        s[f"{name}.target"] = target
        for k, v in extra.items():
            s[f"{name}.{k}"] = v
        s[f"{name}.loss"] = loss.detach()
        if grad:
            if meta["reduction"] == "none":
                r = torch.rand(loss.shape, generator=self.gen, dtype=D) * 2 - 0.5
                s[f"{name}.out_weight"] = r
                total = (loss * r).sum()
            else:
                total = loss
            wrt = [x] + ([y] if floating_target else [])
            names = ["input"] + (["target"] if floating_target else [])
            grads = torch.autograd.grad(total, wrt, allow_unused=True)
            for n, g in zip(names, grads):
                s[f"{name}.grad.{n}"] = torch.zeros_like(inputs) if g is None else g
        meta = dict(meta, grad=grad)
        self.metadata[name] = json.dumps(meta, sort_keys=True)


def cross_entropy_cases(c):
    for rank, shape in SHAPES.items():
        classes = shape[0] if rank == "r1" else shape[1]
        for red in ("mean", "sum", "none"):
            for weighted in (False, True):
                for eps in (0.0, 0.1, 0.3):
                    x = logits_of(shape, c.gen)
                    t = class_target(shape, classes, c.gen, 0.0 if rank == "r1" else 0.25)
                    extra = {"weight": class_weight(classes, c.gen)} if weighted else {}
                    name = f"ce_{rank}_{red}_{'w' if weighted else 'nw'}_ls{eps}"
                    meta = {"loss": "cross_entropy", "reduction": red, "ignore_index": IGNORE,
                            "label_smoothing": eps}
                    c.add(name, meta, lambda a, b, **k: F.cross_entropy(
                        a, b, ignore_index=IGNORE, label_smoothing=eps, reduction=red, **k),
                        x, t, extra)
    # ignore_index = 1, a valid class: targets 1 are ignored
    for red in ("mean", "none"):
        shape = SHAPES["r3"]
        x = logits_of(shape, c.gen)
        t = class_target(shape, shape[1], c.gen, 0.0)
        w = {"weight": class_weight(shape[1], c.gen)}
        meta = {"loss": "cross_entropy", "reduction": red, "ignore_index": 1, "label_smoothing": 0.1}
        c.add(f"ce_ignore1_{red}", meta, lambda a, b, **k: F.cross_entropy(
            a, b, ignore_index=1, label_smoothing=0.1, reduction=red, **k), x, t, w)
    # every target ignored (NaN for mean, 0 for sum), and a rank-1 ignored target
    for red in ("mean", "sum", "none"):
        for weighted, eps in ((False, 0.0), (True, 0.0), (True, 0.3)):
            shape = SHAPES["r2"]
            x = logits_of(shape, c.gen)
            t = torch.full(target_shape(shape), IGNORE)
            extra = {"weight": class_weight(shape[1], c.gen)} if weighted else {}
            meta = {"loss": "cross_entropy", "reduction": red, "ignore_index": IGNORE,
                    "label_smoothing": eps}
            c.add(f"ce_allignored_{red}_{'w' if weighted else 'nw'}_ls{eps}", meta,
                  lambda a, b, **k: F.cross_entropy(a, b, label_smoothing=eps, reduction=red, **k),
                  x, t, extra)
    for red in ("mean", "none"):
        x = logits_of(SHAPES["r1"], c.gen)
        meta = {"loss": "cross_entropy", "reduction": red, "ignore_index": IGNORE,
                "label_smoothing": 0.1}
        c.add(f"ce_r1_ignored_{red}", meta, lambda a, b: F.cross_entropy(
            a, b, label_smoothing=0.1, reduction=red), x, torch.tensor(IGNORE))
    # empty batches: [0, C] and [0, C, L]
    for shape in ((0, 5), (0, 3, 4)):
        for red in ("mean", "sum", "none"):
            x = torch.zeros(shape, dtype=D)
            t = torch.zeros(target_shape(shape), dtype=torch.int64)
            meta = {"loss": "cross_entropy", "reduction": red, "ignore_index": IGNORE,
                    "label_smoothing": 0.0}
            c.add(f"ce_empty{len(shape)}_{red}", meta,
                  lambda a, b: F.cross_entropy(a, b, reduction=red), x, t)


def probability_cases(c):
    shapes = {"r1": (5,), "r2": (6, 5), "r3": (2, 4, 3), "r4": (2, 3, 2, 2)}
    for rank, shape in shapes.items():
        cd = 0 if rank == "r1" else 1
        classes = shape[cd]
        for red in ("mean", "sum", "none"):
            for weighted in (False, True):
                for eps in (0.0, 0.3):
                    x = logits_of(shape, c.gen)
                    p = torch.softmax(torch.randn(shape, generator=c.gen, dtype=D) * 2, cd)
                    extra = {"weight": class_weight(classes, c.gen)} if weighted else {}
                    meta = {"loss": "cross_entropy", "reduction": red, "ignore_index": IGNORE,
                            "label_smoothing": eps}
                    c.add(f"ceprob_{rank}_{red}_{'w' if weighted else 'nw'}_ls{eps}", meta,
                          lambda a, b, **k: F.cross_entropy(
                              a, b, label_smoothing=eps, reduction=red, **k), x, p, extra)
    for red in ("mean", "sum"):
        x = torch.zeros((0, 4), dtype=D)
        meta = {"loss": "cross_entropy", "reduction": red, "ignore_index": IGNORE,
                "label_smoothing": 0.0}
        c.add(f"ceprob_empty_{red}", meta, lambda a, b: F.cross_entropy(a, b, reduction=red),
              x, torch.zeros((0, 4), dtype=D))


def nll_cases(c):
    for rank, shape in SHAPES.items():
        classes = shape[0] if rank == "r1" else shape[1]
        cd = 0 if rank == "r1" else 1
        for red in ("mean", "sum", "none"):
            for weighted in (False, True):
                lp = torch.log_softmax(logits_of(shape, c.gen), cd)
                t = class_target(shape, classes, c.gen, 0.0 if rank == "r1" else 0.25)
                extra = {"weight": class_weight(classes, c.gen)} if weighted else {}
                meta = {"loss": "nll_loss", "reduction": red, "ignore_index": IGNORE,
                        "label_smoothing": 0.0}
                c.add(f"nll_{rank}_{red}_{'w' if weighted else 'nw'}", meta,
                      lambda a, b, **k: F.nll_loss(a, b, reduction=red, **k), lp, t, extra)
    for red in ("mean", "sum"):
        shape = SHAPES["r3"]
        lp = torch.log_softmax(logits_of(shape, c.gen), 1)
        meta = {"loss": "nll_loss", "reduction": red, "ignore_index": IGNORE,
                "label_smoothing": 0.0}
        c.add(f"nll_allignored_{red}", meta, lambda a, b: F.nll_loss(a, b, reduction=red), lp,
              torch.full(target_shape(shape), IGNORE))


def bce_with_logits_cases(c):
    shapes = {"r1": (7,), "r2": (4, 5), "r3": (2, 3, 4), "r4": (2, 2, 2, 3)}
    for rank, shape in shapes.items():
        last = shape[-1]
        variants = {
            "plain": {},
            "wfull": {"weight": torch.rand(shape, generator=c.gen, dtype=D) * 2},
            "wlast": {"weight": torch.rand(last, generator=c.gen, dtype=D) * 2},
            "pwlast": {"pos_weight": torch.rand(last, generator=c.gen, dtype=D) * 3},
            "pwone": {"pos_weight": torch.rand(1, generator=c.gen, dtype=D) * 3},
            "both": {"weight": torch.rand(last, generator=c.gen, dtype=D) * 2,
                     "pos_weight": torch.rand(last, generator=c.gen, dtype=D) * 3},
        }
        if len(shape) >= 2:
            variants["pwcol"] = {"pos_weight": torch.rand((shape[-2], 1), generator=c.gen,
                                                          dtype=D) * 3}
        if rank == "r2":
            variants["pwscalar"] = {"pos_weight": torch.tensor(2.5, dtype=D)}
        for red in ("mean", "sum", "none"):
            for vname, extra in variants.items():
                if rank != "r2" and vname not in ("plain", "both", "pwcol"):
                    continue  # every variant at rank 2; the broadcasting ones at the others
                x = logits_of(shape, c.gen)
                y = torch.rand(shape, generator=c.gen, dtype=D)
                y.view(-1)[0] = 1.0  # the +30 logit with a certain positive
                meta = {"loss": "bce_with_logits", "reduction": red}
                c.add(f"bcel_{rank}_{red}_{vname}", meta,
                      lambda a, b, **k: F.binary_cross_entropy_with_logits(a, b, reduction=red, **k),
                      x, y, extra)


def bce_cases(c):
    shapes = {"r1": (7,), "r2": (4, 5), "r3": (2, 3, 4)}
    for rank, shape in shapes.items():
        for red in ("mean", "sum", "none"):
            variants = {
                "plain": {},
                "wfull": {"weight": torch.rand(shape, generator=c.gen, dtype=D) * 2},
                "wlast": {"weight": torch.rand(shape[-1], generator=c.gen, dtype=D) * 2},
            }
            for vname, extra in variants.items():
                x = torch.rand(shape, generator=c.gen, dtype=D) * 0.98 + 0.01
                y = torch.rand(shape, generator=c.gen, dtype=D)
                meta = {"loss": "bce", "reduction": red}
                c.add(f"bce_{rank}_{red}_{vname}", meta,
                      lambda a, b, **k: F.binary_cross_entropy(a, b, reduction=red, **k),
                      x, y, extra)
    # inputs exactly 0 and 1: the logs clamp at -100 (values only)
    x = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.5], dtype=D)
    y = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.25], dtype=D)
    for red in ("none", "sum"):
        c.add(f"bce_edges_{red}", {"loss": "bce", "reduction": red},
              lambda a, b: F.binary_cross_entropy(a, b, reduction=red), x, y, grad=False)


def generate():
    torch.set_num_threads(1)
    c = Cases()
    cross_entropy_cases(c)
    probability_cases(c)
    nll_cases(c)
    bce_with_logits_cases(c)
    bce_cases(c)
    raw = to_safetensors(c.tensors, c.metadata)
    back, back_metadata = from_safetensors(raw, "losses.safetensors")
    assert list(back) == list(c.tensors) and back_metadata == c.metadata
    path = OUT / "losses.safetensors"
    path.write_bytes(raw)
    print(f"wrote {path} ({len(raw)} bytes, {len(c.tensors)} tensors, {len(c.metadata)} cases)")


if __name__ == "__main__":
    generate()
