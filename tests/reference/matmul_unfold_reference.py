#!/usr/bin/env python3
"""Reference values for tests/test_matmul.cpp and tests/test_unfold.cpp.

Run with /usr/bin/python3 (torch 1.13). It prints C++ literals that are pasted into the tests,
so the C++ tests need no Python. Inputs come from seq(), a deterministic pattern both sides
compute identically: value i (row-major) of seq(shape, s) is ((7*i + 3*s) % 13 - 6) / 4.
"""
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def seq(shape, s):
    n = 1
    for d in shape:
        n *= d
    v = [((7 * i + 3 * s) % 13 - 6) / 4.0 for i in range(n)]
    return torch.tensor(v, dtype=torch.float64).reshape(shape)


def lit(t):
    return "{" + ", ".join("%.17g" % float(x) for x in t.reshape(-1).tolist()) + "}"


def shp(t):
    return "{" + ", ".join(str(d) for d in t.shape) + "}"


def op(t, flag):
    return t.transpose(-1, -2) if flag and t.dim() >= 2 else t


# name, shape a, shape b, transpose_a, transpose_b
MATMUL_CASES = [
    ("dot", (4,), (4,), False, False),
    ("vec_mat", (4,), (4, 3), False, False),
    ("mat_vec", (3, 4), (4,), False, False),
    ("mat_mat", (2, 3), (3, 4), False, False),
    ("mat_mat_ta", (3, 2), (3, 4), True, False),
    ("mat_mat_tb", (2, 3), (4, 3), False, True),
    ("mat_mat_tatb", (3, 2), (4, 3), True, True),
    ("batched_broadcast", (2, 1, 3, 4), (5, 4, 2), False, False),
    ("batched_broadcast_tatb", (2, 1, 4, 3), (5, 2, 4), True, True),
    ("mat_batched", (3, 4), (2, 4, 5), False, False),
    ("mat_batched_tb", (3, 4), (2, 5, 4), False, True),
    ("batched_mat", (2, 3, 4), (4, 5), False, False),
    ("batched_mat_ta", (2, 4, 3), (4, 5), True, False),
    ("vec_batched", (4,), (2, 4, 3), False, False),
    ("batched_vec", (2, 3, 4), (4,), False, False),
]

print("// ---- matmul: forward values, and gradients of sum(C * seq(C.shape, 3)) ----")
for name, sa, sb, ta, tb in MATMUL_CASES:
    a = seq(sa, 1).requires_grad_()
    b = seq(sb, 2).requires_grad_()
    c = torch.matmul(op(a, ta), op(b, tb))
    w = seq(tuple(c.shape), 3)
    (c * w).sum().backward()
    print('{"%s", %s, %s, %s, %s, %s, %s, %s, %s},' % (
        name, shp(a), shp(b), "true" if ta else "false", "true" if tb else "false",
        shp(c), lit(c.detach()), lit(a.grad), lit(b.grad)))

print()
print("// ---- Hessian-vector product of f(x) = sum(sigmoid(W x)) ----")
W = seq((3, 5), 4)
x = seq((5,), 5).requires_grad_()
v = seq((5,), 6)
f = torch.sigmoid(W @ x).sum()
(g,) = torch.autograd.grad(f, x, create_graph=True)
(hv,) = torch.autograd.grad(g, x, grad_outputs=v)
print("f =", "%.17g" % f.item())
print("grad =", lit(g.detach()))
print("Hv =", lit(hv))

print()
print("// ---- unfold / fold ----")
# name, input shape, kernel, dilation, padding, stride
UNFOLD_CASES = [
    ("k2x2_d1x2_p1x0_s2x1", (1, 2, 4, 5), (2, 2), (1, 2), (1, 0), (2, 1)),
    ("k3x2_s2_p1", (2, 1, 5, 4), (3, 2), (1, 1), (1, 1), (2, 2)),
    ("k1_plain", (1, 2, 2, 3), (1, 1), (1, 1), (0, 0), (1, 1)),
]
for name, sx, k, d, p, s in UNFOLD_CASES:
    x = seq(sx, 7)
    u = F.unfold(x, kernel_size=k, dilation=d, padding=p, stride=s)
    cols = seq(tuple(u.shape), 8)
    fo = F.fold(cols, output_size=sx[2:], kernel_size=k, dilation=d, padding=p, stride=s)
    print('{"%s", %s, {%d, %d}, {%d, %d}, {%d, %d}, {%d, %d}, %s, %s, %s, %s},' % (
        name, shp(x), *k, *d, *p, *s, shp(u), lit(u), shp(fo), lit(fo)))

# A bigger case checked by weighted sums: sum(unfold(x) * seq(., 9)), sum(fold(c) * seq(., 10)).
sx, k, d, p, s = (2, 3, 7, 6), (3, 2), (2, 1), (2, 1), (1, 2)
x = seq(sx, 7)
u = F.unfold(x, kernel_size=k, dilation=d, padding=p, stride=s)
cols = seq(tuple(u.shape), 8)
fo = F.fold(cols, output_size=sx[2:], kernel_size=k, dilation=d, padding=p, stride=s)
print("big unfold shape", shp(u), "weighted sum %.17g" % (u * seq(tuple(u.shape), 9)).sum().item())
print("big fold shape", shp(fo), "weighted sum %.17g" % (fo * seq(tuple(fo.shape), 10)).sum().item())
