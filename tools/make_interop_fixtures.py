#!/usr/bin/python3
"""PyTorch checkpoints for descent's loaders (nn::load, nn::load_torch), and forward-parity data.

Writes, under tests/fixtures/interop/ (small and deterministic: fixed seeds, one thread):

  cnn.pt, cnn.safetensors
      The float32 state_dict of
          Sequential(Conv2d(2,4,3,padding=1), BatchNorm2d(4), ReLU(), MaxPool2d(2), Flatten(),
                     Linear(64,5))
      after 3 SGD steps (lr 0.1, train mode, MSE on seeded data): keys "0.weight", ...,
      "1.running_mean", "1.num_batches_tracked" (int64, 0-d), "5.bias".
  lstm.pt, lstm.safetensors
      A module with children embed = Embedding(20,8), lstm = LSTM(8,16,batch_first=True),
      fc = Linear(16,3); forward x [N,L] int64 -> fc(lstm(embed(x))[0]) [N,L,3]. Same training.
  transformer.pt, transformer.safetensors
      A module with children encoder = TransformerEncoder(TransformerEncoderLayer(16, 2,
      dim_feedforward=32, batch_first=True), 2) and fc = Linear(16,4); forward
      x [N,L,16] -> fc(encoder(x)). Same training (dropout 0.1 in training).
  <model>_io.safetensors
      "input" and "output": a fresh seeded input and the trained model's eval-mode output.
  dtypes.safetensors
      What safetensors.torch.save_file writes for each dtype torch has and descent converts:
      "f16", "bf16" (normal, subnormal, ±0, ±inf, NaN, the extremes), "i8", "u8", "i16", "i32",
      "bool", and "expected.<name>": the values as float32 / int64 (F32 / I64), computed by torch.
  views.pt, views_deflated.pt, views_expected.safetensors
      torch.save of a dict of tensors that are views (transposed, sliced with a storage offset
      and strides, two sharing a storage) and of float16, bfloat16, int32, int16, int8, uint8,
      bool and float64 tensors; the expected values (contiguous, converted as descent converts:
      float32 for float16/bfloat16, int64 for the integer types) under the same names.
      views_deflated.pt is views.pt with every entry deflated (Python's zipfile), which torch
      never writes but other zip tools do.

The .safetensors files are written byte for byte as safetensors.torch.save_file (0.3) writes
them (the package is not installable on Debian 12): tensors ordered by dtype (descending, in
safetensors' order of dtypes) then name, the header JSON compact with the entries in that order,
padded with spaces to a multiple of 8 bytes. The .pt files are torch.save's own.

Rerun from the repository root with the system interpreter (torch 1.13, CPU):

    /usr/bin/python3 tools/make_interop_fixtures.py
"""

import json
import struct
import zipfile
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "interop"

# safetensors' Dtype enum order (save_file sorts by it, descending), and each dtype's code.
ORDER = [torch.bool, torch.uint8, torch.int8, torch.int16, torch.float16, torch.bfloat16,
         torch.int32, torch.float32, torch.float64, torch.int64]
CODE = {torch.bool: "BOOL", torch.uint8: "U8", torch.int8: "I8", torch.int16: "I16",
        torch.float16: "F16", torch.bfloat16: "BF16", torch.int32: "I32",
        torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}


def raw_bytes(t):
    """The tensor's elements, contiguous, little-endian."""
    flat = t.detach().contiguous().reshape(-1)
    return flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""


def save_file(tensors, path):
    """safetensors.torch.save_file(tensors, path), by hand."""
    items = sorted(tensors.items(), key=lambda kv: (-ORDER.index(kv[1].dtype), kv[0]))
    header, chunks, offset = OrderedDict(), [], 0
    for name, t in items:
        data = raw_bytes(t)
        header[name] = OrderedDict([("dtype", CODE[t.dtype]), ("shape", list(t.shape)),
                                    ("data_offsets", [offset, offset + len(data)])])
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(chunks))
    print(f"wrote {path} ({path.stat().st_size} bytes)")


def save_pt(state, path):
    torch.save(state, path)
    print(f"wrote {path} ({path.stat().st_size} bytes)")


class LSTMModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 8)
        self.lstm = nn.LSTM(8, 16, batch_first=True)
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc(self.lstm(self.embed(x))[0])


