#!/usr/bin/python3
"""Reference values for tests/test_nn_recurrent.cpp, computed with PyTorch (1.13) in float64.

Run with /usr/bin/python3 (it has torch). It prints C++ literals that are pasted into the test,
so the C++ test does not need Python.

Weights and inputs come from pattern(), which the C++ test computes identically: value i
(row-major) of pattern(shape, s, scale) is ((7*i + 3*s) % 13 - 6) / 4 * scale. Every module
gets its weights through load_state_dict with PyTorch's own keys (weight_ih, bias_hh_l1, ...):
key k (in state_dict order) is pattern(shape, 10 + k, 0.25). The C++ test builds the same
state dict under the same keys, so a key or layout that differs from PyTorch fails there.
"""
import torch

torch.set_default_dtype(torch.float64)


def pattern(shape, s, scale=1.0):
    n = 1
    for d in shape:
        n *= d
    v = [((7 * i + 3 * s) % 13 - 6) / 4.0 * scale for i in range(n)]
    return torch.tensor(v, dtype=torch.float64).reshape(shape)


def load_pattern(module):
    sd = module.state_dict()
    new = {}
    for k, (name, t) in enumerate(sd.items()):
        new[name] = pattern(tuple(t.shape), 10 + k, 0.25)
    module.load_state_dict(new)
    return [(name, tuple(t.shape)) for name, t in sd.items()]


def lit(t):
    return "{" + ", ".join("%.17g" % float(x) for x in t.reshape(-1).tolist()) + "}"


def emit(name, t):
    print("const std::vector<double> %s = %s;  // shape %s" % (name, lit(t), list(t.shape)))


print("// ---- parameter keys (state_dict order), as PyTorch names them")
for label, m in [
    ("RNNCell", torch.nn.RNNCell(3, 4)),
    ("LSTMCell", torch.nn.LSTMCell(3, 4)),
    ("GRUCell", torch.nn.GRUCell(3, 4)),
    ("LSTM(3, 4, num_layers=2)", torch.nn.LSTM(3, 4, num_layers=2)),
]:
    print("// %s: %s" % (label, ", ".join("%s %s" % (n, list(t.shape)) for n, t in m.state_dict().items())))

N, IN, H = 2, 3, 4
x = pattern((N, IN), 1)
h = pattern((N, H), 2, 0.5)
c = pattern((N, H), 3, 0.5)

with torch.no_grad():
    print("\n// ---- RNNCell(3, 4): x = pattern({2, 3}, 1), h = pattern({2, 4}, 2, 0.5)")
    cell = torch.nn.RNNCell(IN, H)
    load_pattern(cell)
    emit("kRnnTanh", cell(x, h))
    emit("kRnnTanhZeroState", cell(x))
    emit("kRnnTanhUnbatched", cell(x[1], h[1]))
    cell = torch.nn.RNNCell(IN, H, nonlinearity="relu")
    load_pattern(cell)
    emit("kRnnRelu", cell(x, h))
    cell = torch.nn.RNNCell(IN, H, bias=False)
    load_pattern(cell)
    emit("kRnnNoBias", cell(x, h))

    print("\n// ---- LSTMCell(3, 4): c = pattern({2, 4}, 3, 0.5)")
    cell = torch.nn.LSTMCell(IN, H)
    load_pattern(cell)
    h1, c1 = cell(x, (h, c))
    emit("kLstmCellH", h1)
    emit("kLstmCellC", c1)
    h1, c1 = cell(x)
    emit("kLstmCellZeroStateH", h1)
    emit("kLstmCellZeroStateC", c1)
    h1, c1 = cell(x[0], (h[0], c[0]))
    emit("kLstmCellUnbatchedH", h1)
    emit("kLstmCellUnbatchedC", c1)
    cell = torch.nn.LSTMCell(IN, H, bias=False)
    load_pattern(cell)
    h1, c1 = cell(x, (h, c))
    emit("kLstmCellNoBiasH", h1)
    emit("kLstmCellNoBiasC", c1)

    print("\n// ---- GRUCell(3, 4)")
    cell = torch.nn.GRUCell(IN, H)
    load_pattern(cell)
    emit("kGru", cell(x, h))
    emit("kGruZeroState", cell(x))
    emit("kGruUnbatched", cell(x[1], h[1]))
    cell = torch.nn.GRUCell(IN, H, bias=False)
    load_pattern(cell)
    emit("kGruNoBias", cell(x, h))

# ---- LSTM(3, 4, num_layers=2) over T = 3 steps, N = 2
T, L = 3, 2
seq_tn = pattern((T, N, IN), 4)  # [T, N, input]
h0 = pattern((L, N, H), 5, 0.5)
c0 = pattern((L, N, H), 6, 0.5)
with torch.no_grad():
    for batch_first in (False, True):
        lstm = torch.nn.LSTM(IN, H, num_layers=L, batch_first=batch_first)
        load_pattern(lstm)
        xin = seq_tn.transpose(0, 1).contiguous() if batch_first else seq_tn
        tag = "BatchFirst" if batch_first else "SeqFirst"
        print("\n// ---- LSTM(3, 4, num_layers=2, batch_first=%s): x = pattern({3, 2, 3}, 4)%s,"
              % (batch_first, " transposed to [N, T, 3]" if batch_first else ""))
        print("//      h0 = pattern({2, 2, 4}, 5, 0.5), c0 = pattern({2, 2, 4}, 6, 0.5)")
        y, (hn, cn) = lstm(xin, (h0, c0))
        emit("kLstm%sOut" % tag, y)
        emit("kLstm%sHn" % tag, hn)
        emit("kLstm%sCn" % tag, cn)
        y, (hn, cn) = lstm(xin)
        emit("kLstm%sZeroOut" % tag, y)
        emit("kLstm%sZeroHn" % tag, hn)
        emit("kLstm%sZeroCn" % tag, cn)

    print("\n// ---- LSTM(3, 4, bias=False), one layer, zero state")
    lstm = torch.nn.LSTM(IN, H, bias=False)
    load_pattern(lstm)
    y, (hn, cn) = lstm(seq_tn)
    emit("kLstmNoBiasOut", y)
    emit("kLstmNoBiasCn", cn)

# ---- gradients: loss = sum(y * pattern(y, 7)) + sum(h_n * pattern(h_n, 8)) + sum(c_n * pattern(c_n, 9))
print("\n// ---- gradients of loss = sum(y * pattern({3, 2, 4}, 7)) + sum(h_n * pattern({2, 2, 4}, 8))")
print("//      + sum(c_n * pattern({2, 2, 4}, 9)), LSTM(3, 4, num_layers=2), seq-first, with (h0, c0)")
lstm = torch.nn.LSTM(IN, H, num_layers=L)
load_pattern(lstm)
xg = seq_tn.clone().requires_grad_()
h0g = h0.clone().requires_grad_()
c0g = c0.clone().requires_grad_()
y, (hn, cn) = lstm(xg, (h0g, c0g))
loss = (y * pattern(tuple(y.shape), 7)).sum() + (hn * pattern(tuple(hn.shape), 8)).sum() + \
    (cn * pattern(tuple(cn.shape), 9)).sum()
loss.backward()
emit("kGradLoss", loss.detach().reshape(1))
emit("kGradInput", xg.grad)
emit("kGradH0", h0g.grad)
emit("kGradC0", c0g.grad)
emit("kGradWeightHhL0", lstm.weight_hh_l0.grad)
emit("kGradWeightIhL1", lstm.weight_ih_l1.grad)
emit("kGradBiasIhL1", lstm.bias_ih_l1.grad)
