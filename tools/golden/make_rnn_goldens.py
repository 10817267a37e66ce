"""Writes test/fixtures/rnn.safetensors: PyTorch's RNN, LSTM, GRU and their cells (float64) with
outputs, final states and the gradients of input, initial states and every parameter, for
test/nn/rnn-goldens.test.ts. The loss is sum(r_out * output) + sum(r_h * hN) (+ sum(r_c * cN)),
with the weights r stored too. Each case's options list torch's state-dict keys in order.

    PYTHONPATH=/tmp/pydeps /usr/bin/python3 tools/golden/make_rnn_goldens.py
"""
import torch
import torch.nn as nn

from writer import Writer

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
w = Writer()

LAYERS = [
    ("rnn_tanh", "RNN", dict(num_layers=2), dict(numLayers=2), 3, True),
    ("rnn_relu", "RNN", dict(nonlinearity="relu", bidirectional=True, bias=False),
     dict(nonlinearity="relu", bidirectional=True, bias=False), 3, True),
    ("lstm", "LSTM", dict(), dict(), 4, True),
    ("lstm_proj", "LSTM", dict(num_layers=2, proj_size=3), dict(numLayers=2, projSize=3), 4, True),
    ("lstm_bi_batch_first", "LSTM", dict(num_layers=2, bidirectional=True, batch_first=True),
     dict(numLayers=2, bidirectional=True, batchFirst=True), 4, True),
    ("lstm_unbatched", "LSTM", dict(), dict(), 3, False),
    ("gru_bi", "GRU", dict(num_layers=2, bidirectional=True), dict(numLayers=2, bidirectional=True), 4, True),
    ("gru_no_state", "GRU", dict(), dict(), 3, None),
]

INPUT, HIDDEN, BATCH = 4, 5, 2

for name, kind, torch_options, options, steps, batched in LAYERS:
    module = getattr(nn, kind)(INPUT, HIDDEN, **torch_options)
    directions = 2 if module.bidirectional else 1
    real_hidden = module.proj_size or HIDDEN
    if batched is False:
        x = torch.randn(steps, INPUT, requires_grad=True)
        state_shape = lambda size: (module.num_layers * directions, size)
    else:
        x = torch.randn(*((BATCH, steps) if module.batch_first else (steps, BATCH)), INPUT, requires_grad=True)
        state_shape = lambda size: (module.num_layers * directions, BATCH, size)
    h0 = None if batched is None else torch.randn(*state_shape(real_hidden), requires_grad=True)
    c0 = torch.randn(*state_shape(HIDDEN), requires_grad=True) if kind == "LSTM" else None
    if kind == "LSTM":
        output, (hn, cn) = module(x, (h0, c0))
    else:
        output, hn = module(x, h0)
        cn = None
    r_out, r_h = torch.randn_like(output), torch.randn_like(hn)
    r_c = torch.randn_like(cn) if cn is not None else None
    loss = (r_out * output).sum() + (r_h * hn).sum() + ((r_c * cn).sum() if cn is not None else 0)
    loss.backward()
    tensors = dict(x=x, h0=h0, c0=c0, output=output, hn=hn, cn=cn, r_out=r_out, r_h=r_h, r_c=r_c,
                   grad_x=x.grad, grad_h0=h0.grad if h0 is not None else None, grad_c0=c0.grad if c0 is not None else None)
    for key, p in module.named_parameters():
        tensors[f"param.{key}"] = p
        tensors[f"grad.{key}"] = p.grad
    w.case(name, kind, dict(options, keys=list(module.state_dict().keys())), **tensors)

CELLS = [
    ("rnn_cell", "RNNCell", dict(), dict(), True),
    ("rnn_cell_relu", "RNNCell", dict(nonlinearity="relu"), dict(nonlinearity="relu"), True),
    ("lstm_cell", "LSTMCell", dict(), dict(), True),
    ("lstm_cell_unbatched", "LSTMCell", dict(bias=False), dict(bias=False), False),
    ("gru_cell", "GRUCell", dict(), dict(), True),
]

for name, kind, torch_options, options, batched in CELLS:
    module = getattr(nn, kind)(INPUT, HIDDEN, **torch_options)
    shape = (BATCH,) if batched else ()
    x = torch.randn(*shape, INPUT, requires_grad=True)
    h0 = torch.randn(*shape, HIDDEN, requires_grad=True)
    c0 = torch.randn(*shape, HIDDEN, requires_grad=True) if kind == "LSTMCell" else None
    if kind == "LSTMCell":
        hn, cn = module(x, (h0, c0))
    else:
        hn, cn = module(x, h0), None
    r_h = torch.randn_like(hn)
    r_c = torch.randn_like(cn) if cn is not None else None
    loss = (r_h * hn).sum() + ((r_c * cn).sum() if cn is not None else 0)
    loss.backward()
    tensors = dict(x=x, h0=h0, c0=c0, hn=hn, cn=cn, r_h=r_h, r_c=r_c, grad_x=x.grad, grad_h0=h0.grad,
                   grad_c0=c0.grad if c0 is not None else None)
    for key, p in module.named_parameters():
        tensors[f"param.{key}"] = p
        tensors[f"grad.{key}"] = p.grad
    w.case(name, kind, dict(options, keys=list(module.state_dict().keys())), **tensors)

w.save("rnn.safetensors")
