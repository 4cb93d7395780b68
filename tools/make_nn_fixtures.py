#!/usr/bin/python3
"""PyTorch reference fixtures for descent's nn library, as safetensors files.

Writes, under tests/fixtures/nn/ (all small, deterministic: fixed seeds, one thread; two runs
write byte-identical files):

  mlp_float32.safetensors, mlp_float64.safetensors
      The state_dict of
          Sequential(Linear(6,16), LayerNorm(16), ReLU(), Dropout(0.3), Linear(16,16),
                     BatchNorm1d(16), Tanh(), Linear(16,4))
      after 5 SGD steps (lr 0.1, train mode, batch 12, MSE loss on seeded data), so the
      BatchNorm running statistics are non-trivial. Keys are torch's: "0.weight", "0.bias",
      "1.weight", ..., "5.running_mean", "5.running_var", "5.num_batches_tracked" (I64, 0-d),
      "7.weight", "7.bias". Both models start from the same initial weights; the float64 one is
      converted before training and trained in float64 on the same data and dropout masks.
      __metadata__ = {"format": "pt"}, as torch ecosystems write.
  mlp_io_float32.safetensors, mlp_io_float64.safetensors
      For the trained model of that dtype, in eval mode:
          "input"        X [10,6]
          "output"       Y = model(X) [10,4]
          "weight"       W [10,4]
          "grad.<name>"  d sum(Y*W) / d parameter, for every named parameter (not the buffers)
          "grad.input"   d sum(Y*W) / d X
  spatial_layers.safetensors  (float64)
      For each case of SPATIAL_LAYERS (a torch layer, its input shape), in training mode: the
      layer's state_dict as "<case>.state.<key>" (torch's names), "<case>.input" X,
      "<case>.output" Y = layer(X), "<case>.weight" W (of Y's shape), "<case>.grad.<name>"
      d sum(Y*W) / d parameter and "<case>.grad.input", and "<case>.after.<buffer>" for every
      buffer after the forward (BatchNorm's and InstanceNorm's running statistics). The metadata
      records each case's constructor.
  batchnorm_stats.safetensors  (float64)
      bn0 = BatchNorm1d(5, momentum=0.1) on (N,C) = (8,5) batches;
      bn1 = BatchNorm1d(3, momentum=0.3, eps=1e-3) on (N,C,L) = (4,3,6) batches.
      For each k in {0,1}: "bn{k}.weight", "bn{k}.bias" (the defaults 1 and 0), and for each of
      the 4 training-mode batches i in {0,1,2,3}: "bn{k}.batch{i}" (the input), "bn{k}.out{i}"
      (the training-mode output), "bn{k}.after{i}.running_mean", "bn{k}.after{i}.running_var",
      "bn{k}.after{i}.num_batches_tracked" (I64, 0-d) after that batch. The metadata records
      each module's constructor.

The safetensors format is written and read here by hand (the Python `safetensors` package is not
installed), in the same layout as descent::nn::to_safetensors: compact header JSON with
"__metadata__" first, then the tensors in data order with fields dtype, shape, data_offsets,
padded with spaces to a multiple of 8 bytes; data little-endian, row-major, contiguous.

Rerun from the repository root with the system interpreter (torch 1.13, CPU):

    /usr/bin/python3 tools/make_nn_fixtures.py

Check that a checkpoint written by descent loads into the same torch model (strict):

    /usr/bin/python3 tools/make_nn_fixtures.py --check FILE

prints "OK: ..." and exits 0, or "FAIL: ..." and exits 1. The model's dtype follows the file's
"0.weight" (F32 or F64). When the fixture of that dtype exists, the values are also compared with
it (reported, not required: a file from a further-trained model is still loadable).
"""

import argparse
import json
import struct
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from torch import nn

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "nn"

DTYPES = {  # safetensors code -> (numpy little-endian dtype, torch dtype)
    "F32": (np.dtype("<f4"), torch.float32),
    "F64": (np.dtype("<f8"), torch.float64),
    "I64": (np.dtype("<i8"), torch.int64),
}
CODE_OF = {torch_dtype: code for code, (_, torch_dtype) in DTYPES.items()}


# --- the format ------------------------------------------------------------------------------


