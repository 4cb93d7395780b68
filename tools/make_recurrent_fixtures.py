#!/usr/bin/python3
"""PyTorch reference fixtures for descent's recurrent layers and cells (float64).

Writes tests/fixtures/nn/recurrent.safetensors. For each case of CASES (a torch module, an input
shape and whether an initial state is given), in training mode with dropout 0:

  "<case>.state.<key>"  the module's state_dict (torch's names)
  "<case>.input"        X
  "<case>.h0", "<case>.c0"   the initial state, when the case gives one
  "<case>.out.<k>"      each output: "output", "h_n", "c_n" for the layers; "h", "c" for cells
  "<case>.w.<k>"        a random weight W_k of that output's shape
  "<case>.grad.<name>"  dL/d<name>, L = Σ_k Σ W_k ⊙ out_k, for every parameter and for
                        "input", "h0", "c0"
  "<case>.gg.<name>"    dG/d<name> with G = ‖dL/dX‖², through create_graph (a second-order
                        quantity: backpropagation through time differentiated once more)

The metadata records each case's constructor and input shape. Fixed seeds, one thread: two runs
write identical files. Run from the repository root with the system interpreter (torch, CPU):

    /usr/bin/python3 tools/make_recurrent_fixtures.py
"""

from collections import OrderedDict

import torch
from torch import nn

from make_nn_fixtures import write

# name: (constructor text, input shape, initial state given)
CASES = OrderedDict([
    ("rnn_tanh", ("nn.RNN(3, 5)", (6, 2, 3), True)),
    ("rnn_relu_deep", ("nn.RNN(3, 4, num_layers=2, nonlinearity='relu', batch_first=True, "
                       "bidirectional=True)", (2, 5, 3), False)),
    ("rnn_unbatched", ("nn.RNN(2, 3, bias=False)", (4, 2), True)),
    ("lstm", ("nn.LSTM(3, 5)", (7, 3, 3), True)),
    ("lstm_long", ("nn.LSTM(2, 4)", (24, 2, 2), False)),
    ("lstm_deep_bidirectional", ("nn.LSTM(4, 3, num_layers=2, bidirectional=True)", (5, 2, 4),
                                 True)),
    ("lstm_proj", ("nn.LSTM(3, 6, num_layers=2, proj_size=2, batch_first=True)", (2, 4, 3),
                   True)),
    ("lstm_proj_bidirectional", ("nn.LSTM(3, 4, proj_size=3, bidirectional=True)", (3, 2, 3),
                                 False)),
    ("lstm_unbatched", ("nn.LSTM(3, 4, bias=False)", (5, 3), True)),
    ("gru", ("nn.GRU(3, 5)", (6, 2, 3), True)),
    ("gru_deep_bidirectional", ("nn.GRU(2, 3, num_layers=3, bidirectional=True, batch_first=True)",
                                (3, 4, 2), True)),
    ("gru_unbatched", ("nn.GRU(3, 4)", (4, 3), False)),
    ("rnn_cell", ("nn.RNNCell(3, 4)", (2, 3), True)),
    ("rnn_cell_relu", ("nn.RNNCell(3, 4, nonlinearity='relu')", (5, 3), True)),
    ("lstm_cell", ("nn.LSTMCell(3, 4)", (2, 3), True)),
    ("lstm_cell_unbatched", ("nn.LSTMCell(3, 2, bias=False)", (3,), True)),
    ("gru_cell", ("nn.GRUCell(3, 4)", (2, 3), True)),
    ("gru_cell_no_state", ("nn.GRUCell(2, 5, bias=False)", (3, 2), False)),
])


def state_shapes(module, x):
    """The shapes of h0 (and c0) the module takes for input x."""
    if isinstance(module, nn.RNNCellBase):
        batch = () if x.dim() == 1 else (x.shape[0],)
        h = batch + (module.hidden_size,)
        return (h, h) if isinstance(module, nn.LSTMCell) else (h,)
    batch = () if x.dim() == 2 else (x.shape[0] if module.batch_first else x.shape[1],)
    count = (2 if module.bidirectional else 1) * module.num_layers
    h = (count,) + batch + (module.proj_size or module.hidden_size,)
    c = (count,) + batch + (module.hidden_size,)
    return (h, c) if isinstance(module, nn.LSTM) else (h,)


def run(module, x, states):
    """The module's outputs by name."""
    is_lstm = isinstance(module, (nn.LSTM, nn.LSTMCell))
    state = None if not states else (tuple(states) if is_lstm else states[0])
    if isinstance(module, nn.RNNCellBase):
        y = module(x, state)
        return OrderedDict(zip(("h", "c"), y)) if is_lstm else OrderedDict(h=y)
    output, last = module(x, state)
    if is_lstm:
        return OrderedDict(output=output, h_n=last[0], c_n=last[1])
    return OrderedDict(output=output, h_n=last)


def make_case(name, text, shape, with_state, gen):
    torch.manual_seed(len(name))
    module = eval(text).double().train()
    for p in module.parameters():  # beyond ±1/√H, so the gates leave their linear range
        with torch.no_grad():
            p.mul_(2.0)
    x = torch.randn(*shape, generator=gen, dtype=torch.float64).requires_grad_()
    states = [torch.randn(*s, generator=gen, dtype=torch.float64).requires_grad_()
              for s in state_shapes(module, x)] if with_state else []
    outs = run(module, x, states)
    weights = OrderedDict((k, torch.randn(*v.shape, generator=gen, dtype=torch.float64))
                          for k, v in outs.items())
    loss = sum((outs[k] * weights[k]).sum() for k in outs)
    params = OrderedDict(module.named_parameters())
    wrt = OrderedDict(params)
    wrt["input"] = x
    for k, s in zip(("h0", "c0"), states):
        wrt[k] = s
    grads = torch.autograd.grad(loss, list(wrt.values()), create_graph=True)
    second = (grads[list(wrt).index("input")] ** 2).sum()
    ggs = torch.autograd.grad(second, list(wrt.values()), allow_unused=True)

    out = OrderedDict()
    for k, v in module.state_dict().items():
        out[f"{name}.state.{k}"] = v.detach().clone()
    out[f"{name}.input"] = x.detach()
    for k, s in zip(("h0", "c0"), states):
        out[f"{name}.{k}"] = s.detach()
    for k, v in outs.items():
        out[f"{name}.out.{k}"] = v.detach()
        out[f"{name}.w.{k}"] = weights[k]
    for k, g in zip(wrt, grads):
        out[f"{name}.grad.{k}"] = g.detach()
    for k, g in zip(wrt, ggs):
        out[f"{name}.gg.{k}"] = torch.zeros_like(wrt[k]) if g is None else g.detach()
    return out


def generate():
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(20)
    tensors, metadata = OrderedDict(), {"format": "pt"}
    for name, (text, shape, with_state) in CASES.items():
        tensors.update(make_case(name, text, shape, with_state, gen))
        metadata[name] = f"{text}, input {tuple(shape)}" + (", with state" if with_state else "")
    write("recurrent.safetensors", tensors, metadata)


if __name__ == "__main__":
    generate()
