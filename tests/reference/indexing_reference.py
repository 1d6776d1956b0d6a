#!/usr/bin/python3
"""Reference values for tests/test_indexing.cpp, computed with PyTorch (1.13) in float64.

Run with /usr/bin/python3 (it has torch); the printed lists are pasted into the C++ test as
literals, so the C++ test does not need Python.
"""
import torch
import torch.nn.functional as F

torch.set_printoptions(precision=17)
D = torch.float64


def t(values, **kw):
    return torch.tensor(values, dtype=D, **kw)


def show(name, x):
    flat = ", ".join(repr(float(v)) if x.is_floating_point() else str(int(v))
                     for v in x.detach().reshape(-1).tolist())
    print(f"{name}: shape {list(x.shape)} {{{flat}}}")


X34 = [[0.5, -1.25, 2.0, 3.5], [-0.75, 1.5, -2.25, 0.25], [4.0, -3.0, 1.75, -0.5]]
W = lambda shape: (torch.arange(torch.Size(shape).numel(), dtype=D).reshape(shape) * 0.25 - 1.0)

# slice / narrow / select on arange(24) as [2, 3, 4]
a = torch.arange(24, dtype=D).reshape(2, 3, 4)
show("slice_step2", a[:, :, 1:4:2])
show("slice_neg", a[:, -2:10])
show("slice_negend", a[..., -3:-1])
show("slice_step3", a[:, :, 0::3])
show("narrow", a.narrow(1, 1, 2))
show("select", a.select(1, -1))

# index_select with repeated indices, and its gradient
x = t(X34, requires_grad=True)
y = x.index_select(0, torch.tensor([2, 0, 2]))
show("index_select0", y)
(y * W([3, 4])).sum().backward()
show("index_select0_grad", x.grad)
show("index_select1", t(X34).index_select(1, torch.tensor([3, 3, 1])))

# gather
x = t(X34, requires_grad=True)
i1 = torch.tensor([[0, 3, 3], [2, 2, 1], [1, 0, 0]])
show("gather1", x.gather(1, i1))
i0 = torch.tensor([[2, 0, 1, 1], [0, 0, 2, 1]])
y = x.gather(0, i0)
show("gather0", y)
(y * W([2, 4])).sum().backward()
show("gather0_grad", x.grad)

# scatter_add with duplicate indices (positions collide), and its gradients
x = t(X34, requires_grad=True)
src = t([[1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 40.0]], requires_grad=True)
idx = torch.tensor([[0, 1, 2, 0], [0, 1, 0, 0]])
y = x.scatter_add(0, idx, src)
show("scatter_add0", y)
(y * y * W([3, 4])).sum().backward()
show("scatter_add0_grad_x", x.grad)
show("scatter_add0_grad_src", src.grad)
# src larger than index: only src[:, :2] is used
x = t(X34, requires_grad=True)
src = t([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [0.5, 0.5, 0.5]], requires_grad=True)
idx = torch.tensor([[3, 3], [0, 1], [2, 3]])
y = x.scatter_add(1, idx, src)
show("scatter_add1", y)
# PyTorch 1.13's own backward rejects this case (it returns gather(g) of index's shape [3, 2]
# for src [4, 3]); the gradient is gather(g) in the used corner of src and zero elsewhere.
w = W([3, 4])
g_src = torch.zeros(4, 3, dtype=D)
g_src[:3, :2] = w.gather(1, idx)
show("scatter_add1_grad_src", g_src)

# index_add with duplicate indices
x = t(X34, requires_grad=True)
src = t([[1.0, -2.0, 0.5], [3.0, 4.0, -1.5], [2.5, 0.0, 6.0]], requires_grad=True)
y = x.index_add(1, torch.tensor([0, 2, 0]), src)
show("index_add1", y)
(y * y * W([3, 4])).sum().backward()
show("index_add1_grad_x", x.grad)
show("index_add1_grad_src", src.grad)

# pad: positive, mixed and negative
x = t([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
y = F.pad(x, (1, 2, -1, 1), value=0.5)
show("pad_mixed", y)
(y * W([2, 6])).sum().backward()
show("pad_mixed_grad", x.grad)
show("pad_pos", F.pad(t([[1.0, 2.0], [3.0, 4.0]]), (1, 1, 1, 0), value=-1.0))
x = t([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]], requires_grad=True)
y = F.pad(x, (-1, -2))
show("pad_crop", y)
(y * W([2, 1])).sum().backward()
show("pad_crop_grad", x.grad)
show("pad_3d", F.pad(torch.arange(8, dtype=D).reshape(2, 2, 2), (0, 1, 1, 0, 1, 0)))

# second derivatives: d/dx of grad(sum(gather(x)^2 * w)) . v
x = t(X34, requires_grad=True)
y = (x.gather(1, i1) ** 2 * W([3, 3])).sum()
(g,) = torch.autograd.grad(y, x, create_graph=True)
show("gather_sq_grad", g)
(g * W([3, 4])).sum().backward()
show("gather_sq_gradgrad", x.grad)
