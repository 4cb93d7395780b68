#!/usr/bin/python3
"""PyTorch reference fixtures for descent's attention layers, as one safetensors file.

Writes tests/fixtures/nn/attention.safetensors (float64, fixed seeds, one thread; two runs write
byte-identical files). For each case below:

  "<case>.state.<key>"    the module's state_dict (torch's names), parameters drawn at random so
                          that biases and norms are away from their initial 0 and 1
  "<case>.in.<name>"      the differentiable inputs (query, key, value, or src)
  "<case>.mask.<name>"    a bool mask, stored as I64 0/1 (safetensors has no bool here)
  "<case>.fmask.<name>"   a float mask (added to the scores; may hold -inf)
  "<case>.out.<name>"     the outputs: "output", and "weights" when the case returns them
  "<case>.w.<name>"       fixed random weights W of each output's shape
  "<case>.grad.<key>"     d L / d parameter, L = sum over the outputs of sum(out * W)
  "<case>.grad.in.<name>" d L / d input
  "<case>.gg.<name>"      second order (cases named "*_second" only): with g = d L / d query
                          taken with create_graph, d ||g||^2 / d input (and / d parameter)

The metadata maps each case to the call it records. Dropout is 0 throughout.

The installed torch is 1.13 (Debian 12's python3-torch), which has MultiheadAttention and
TransformerEncoderLayer but neither torch.nn.functional.scaled_dot_product_attention nor the
`is_causal` arguments and `bias=False` of the 2.x transformer layers. So:
  * sdpa_* cases come from sdpa_reference below: torch 2.x semantics (bool mask: true = may
    attend; float mask added; is_causal = the top-left lower triangle; scale 1/sqrt(E) by
    default; a row whose scores are all -inf gives 0, as the torch >= 2.5 math backend's safe
    softmax), written out with torch's differentiable ops;
  * causal cases give the explicit causal mask to torch (2.x's is_causal is a hint that the mask
    is causal; the descent test passes both);
  * the bias=False encoder layer is a 1.13 layer whose biases are all zero (a layer without
    biases), its bias entries left out of the state and gradients.
No case has a fully masked row through MultiheadAttention (torch 1.13 gives NaN there).

Rerun from the repository root with the system interpreter:

    /usr/bin/python3 tools/make_attention_fixtures.py
"""

import math
import sys
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_nn_fixtures import OUT, write  # noqa: E402  (the shared safetensors writer)

F64 = torch.float64
NEG_INF = float("-inf")


def sdpa_reference(q, k, v, attn_mask=None, is_causal=False, scale=None):
    """softmax(q kᵀ·scale + mask) v with torch 2.x's mask rules, as documented above."""
    length, source = q.shape[-2], k.shape[-2]
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = torch.matmul(q, k.transpose(-2, -1)) * scale
    if is_causal:
        allowed = torch.ones(length, source, dtype=torch.bool).tril()
        scores = scores.masked_fill(~allowed, NEG_INF)
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attn_mask, NEG_INF)
        else:
            scores = scores + attn_mask
    dead = (scores == NEG_INF).all(-1, keepdim=True)  # rows that may attend nowhere
    weights = torch.softmax(scores.masked_fill(dead, 0.0), -1).masked_fill(dead, 0.0)
    return torch.matmul(weights, v)


class Case:
    """One recorded call: inputs, masks, and a function of them returning the outputs."""

    def __init__(self, name, text, module, inputs, masks, run):
        self.name, self.text, self.module = name, text, module
        self.inputs, self.masks, self.run = inputs, masks, run


def randn(gen, *shape, scale=1.0):
    return torch.randn(*shape, generator=gen, dtype=F64) * scale


