"""Reference values for tests/test_tensor_api.cpp, from PyTorch (python3-torch 1.13).

Run with
    /usr/bin/python3 tests/reference/tensor_api_reference.py > tests/reference/tensor_api_reference_data.hpp
and commit the header: the C++ tests do not need Python. The inputs are fixed formulas printed
into the header too ("x", "t", "nan", ...), and the C++ test builds its tensors from them.
Everything is float64 (indices and counts are stored as doubles). Names: "<op>.<case>".
"""
import math

import torch
from torch import einsum

torch.set_default_dtype(torch.float64)

ENTRIES = []


def wave(shape, a, b, scale):
    n = math.prod(shape)
    return torch.tensor([scale * math.sin(a * i + b) for i in range(n)]).reshape(shape)


def put(name, t):
    ENTRIES.append((name, list(t.shape), t.detach().double().reshape(-1).tolist()))


def lit(v):
    if math.isnan(v):
        return "NAN"
    if math.isinf(v):
        return "INFINITY" if v > 0 else "-INFINITY"
    return repr(float("%.17g" % v))


# ---- inputs ------------------------------------------------------------------------------
x = wave((2, 3, 4), 1.7, 0.3, 2.0)  # distinct values
t = torch.tensor([[1.0, 3.0, 3.0, 0.0, 3.0], [2.0, 2.0, -1.0, 2.0, -1.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
nan = torch.tensor([[1.0, float("nan"), 3.0, float("nan")], [2.0, 5.0, 5.0, -1.0]])
m = wave((3, 4), 0.9, -0.4, 1.5)
a = wave((2, 3, 4), 1.1, 0.2, 1.0)
b = wave((2, 4, 5), 0.7, -0.5, 1.0)
q = wave((2, 2, 3, 4), 1.3, 0.1, 1.0)  # [b, h, q, d]
k = wave((2, 2, 5, 4), 0.8, 0.6, 1.0)  # [b, h, k, d]
v = wave((2, 2, 5, 4), 0.5, -0.9, 1.0)  # [b, h, k, d]
p = wave((2, 2, 3, 5), 1.9, 0.4, 1.0)  # [b, h, q, k]
u = wave((3, 4), 0.6, 0.8, 1.0)
w = wave((4, 2), 1.4, -0.3, 1.0)
for name, val in [("x", x), ("t", t), ("nan", nan), ("m", m), ("a", a), ("b", b), ("q", q),
                  ("k", k), ("v", v), ("p", p), ("u", u), ("w", w)]:
    put(name, val)

# ---- single-dim reductions ----------------------------------------------------------------
put("sum.1", x.sum(1))
put("sum.-1.keepdim", x.sum(-1, keepdim=True))
put("mean.1.keepdim", x.mean(1, keepdim=True))
put("mean.-2", x.mean(-2))
put("var.1", x.var(1))
put("std.-1.keepdim", x.std(-1, keepdim=True))
put("logsumexp.2", x.logsumexp(2))
put("amax.1", x.amax(1))
put("amin.-1.keepdim", x.amin(-1, keepdim=True))

# ---- max / min with indices -------------------------------------------------------------
r = x.max(1)
put("max.1.values", r.values)
put("max.1.indices", r.indices)
r = x.min(-1, keepdim=True)
put("min.-1.keepdim.values", r.values)
put("min.-1.keepdim.indices", r.indices)
r = t.max(1)
put("max.ties.values", r.values)
put("max.ties.indices", r.indices)
r = t.min(0)
put("min.ties.values", r.values)
put("min.ties.indices", r.indices)
r = nan.max(1)
put("max.nan.values", r.values)
put("max.nan.indices", r.indices)
r = nan.min(1)
put("min.nan.values", r.values)
put("min.nan.indices", r.indices)
xg = x.clone().requires_grad_()
xg.max(1).values.sum().backward()
put("max.1.grad", xg.grad)
tg = t.clone().requires_grad_()
(tg.max(1).values * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
put("max.ties.grad", tg.grad)

# ---- softmax ----------------------------------------------------------------------------
put("softmax.1", x.softmax(1))
put("log_softmax.-1", x.log_softmax(-1))

# ---- bool reductions --------------------------------------------------------------------
pred = torch.tensor([0, 2, 1, 1, 0, 2])
y = torch.tensor([0, 1, 1, 1, 2, 2])
put("bool.count", (pred == y).sum())
mask = m > 0
put("bool.sum.1", mask.sum(1))
put("any.1", mask.any(1))
put("all.0", (m > -1.2).all(0))
put("any.all", mask.any())
put("all.all", mask.all())

# ---- cumsum, tril / triu, masked_fill ----------------------------------------------------
put("cumsum.1", x.cumsum(1))
put("cumsum.-1", x.cumsum(-1))
put("tril.0", m.tril())
put("tril.-1", m.tril(-1))
put("triu.1", m.triu(1))
put("triu.batch", x.triu())
put("masked_fill", m.masked_fill(m > 0.5, -7.0))
put("masked_fill.row", m.masked_fill(torch.tensor([True, False, False, True]), 2.5))

# ---- sort and topk ----------------------------------------------------------------------
r = t.sort(dim=1, stable=True)
put("sort.1.values", r.values)
put("sort.1.indices", r.indices)
r = t.sort(dim=0, descending=True, stable=True)
put("sort.0.desc.values", r.values)
put("sort.0.desc.indices", r.indices)
r = nan.sort(1)
put("sort.nan.values", r.values)
put("sort.nan.indices", r.indices)
r = nan.sort(1, descending=True)
put("sort.nan.desc.values", r.values)
put("sort.nan.desc.indices", r.indices)
r = x.topk(2)
put("topk.2.values", r.values)
put("topk.2.indices", r.indices)
r = x.topk(2, dim=1, largest=False)
put("topk.2.1.smallest.values", r.values)
put("topk.2.1.smallest.indices", r.indices)
xg = x.clone().requires_grad_()
(x.topk(3, dim=-1).values * 0 + xg.topk(3, dim=-1).values * wave((2, 3, 3), 0.3, 0.1, 1.0)).sum().backward()
put("topk.3.grad", xg.grad)

# ---- einsum -----------------------------------------------------------------------------
put("einsum.bij,bjk->bik", einsum("bij,bjk->bik", a, b))
put("einsum.bhqd,bhkd->bhqk", einsum("bhqd,bhkd->bhqk", q, k))
put("einsum.bhqk,bhkd->bhqd", einsum("bhqk,bhkd->bhqd", p, v))
put("einsum.ij,jk->ik", einsum("ij,jk->ik", u, w))
put("einsum.bi,bi->b", einsum("bi,bi->b", u, m))
put("einsum.ij->ji", einsum("ij->ji", u))
put("einsum.ij->", einsum("ij->", u))
put("einsum.ij,jk", einsum("ij,jk", u, w))
put("einsum.i,j->ij", einsum("i,j->ij", u[0], w[:, 1]))
put("einsum.ij,jk,kl->il", einsum("ij,jk,kl->il", u, w, w.t()))

# ---- indexing ---------------------------------------------------------------------------
put("index.0:2,1,None,...", x[0:2, 1, None, ...])
put("index....,::2", x[..., ::2])
put("index.:,-1", x[:, -1])
put("index.1,1:,None", x[1, 1:, None])
put("index.-1,:,1:4:2", x[-1, :, 1:4:2])
put("index.tensor", x[:, torch.tensor([[2, 0], [-1, 1]])])
put("index.tensor.0d", x[torch.tensor(1)])
put("index.mask", m[m > 0.3])
put("index.mask.rows", x[torch.tensor([True, False]), 1])
put("index.mask.2d", x[x[:, :, 0] > 0])
put("index.pairs", m[torch.tensor([0, 1, 1]), torch.tensor([3, 0, 2])])
put("index.pairs.broadcast", m[torch.tensor([[0], [2]]), torch.tensor([1, -1])])
put("index.adjacent", x[:, torch.tensor([0, 2]), torch.tensor([1, 3])])
put("index.separated", x[torch.tensor([1, 0]), :, torch.tensor([3, 2])])
put("index.int.between", x[torch.tensor([1, 0]), 1, torch.tensor([3, -2])])
put("index.mask.and.tensor", x[torch.tensor([True, True]), :, torch.tensor([0, 1])])
put("index.mask.0d", m[torch.tensor(True)])
mg = m.clone().requires_grad_()
(mg[torch.tensor([0, 1, 1, 0]), torch.tensor([3, 0, 0, 3])] * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
put("index.grad.pairs", mg.grad)
xg = x.clone().requires_grad_()
(xg[0:2, 1, None, ...] * 2.0).sum().backward()
xg2 = x.clone().requires_grad_()
(xg2[:, torch.tensor([2, 0, 2])] ** 2).sum().backward()
put("index.grad.basic", xg.grad)
put("index.grad.tensor", xg2.grad)
z = torch.zeros(3, 4)
z[1:, torch.tensor([0, 3])] = torch.tensor([1.0, 2.0])
z[0, ...] = 5.0
z[z == 0] = -1.0
z[torch.arange(3), torch.tensor([0, 1, 2])] = torch.tensor([7.0, 8.0, 9.0])
put("index_put", z)

print("// Generated by tests/reference/tensor_api_reference.py with torch %s; do not edit." % torch.__version__)
print("// Regenerate: /usr/bin/python3 tests/reference/tensor_api_reference.py > tests/reference/tensor_api_reference_data.hpp")
print("""#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace tensor_api_reference {

struct Entry {
    std::string name;
    std::vector<std::int64_t> shape;
    std::vector<double> values;  // row-major
};

inline const std::vector<Entry> kEntries = {""")
for name, shape, vals in ENTRIES:
    print('    {"%s", {%s}, {%s}},' % (name, ", ".join(map(str, shape)), ", ".join(lit(val) for val in vals)))
print("""};

}  // namespace tensor_api_reference""")