def to_safetensors(tensors, metadata=None):
    """bytes of a safetensors file holding `tensors` (an ordered name -> torch.Tensor mapping)."""
    header = OrderedDict()
    if metadata:
        header["__metadata__"] = OrderedDict(sorted(metadata.items()))
    chunks, offset = [], 0
    for name, t in tensors.items():
        code = CODE_OF[t.dtype]
        data = t.detach().contiguous().cpu().numpy().astype(DTYPES[code][0]).tobytes()
        header[name] = OrderedDict(
            [("dtype", code), ("shape", list(t.shape)), ("data_offsets", [offset, offset + len(data)])]
        )
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def from_safetensors(raw, source):
    """(OrderedDict name -> torch.Tensor in data order, metadata dict); raises ValueError."""
    if len(raw) < 8:
        raise ValueError(f"{source}: {len(raw)} bytes, fewer than 8")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError(f"{source}: header length {n} runs past the end")

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError(f"{source}: duplicate keys in the header")
        return OrderedDict(pairs)

    header = json.loads(raw[8 : 8 + n].decode("utf-8"), object_pairs_hook=no_duplicates)
    data = raw[8 + n :]
    metadata = header.pop("__metadata__", None) or {}
    entries = sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"]))
    tensors, covered = OrderedDict(), 0
    for name, info in entries:
        np_dtype, _ = DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        shape = [int(e) for e in info["shape"]]
        if begin != covered or end > len(data) or end - begin != int(np.prod(shape)) * np_dtype.itemsize:
            raise ValueError(f"{source}: bad data_offsets for {name!r}")
        covered = end
        array = np.frombuffer(data[begin:end], dtype=np_dtype).reshape(shape).copy()
        tensors[name] = torch.from_numpy(array)
    if covered != len(data):
        raise ValueError(f"{source}: {len(data) - covered} trailing bytes")
    return tensors, metadata


def write(name, tensors, metadata):
    raw = to_safetensors(tensors, metadata)
    back, back_metadata = from_safetensors(raw, name)  # the writer and reader agree
    assert list(back) == list(tensors) and back_metadata == metadata
    for k, t in tensors.items():
        assert torch.equal(back[k], t.detach()), k
    (OUT / name).write_bytes(raw)
    print(f"wrote {OUT / name} ({len(raw)} bytes, {len(tensors)} tensors)")


# --- the models ------------------------------------------------------------------------------


def make_mlp():
    return nn.Sequential(
        nn.Linear(6, 16),
        nn.LayerNorm(16),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Linear(16, 16),
        nn.BatchNorm1d(16),
        nn.Tanh(),
        nn.Linear(16, 4),
    )


def trained_mlps():
    """{torch.float32: model, torch.float64: model} after 5 SGD steps from the same start."""
    torch.manual_seed(0)
    initial = make_mlp().state_dict()
    gen = torch.Generator().manual_seed(1)
    batches = [(torch.randn(12, 6, generator=gen, dtype=torch.float64),
                torch.randn(12, 4, generator=gen, dtype=torch.float64)) for _ in range(5)]
    models = {}
    for dtype in (torch.float32, torch.float64):
        model = make_mlp()
        model.load_state_dict(initial)
        model.to(dtype)
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        torch.manual_seed(2)  # the same dropout masks for both dtypes
        for x, y in batches:
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(x.to(dtype)), y.to(dtype))
            loss.backward()
            opt.step()
        assert int(model[5].num_batches_tracked) == 5
        models[dtype] = model
    return models


def mlp_io(model, dtype):
    model.eval()
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(10, 6, generator=gen, dtype=torch.float64).to(dtype).requires_grad_()
    w = torch.randn(10, 4, generator=gen, dtype=torch.float64).to(dtype)
    params = OrderedDict(model.named_parameters())
    y = model(x)
    grads = torch.autograd.grad((y * w).sum(), list(params.values()) + [x])
    out = OrderedDict([("input", x.detach()), ("output", y.detach()), ("weight", w)])
    for name, g in zip(list(params) + ["input"], grads):
        out[f"grad.{name}"] = g
    return out


def batchnorm_stats():
    gen = torch.Generator().manual_seed(4)
    configs = [
        (nn.BatchNorm1d(5, momentum=0.1), (8, 5), "BatchNorm1d(5, momentum=0.1)", 1.5, 0.5),
        (nn.BatchNorm1d(3, momentum=0.3, eps=1e-3), (4, 3, 6),
         "BatchNorm1d(3, momentum=0.3, eps=1e-3)", 3.0, -2.0),
    ]
    out, metadata = OrderedDict(), {"format": "pt"}
    for k, (bn, shape, text, scale, shift) in enumerate(configs):
        bn.double().train()
        metadata[f"bn{k}"] = text + f", input (N,C{',L' if len(shape) == 3 else ''}) = {tuple(shape)}"
        out[f"bn{k}.weight"] = bn.weight.detach().clone()
        out[f"bn{k}.bias"] = bn.bias.detach().clone()
        for i in range(4):
            x = torch.randn(*shape, generator=gen, dtype=torch.float64) * scale + shift
            with torch.no_grad():
                y = bn(x)
            out[f"bn{k}.batch{i}"] = x
            out[f"bn{k}.out{i}"] = y
            out[f"bn{k}.after{i}.running_mean"] = bn.running_mean.clone()
            out[f"bn{k}.after{i}.running_var"] = bn.running_var.clone()
            out[f"bn{k}.after{i}.num_batches_tracked"] = bn.num_batches_tracked.clone()
    return out, metadata