def randomize(module, gen):
    """Every parameter drawn anew: weights N(0, 0.4²), norm weights 1 + N(0, 0.2²)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if "norm" in name and name.endswith("weight"):
                p.copy_(1.0 + randn(gen, *p.shape, scale=0.2))
            else:
                p.copy_(randn(gen, *p.shape, scale=0.4))
    return module


def bool_mask(gen, *shape, keep_rows=True):
    """A random bool mask (true = masked for MHA); every last-dim row keeps one false entry."""
    m = torch.rand(*shape, generator=gen, dtype=F64) < 0.35
    if keep_rows:
        m[..., 0] = False
    return m


def causal_bool(length, source, allowed_true=False):
    upper = torch.ones(length, source, dtype=torch.bool).triu(1)
    return ~upper if allowed_true else upper


def float_mask(gen, *shape):
    m = randn(gen, *shape, scale=0.5)
    m[torch.rand(*shape, generator=gen, dtype=F64) < 0.25] = NEG_INF
    m[..., 0] = 0.3  # every row keeps a finite entry
    return m


def sdpa_cases(gen):
    cases = []

    def add(name, text, shapes, mask=None, **kw):
        inputs = OrderedDict((n, randn(gen, *s)) for n, s in zip(("query", "key", "value"), shapes))
        masks = OrderedDict() if mask is None else OrderedDict(attn_mask=mask)
        run = lambda i, m: OrderedDict(  # noqa: E731
            output=sdpa_reference(i["query"], i["key"], i["value"], m.get("attn_mask"), **kw))
        cases.append(Case(name, text, None, inputs, masks, run))

    add("sdpa_plain", "q [2,3,4,5], k [2,3,6,5], v [2,3,6,7]", [(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)])
    dead_row = torch.rand(4, 6, generator=gen) < 0.6
    dead_row[:, 1] = True
    dead_row[2, :] = False  # row 2 may attend nowhere: its output is 0
    add("sdpa_bool_mask", "bool mask [4,6] (true = may attend, row 2 fully masked), scale=0.7",
        [(2, 4, 5), (2, 6, 5), (2, 6, 3)], dead_row, scale=0.7)
    add("sdpa_float_mask", "float mask [3,1,6] broadcast over q [2,3,4,5]",
        [(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 4)], float_mask(gen, 3, 1, 6))
    add("sdpa_causal", "is_causal, L=4 < S=6 (top-left triangle)",
        [(3, 4, 5), (3, 6, 5), (3, 6, 2)], None, is_causal=True)
    add("sdpa_causal_tall", "is_causal, L=5 > S=3, scale=0.25", [(5, 4), (3, 4), (3, 6)], None,
        is_causal=True, scale=0.25)
    add("sdpa_broadcast", "q [2,1,4,5], k [3,6,5], v [3,6,4]: batch dims broadcast",
        [(2, 1, 4, 5), (3, 6, 5), (3, 6, 4)])
    add("sdpa_second", "float mask [4,6]; second order d||dL/dq||^2",
        [(2, 4, 5), (2, 6, 5), (2, 6, 3)], float_mask(gen, 4, 6))
    add("sdpa_causal_second", "is_causal, L=S=5; second order", [(2, 5, 3), (2, 5, 3), (2, 5, 4)],
        None, is_causal=True)
    return cases


def mha_case(gen, name, text, module, shapes, masks=None, same_input=False, **call):
    randomize(module.double(), gen)
    if same_input:
        inputs = OrderedDict(query=randn(gen, *shapes[0]))
    else:
        inputs = OrderedDict((n, randn(gen, *s)) for n, s in zip(("query", "key", "value"), shapes))
    masks = OrderedDict(masks or {})

    def run(i, m):
        q = i["query"]
        k, v = (q, q) if same_input else (i["key"], i["value"])
        out, weights = module(q, k, v, key_padding_mask=m.get("key_padding_mask"),
                              attn_mask=m.get("attn_mask"), **call)
        result = OrderedDict(output=out)
        if weights is not None:
            result["weights"] = weights
        return result

    return Case(name, text, module, inputs, masks, run)


def mha_cases(gen):
    MHA = nn.MultiheadAttention
    L, S, N = 4, 5, 3
    return [
        mha_case(gen, "mha_cross", "MultiheadAttention(6, 2); q [4,3,6], k/v [5,3,6]",
                 MHA(6, 2), [(L, N, 6), (S, N, 6), (S, N, 6)]),
        mha_case(gen, "mha_self_batch_first",
                 "MultiheadAttention(8, 4, batch_first=True); x [2,5,8] as q, k and v; "
                 "average_attn_weights=False", MHA(8, 4, batch_first=True), [(2, 5, 8)],
                 same_input=True, average_attn_weights=False),
        mha_case(gen, "mha_unbatched",
                 "MultiheadAttention(6, 3); unbatched q [4,6], k/v [5,6]; bool attn_mask [4,5], "
                 "key_padding_mask [5]", MHA(6, 3), [(L, 6), (S, 6), (S, 6)],
                 {"attn_mask": bool_mask(gen, L, S), "key_padding_mask": torch.tensor(
                     [False, True, False, False, True])}),
        mha_case(gen, "mha_kvdim_nobias",
                 "MultiheadAttention(8, 2, bias=False, kdim=5, vdim=3); bool key_padding_mask",
                 MHA(8, 2, bias=False, kdim=5, vdim=3), [(L, N, 8), (S, N, 5), (S, N, 3)],
                 {"key_padding_mask": bool_mask(gen, N, S)}),
        mha_case(gen, "mha_bias_kv_zero_attn",
                 "MultiheadAttention(6, 2, add_bias_kv=True, add_zero_attn=True); float "
                 "attn_mask [4,5], bool key_padding_mask", MHA(6, 2, add_bias_kv=True,
                                                                add_zero_attn=True),
                 [(L, N, 6), (S, N, 6), (S, N, 6)],
                 {"attn_mask": float_mask(gen, L, S), "key_padding_mask": bool_mask(gen, N, S)}),
        mha_case(gen, "mha_causal",
                 "MultiheadAttention(8, 2, batch_first=True); x [3,5,8]; causal bool attn_mask "
                 "(descent: is_causal=True too); need_weights=False",
                 MHA(8, 2, batch_first=True), [(3, 5, 8)], {"attn_mask": causal_bool(5, 5)},
                 same_input=True, need_weights=False),
        mha_case(gen, "mha_mask3d",
                 "MultiheadAttention(6, 2); float attn_mask [N*heads,4,5] = [6,4,5]; "
                 "need_weights=False", MHA(6, 2), [(L, 3, 6), (S, 3, 6), (S, 3, 6)],
                 {"attn_mask": float_mask(gen, 3 * 2, L, S)}, need_weights=False),
        mha_case(gen, "mha_float_kpm",
                 "MultiheadAttention(4, 1, kdim=3, vdim=3); float key_padding_mask [2,5]",
                 MHA(4, 1, kdim=3, vdim=3), [(L, 2, 4), (S, 2, 3), (S, 2, 3)],
                 {"key_padding_mask": float_mask(gen, 2, S)}),
        mha_case(gen, "mha_unbatched_mask3d",
                 "MultiheadAttention(6, 2, batch_first=True); unbatched; bool attn_mask [2,4,5]; "
                 "average_attn_weights=False", MHA(6, 2, batch_first=True),
                 [(L, 6), (S, 6), (S, 6)], {"attn_mask": bool_mask(gen, 2, L, S)},
                 average_attn_weights=False),
        mha_case(gen, "mha_second", "MultiheadAttention(4, 2); second order d||dL/dquery||^2",
                 MHA(4, 2), [(3, 2, 4), (4, 2, 4), (4, 2, 4)],
                 {"key_padding_mask": bool_mask(gen, 2, 4)}),
    ]


def encoder_case(gen, name, text, module, shape, masks=None, zero_biases=False):
    module.double()
    randomize(module, gen)
    if zero_biases:
        with torch.no_grad():
            for key, p in module.named_parameters():
                if key.endswith("bias"):
                    p.zero_()
    inputs = OrderedDict(src=randn(gen, *shape))
    masks = OrderedDict(masks or {})

    def run(i, m):
        if isinstance(module, nn.TransformerEncoder):
            out = module(i["src"], mask=m.get("mask"),
                         src_key_padding_mask=m.get("src_key_padding_mask"))
        else:
            out = module(i["src"], src_mask=m.get("src_mask"),
                         src_key_padding_mask=m.get("src_key_padding_mask"))
        return OrderedDict(output=out)

    return Case(name, text, module, inputs, masks, run)


def encoder_cases(gen):
    Layer = nn.TransformerEncoderLayer
    square = nn.Transformer.generate_square_subsequent_mask
    return [
        encoder_case(gen, "layer_post_relu",
                     "TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0); src [5,3,8]; "
                     "bool src_key_padding_mask", Layer(8, 2, 16, 0.0), (5, 3, 8),
                     {"src_key_padding_mask": bool_mask(gen, 3, 5)}),
        encoder_case(gen, "layer_pre_gelu",
                     "TransformerEncoderLayer(8, 4, 12, 0.0, 'gelu', batch_first=True, "
                     "norm_first=True); src [2,6,8]; causal float src_mask (descent: is_causal)",
                     Layer(8, 4, 12, 0.0, "gelu", batch_first=True, norm_first=True), (2, 6, 8),
                     {"src_mask": square(6).double()}),
        encoder_case(gen, "layer_unbatched",
                     "TransformerEncoderLayer(6, 3, 10, 0.0, layer_norm_eps=1e-3); src [5,6]; "
                     "float src_mask [5,5]", Layer(6, 3, 10, 0.0, layer_norm_eps=1e-3), (5, 6),
                     {"src_mask": float_mask(gen, 5, 5)}),
        encoder_case(gen, "layer_no_bias",
                     "TransformerEncoderLayer(8, 2, 16, 0.0, norm_first=True, bias=False) "
                     "(2.x; a 1.13 layer with zero biases); src [4,2,8]", Layer(
                         8, 2, 16, 0.0, norm_first=True), (4, 2, 8), zero_biases=True),
        encoder_case(gen, "encoder_two_layers",
                     "TransformerEncoder(TransformerEncoderLayer(8, 2, 16, 0.0, 'gelu'), 2, "
                     "norm=LayerNorm(8)); src [5,2,8]; bool mask [5,5], bool "
                     "src_key_padding_mask [2,5]", nn.TransformerEncoder(
                         Layer(8, 2, 16, 0.0, "gelu"), 2, norm=nn.LayerNorm(8),
                         enable_nested_tensor=False), (5, 2, 8),
                     {"mask": causal_bool(5, 5), "src_key_padding_mask": bool_mask(gen, 2, 5)}),
    ]


def record(case, gen, out):
    """Runs a case and stores its state, inputs, masks, outputs and gradients into `out`."""
    prefix = case.name
    params = OrderedDict()
    if case.module is not None:
        case.module.train()  # dropout is 0; train mode keeps torch 1.13 off its fused path
        for key, p in case.module.named_parameters():
            if not (case.name == "layer_no_bias" and key.endswith("bias")):
                params[key] = p
        for key, t in case.module.state_dict().items():
            if key in params:
                out[f"{prefix}.state.{key}"] = t.detach().clone()
    inputs = OrderedDict((n, t.clone().requires_grad_()) for n, t in case.inputs.items())
    for n, t in inputs.items():
        out[f"{prefix}.in.{n}"] = t.detach()
    for n, m in case.masks.items():
        if m.dtype == torch.bool:
            out[f"{prefix}.mask.{n}"] = m.to(torch.int64)
        else:
            out[f"{prefix}.fmask.{n}"] = m
    results = case.run(inputs, case.masks)
    weights = OrderedDict((n, randn(gen, *r.shape)) for n, r in results.items())
    for n, r in results.items():
        out[f"{prefix}.out.{n}"] = r.detach()
        out[f"{prefix}.w.{n}"] = weights[n]
    loss = sum((r * weights[n]).sum() for n, r in results.items())
    wrt = list(params.values()) + list(inputs.values())
    names = list(params) + [f"in.{n}" for n in inputs]
    grads = torch.autograd.grad(loss, wrt, create_graph=prefix.endswith("_second"))
    for n, g in zip(names, grads):
        out[f"{prefix}.grad.{n}"] = g.detach()
    if prefix.endswith("_second"):
        g_query = grads[names.index("in.query")]
        second = torch.autograd.grad((g_query * g_query).sum(), wrt, allow_unused=True)
        for n, g in zip(names, second):
            out[f"{prefix}.gg.{n}"] = torch.zeros_like(wrt[names.index(n)]) if g is None else g


def generate():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(20240611)
    out, metadata = OrderedDict(), {"format": "pt"}
    for case in sdpa_cases(gen) + mha_cases(gen) + encoder_cases(gen):
        metadata[case.name] = case.text
        record(case, gen, out)
    OUT.mkdir(parents=True, exist_ok=True)
    write("attention.safetensors", out, metadata)


if __name__ == "__main__":
    generate()