class TransformerModel(nn.Module):
    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2)
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc(self.encoder(x))


def cnn_input(g):
    return torch.randn(3, 2, 8, 8, generator=g)


def lstm_input(g):
    return torch.randint(0, 20, (3, 6), generator=g)


def transformer_input(g):
    return torch.randn(3, 5, 16, generator=g)


MODELS = {
    "cnn": (lambda: nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                  nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 5)), cnn_input),
    "lstm": (LSTMModel, lstm_input),
    "transformer": (TransformerModel, transformer_input),
}


def trained(name):
    make, make_input = MODELS[name]
    torch.manual_seed(0)
    model = make()
    g = torch.Generator().manual_seed(1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for _ in range(3):
        x = make_input(g)
        y = model(x)
        loss = ((y - torch.randn(y.shape, generator=g)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    x = make_input(g)
    with torch.no_grad():
        y = model(x)
    return model, x, y


def dtypes():
    f = torch.tensor([1.0, -2.5, 0.0, -0.0, 65504.0, 6.1035156e-05, 5.9604645e-08, 3.0e-06,
                      float("inf"), float("-inf"), float("nan"), 0.333333])
    b = torch.tensor([1.0, -2.5, 0.0, -0.0, 3.3895314e38, 1.1754944e-38, 9.1835e-41,
                      float("inf"), float("-inf"), float("nan"), 0.333333, 1e-30])
    tensors = OrderedDict(
        f16=f.half(), bf16=b.bfloat16(),
        i8=torch.tensor([-128, -1, 0, 127], dtype=torch.int8),
        u8=torch.tensor([0, 1, 200, 255], dtype=torch.uint8),
        i16=torch.tensor([[-32768, 32767], [0, -5]], dtype=torch.int16),
        i32=torch.tensor([-2147483648, 2147483647, 7], dtype=torch.int32),
        bool=torch.tensor([[True, False, True]]),
    )
    for name, t in list(tensors.items()):
        if name != "bool":
            kind = torch.float32 if t.is_floating_point() else torch.int64
            tensors["expected." + name] = t.to(kind)
    return tensors


def views():
    g = torch.Generator().manual_seed(2)
    base = torch.randn(4, 6, generator=g)
    shared = torch.randn(10, generator=g)
    state = OrderedDict(
        transposed=base.t(),                   # strides (1, 6)
        sliced=base[1:, ::2],                  # storage offset 6, strides (6, 2)
        column=base[:, 3],                     # offset 3, stride 6
        shared_a=shared[:4], shared_b=shared[4:].view(2, 3),  # one storage, two tensors
        f16=torch.randn(2, 3, generator=g).half(), bf16=torch.randn(3, generator=g).bfloat16(),
        i32=torch.tensor([[1, -2], [3, 2147483647]], dtype=torch.int32),
        i16=torch.tensor([-7, 9], dtype=torch.int16), i8=torch.tensor([-3], dtype=torch.int8),
        u8=torch.tensor([250, 3], dtype=torch.uint8), flags=torch.tensor([True, False]),
        f64=torch.randn(2, 2, generator=g, dtype=torch.float64),
        i64=torch.tensor(5), empty=torch.zeros(0, 3),
    )
    expected = OrderedDict()
    for name, t in state.items():
        if t.dtype in (torch.float16, torch.bfloat16):
            t = t.float()
        elif t.dtype in (torch.int32, torch.int16, torch.int8, torch.uint8):
            t = t.long()
        expected[name] = t.contiguous().clone()
    return state, expected


def main():
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    for name in MODELS:
        model, x, y = trained(name)
        state = model.state_dict()
        save_pt(state, OUT / f"{name}.pt")
        save_file(OrderedDict(state), OUT / f"{name}.safetensors")
        save_file(OrderedDict(input=x, output=y), OUT / f"{name}_io.safetensors")
    save_file(dtypes(), OUT / "dtypes.safetensors")
    state, expected = views()
    save_pt(state, OUT / "views.pt")
    save_file(expected, OUT / "views_expected.safetensors")
    with zipfile.ZipFile(OUT / "views.pt") as src, \
            zipfile.ZipFile(OUT / "views_deflated.pt", "w") as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            dst.writestr(entry, src.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)
    print(f"wrote {OUT / 'views_deflated.pt'}")


if __name__ == "__main__":
    main()