SPATIAL_LAYERS = [  # (case, constructor text, input shape)
    ("conv2d_groups", "nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2)", (2, 4, 7, 6)),
    ("conv2d_reflect", "nn.Conv2d(3, 4, (3, 2), padding=1, dilation=(1, 2), "
                       "padding_mode='reflect')", (2, 3, 5, 6)),
    ("conv2d_same_circular", "nn.Conv2d(2, 3, 4, padding='same', padding_mode='circular')",
     (1, 2, 5, 5)),
    ("conv1d_replicate", "nn.Conv1d(3, 5, 3, stride=2, padding=2, padding_mode='replicate', "
                         "bias=False)", (2, 3, 9)),
    ("conv_transpose2d", "nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, "
                         "groups=2)", (2, 4, 3, 4)),
    ("conv_transpose1d", "nn.ConvTranspose1d(3, 2, 4, stride=3, dilation=2)", (2, 3, 5)),
    ("batch_norm2d", "nn.BatchNorm2d(3, momentum=0.2)", (4, 3, 5, 5)),
    ("group_norm", "nn.GroupNorm(2, 6)", (3, 6, 4, 5)),
    ("instance_norm2d", "nn.InstanceNorm2d(3, affine=True, track_running_stats=True)",
     (2, 3, 4, 5)),
    ("instance_norm1d", "nn.InstanceNorm1d(4)", (3, 4, 6)),
]


def spatial_layers():
    gen = torch.Generator().manual_seed(20261207)
    out, metadata = OrderedDict(), {"format": "pt"}
    for case, text, shape in SPATIAL_LAYERS:
        torch.manual_seed(len(out))
        layer = eval(text).double().train()  # the texts above, nothing from outside
        with torch.no_grad():  # affine parameters away from their 1 and 0, to be seen
            for name, p in layer.named_parameters():
                if "norm" in case:
                    p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * 0.5
                            + (1.0 if name == "weight" else 0.0))
        metadata[case] = text
        for k, v in layer.state_dict().items():
            out[f"{case}.state.{k}"] = v.detach().clone()
        x = (torch.randn(shape, generator=gen, dtype=torch.float64) * 1.5 + 0.3).requires_grad_()
        params = OrderedDict(layer.named_parameters())
        y = layer(x)
        w = torch.randn(y.shape, generator=gen, dtype=torch.float64)
        grads = torch.autograd.grad((y * w).sum(), list(params.values()) + [x])
        out[f"{case}.input"] = x.detach()
        out[f"{case}.output"] = y.detach()
        out[f"{case}.weight"] = w
        for name, g in zip(list(params) + ["input"], grads):
            out[f"{case}.grad.{name}"] = g
        for name, b in layer.named_buffers():
            out[f"{case}.after.{name}"] = b.detach().clone()
    return out, metadata


def generate():
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    models = trained_mlps()
    for dtype, suffix in ((torch.float32, "float32"), (torch.float64, "float64")):
        state = OrderedDict((k, v.detach().clone()) for k, v in models[dtype].state_dict().items())
        write(f"mlp_{suffix}.safetensors", state, {"format": "pt"})
        write(f"mlp_io_{suffix}.safetensors", mlp_io(models[dtype], dtype), {"format": "pt"})
    tensors, metadata = spatial_layers()
    write("spatial_layers.safetensors", tensors, metadata)
    tensors, metadata = batchnorm_stats()
    write("batchnorm_stats.safetensors", tensors, metadata)


def check(path):
    path = Path(path)
    try:
        tensors, metadata = from_safetensors(path.read_bytes(), str(path))
        code = CODE_OF.get(tensors["0.weight"].dtype) if "0.weight" in tensors else None
        if code not in ("F32", "F64"):
            raise ValueError("no float32/float64 \"0.weight\"")
        dtype = DTYPES[code][1]
        model = make_mlp().to(dtype)
        model.load_state_dict(tensors, strict=True)
    except Exception as e:  # noqa: BLE001 - any failure is reported as such
        print(f"FAIL: {path}: {type(e).__name__}: {e}")
        return 1
    note = ""
    fixture = OUT / f"mlp_{'float32' if dtype == torch.float32 else 'float64'}.safetensors"
    if fixture.exists():
        reference, _ = from_safetensors(fixture.read_bytes(), str(fixture))
        same = list(reference) == list(tensors) and all(
            torch.equal(reference[k], tensors[k]) for k in reference)
        note = f"; tensors {'equal' if same else 'differ from'} {fixture.name}"
    print(f"OK: {path} loads into the MLP with load_state_dict(strict=True) "
          f"({len(tensors)} tensors, {code}, metadata {json.dumps(metadata)}){note}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", metavar="FILE", help="load FILE into the torch MLP (strict)")
    args = parser.parse_args()
    if args.check:
        sys.exit(check(args.check))
    generate()


if __name__ == "__main__":
    main()
