#!/usr/bin/python3
"""Reference values for tests/test_nn_layers.cpp, computed with PyTorch (1.13) in float64.

Run with /usr/bin/python3 (it has torch). It prints C++ declarations that are pasted into the
test, so the C++ test needs no Python. Inputs and weights come from two deterministic patterns
that the test computes identically:
  seq(shape, s):      value i (row-major) is ((7*i + 3*s) % 13 - 6) / 4
  distinct(shape, s): value i is ((37*i + 11*s) % 211 - 105) / 16   (all distinct for <= 211
                      elements, so max pooling has no ties)
Gradients are of sum(y * seq(y.shape, 9)) for each output y.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def seq(shape, s):
    n = 1
    for d in shape:
        n *= d
    v = [((7 * i + 3 * s) % 13 - 6) / 4.0 for i in range(n)]
    return torch.tensor(v).reshape(shape)


def distinct(shape, s):
    n = 1
    for d in shape:
        n *= d
    assert n <= 211
    v = [((37 * i + 11 * s) % 211 - 105) / 16.0 for i in range(n)]
    return torch.tensor(v).reshape(shape)


def emit(name, t):
    t = t.detach()
    nums = ["%.17g" % float(x) for x in t.reshape(-1).tolist()]
    rows = [", ".join(nums[i:i + 6]) for i in range(0, len(nums), 6)]
    shape = ", ".join(str(d) for d in t.shape)
    print(f"const Ref {name} = {{{{{shape}}},")
    print("    {" + ",\n     ".join(rows) + "}};")


def backward_target(y):
    (y * seq(list(y.shape), 9)).sum().backward()


def with_grad(x):
    return x.clone().requires_grad_()


print("// ---- Conv2d ----")
CONV = [
    # name, in, out, kernel, options, x shape, x seed, weight seed, bias seed (None: no bias)
    ("conv_a", 2, 3, (3, 3), dict(padding=1), [2, 2, 5, 5], 1, 2, 3),
    ("conv_b", 4, 6, (3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2),
     [2, 4, 6, 7], 4, 5, 6),
    ("conv_c", 3, 6, (2, 2), dict(stride=2, padding=1, groups=3, bias=False), [1, 3, 5, 4], 7, 8,
     None),
]
for name, cin, cout, k, opts, xs, sx, sw, sb in CONV:
    conv = nn.Conv2d(cin, cout, k, **opts)
    with torch.no_grad():
        conv.weight.copy_(seq(list(conv.weight.shape), sw))
        if sb is not None:
            conv.bias.copy_(seq([cout], sb))
    x = with_grad(seq(xs, sx))
    y = conv(x)
    backward_target(y)
    emit(name + "_out", y)
    emit(name + "_grad_x", x.grad)
    emit(name + "_grad_w", conv.weight.grad)
    if sb is not None:
        emit(name + "_grad_b", conv.bias.grad)

print("// ---- BatchNorm: two training steps (x1, x2), then eval on x3 ----")
# bn2d: [2, 3, 3, 4], momentum 0.1, weight seq(3, 3) + 1, bias seq(3, 4); gradients at step 1
# (train) and in eval.
bn = nn.BatchNorm2d(3, eps=1e-5, momentum=0.1)
with torch.no_grad():
    bn.weight.copy_(seq([3], 3) + 1)
    bn.bias.copy_(seq([3], 4))
x1 = with_grad(seq([2, 3, 3, 4], 1))
y1 = bn(x1)
backward_target(y1)
emit("bn2d_train1", y1)
emit("bn2d_train1_grad_x", x1.grad)
emit("bn2d_train1_grad_w", bn.weight.grad)
emit("bn2d_train1_grad_b", bn.bias.grad)
emit("bn2d_train2", bn(seq([2, 3, 3, 4], 2) * 1.5 + 0.25))
emit("bn2d_running_mean", bn.running_mean)
emit("bn2d_running_var", bn.running_var)
bn.eval()
bn.weight.grad = None
bn.bias.grad = None
x3 = with_grad(seq([2, 3, 3, 4], 3))
y3 = bn(x3)
backward_target(y3)
emit("bn2d_eval", y3)
emit("bn2d_eval_grad_x", x3.grad)
emit("bn2d_eval_grad_w", bn.weight.grad)
emit("bn2d_eval_grad_b", bn.bias.grad)

# bn1d on [N, C] = [4, 3]: momentum 0.3, affine, eps 1e-3
bn = nn.BatchNorm1d(3, eps=1e-3, momentum=0.3)
with torch.no_grad():
    bn.weight.copy_(seq([3], 5) + 1)
    bn.bias.copy_(seq([3], 6))
emit("bn1d_train1", bn(seq([4, 3], 1)))
emit("bn1d_train2", bn(seq([4, 3], 2) * 1.5 + 0.25))
emit("bn1d_running_mean", bn.running_mean)
emit("bn1d_running_var", bn.running_var)
bn.eval()
emit("bn1d_eval", bn(seq([4, 3], 3)))

# bn1d on [N, C, L] = [3, 2, 4]: cumulative average (momentum None), no affine
bn = nn.BatchNorm1d(2, momentum=None, affine=False)
emit("bn1d3_train1", bn(seq([3, 2, 4], 1)))
emit("bn1d3_train2", bn(seq([3, 2, 4], 2) * 1.5 + 0.25))
emit("bn1d3_running_mean", bn.running_mean)
emit("bn1d3_running_var", bn.running_var)
bn.eval()
emit("bn1d3_eval", bn(seq([3, 2, 4], 3)))

print("// ---- LayerNorm ----")
ln = nn.LayerNorm([3, 4])
with torch.no_grad():
    ln.weight.copy_(seq([3, 4], 2))
    ln.bias.copy_(seq([3, 4], 3))
x = with_grad(seq([2, 3, 4], 1))
y = ln(x)
backward_target(y)
emit("ln_out", y)
emit("ln_grad_x", x.grad)
emit("ln_grad_w", ln.weight.grad)
emit("ln_grad_b", ln.bias.grad)
ln = nn.LayerNorm(4, eps=1e-3, elementwise_affine=False)
emit("ln_plain_out", ln(seq([5, 4], 4)))

print("// ---- Embedding (weight seq([10, 3], 1), padding_idx 4) ----")
emb = nn.Embedding(10, 3, padding_idx=4)
with torch.no_grad():
    emb.weight.copy_(seq([10, 3], 1))  # the padding row is no longer zero: still returned
idx = torch.tensor([[1, 4, 9], [0, 4, 2]])
y = emb(idx)
backward_target(y)
emit("emb_out", y)
emit("emb_grad_w", emb.weight.grad)

print("// ---- MaxPool2d on distinct([2, 2, 5, 6], 1) ----")
MAXPOOL = [
    ("maxpool_k3s2p1", dict(kernel_size=3, stride=2, padding=1)),
    ("maxpool_k2", dict(kernel_size=2)),
    ("maxpool_k23_d21_p1", dict(kernel_size=(2, 3), stride=1, padding=1, dilation=(2, 1))),
]
for name, opts in MAXPOOL:
    x = with_grad(distinct([2, 2, 5, 6], 1))
    y = nn.MaxPool2d(**opts)(x)
    backward_target(y)
    emit(name, y)
    emit(name + "_grad", x.grad)

print("// ---- AvgPool2d on seq([2, 2, 5, 6], 2) ----")
AVGPOOL = [
    ("avgpool_k3s2p1", dict(kernel_size=3, stride=2, padding=1)),
    ("avgpool_k3s2p1_nopad", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("avgpool_k2", dict(kernel_size=2)),
    ("avgpool_k32_div5", dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 0),
                              divisor_override=5)),
]
for name, opts in AVGPOOL:
    x = with_grad(seq([2, 2, 5, 6], 2))
    y = nn.AvgPool2d(**opts)(x)
    backward_target(y)
    emit(name, y)
    emit(name + "_grad", x.grad)

print("// ---- AdaptiveAvgPool2d on seq([2, 3, 5, 7], 3) ----")
for name, size in [("adaptive_3x4", (3, 4)), ("adaptive_2x2", (2, 2)), ("adaptive_1x1", (1, 1)),
                   ("adaptive_7x9", (7, 9))]:
    x = with_grad(seq([2, 3, 5, 7], 3))
    y = nn.AdaptiveAvgPool2d(size)(x)
    backward_target(y)
    emit(name, y)
    emit(name + "_grad", x.grad)
