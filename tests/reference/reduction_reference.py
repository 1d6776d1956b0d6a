"""Reference values for tests/test_reduction.cpp, from PyTorch (torch 1.13).

Run with /usr/bin/python3 tests/reference/reduction_reference.py and paste the printed
literals into the C++ test (which does not need Python). Inputs are fixed formulas printed
as literals too, so the C++ side builds exactly the same tensors.
"""
import math

import torch

torch.set_printoptions(precision=17)


def lit(t):
    """C++ initializer list of the flattened values, 17 significant digits."""
    vals = []
    for v in t.detach().reshape(-1).tolist():
        if isinstance(v, bool):
            vals.append("1" if v else "0")
        elif isinstance(v, int):
            vals.append(str(v))
        elif math.isnan(v):
            vals.append("NAN")
        elif math.isinf(v):
            vals.append("INFINITY" if v > 0 else "-INFINITY")
        else:
            vals.append(repr(float("%.17g" % v)))
    return "{" + ", ".join(vals) + "}"


def show(name, t):
    print(f"// {name}: shape {list(t.shape)}")
    print(f"{lit(t)}")


# x: [2, 3, 4] float64 with distinct, non-trivial values.
i = torch.arange(24, dtype=torch.float64)
x = (torch.sin(1.7 * i + 0.3) * 3.0 + 0.05 * i).reshape(2, 3, 4)
show("x", x)

show("sum all", x.sum())
show("sum dim 1", x.sum(1))
show("sum dims {0, 2}", x.sum((0, 2)))
show("sum dim -1 keepdim", x.sum(-1, keepdim=True))
show("mean all", x.mean())
show("mean dims {-1, 0}", x.mean((-1, 0)))
show("mean dim 1 keepdim", x.mean(1, keepdim=True))

show("amax all", x.amax())
show("amax dim 1", x.amax(1))
show("amax dims {0, -1}", x.amax((0, -1)))
show("amax dim 0 keepdim", x.amax(0, keepdim=True))
show("amin all", x.amin())
show("amin dim 2", x.amin(2))
show("amin dims {1, 2} keepdim", x.amin((1, 2), keepdim=True))

show("argmax flat", x.argmax())
show("argmax dim 1", x.argmax(1))
show("argmax dim -1 keepdim", x.argmax(-1, keepdim=True))
show("argmin flat", x.argmin())
show("argmin dim 0", x.argmin(0))
show("argmin dim 2", x.argmin(2))

show("var all", x.var())
show("var dim 1", x.var(1))
show("var dims {0, 2} correction 0", torch.var(x, (0, 2), correction=0))
show("var dim -1 keepdim correction 2", torch.var(x, -1, correction=2, keepdim=True))
show("std all", x.std())
show("std dim 2 correction 0", torch.std(x, 2, correction=0))
show("std dims {0, 1} keepdim", torch.std(x, (0, 1), keepdim=True))

show("logsumexp all", torch.logsumexp(x, (0, 1, 2)))
show("logsumexp dim 1", torch.logsumexp(x, 1))
show("logsumexp dims {0, 2} keepdim", torch.logsumexp(x, (0, 2), keepdim=True))

# Gradients (seed = ones) for a few reductions of x.
for name, f in [
    ("grad var dim 1", lambda t: t.var(1)),
    ("grad std all", lambda t: t.std()),
    ("grad logsumexp dim -1", lambda t: torch.logsumexp(t, -1)),
]:
    xr = x.clone().requires_grad_()
    f(xr).sum().backward()
    show(name, xr.grad)

# Weighted gradient of a broadcasting composite: sum(w * (x - mean(x, 1, keepdim))^2).
xb = x[0].clone().requires_grad_()  # [3, 4]
w = torch.arange(12, dtype=torch.float64).reshape(3, 4) / 7.0 - 0.5
((w * (xb - xb.mean(1, keepdim=True)) ** 2).sum()).backward()
show("grad broadcast composite", xb.grad)

# Ties: the gradient is split evenly.
t = torch.tensor([1.0, 3.0, 3.0], dtype=torch.float64, requires_grad=True)
t.amax().backward()
show("grad amax [1, 3, 3]", t.grad)
t2 = torch.tensor([[2.0, -1.0, 3.0, -1.0], [0.5, 0.5, 3.0, 0.5]], dtype=torch.float64,
                  requires_grad=True)
(t2.amin(1) * torch.tensor([1.0, 10.0], dtype=torch.float64)).sum().backward()
show("grad amin dim 1 of t2 with g [1, 10]", t2.grad)
t3 = t2.detach().clone().requires_grad_()
t3.amax(0, keepdim=True).sum().backward()
show("grad amax dim 0 keepdim of t2", t3.grad)

# logsumexp stability.
show("logsumexp [1000, 1000]", torch.logsumexp(torch.tensor([1000.0, 1000.0]), 0))
rows = torch.tensor([[-math.inf, -math.inf, -math.inf], [1.0, 2.0, 3.0], [-1e30, 5.0, -math.inf]],
                    dtype=torch.float64)
show("logsumexp rows with -inf", torch.logsumexp(rows, 1))
show("logsumexp float32 [88, 89, 90]", torch.logsumexp(torch.tensor([88.0, 89.0, 90.0]), 0))

# var with N - correction <= 0.
show("var [2] (N=1, correction 1)", torch.var(torch.tensor([2.0])))
show("var [2, 3] correction 3", torch.var(torch.tensor([2.0, 3.0]), 0, correction=3))
show("var [2, 3] correction -1", torch.var(torch.tensor([2.0, 3.0]), 0, correction=-1))

# float32 sum of 10^6 values 0.1f.
s = torch.full((1000000,), 0.1, dtype=torch.float32).sum()
show("float32 sum of 1e6 x 0.1f", s)
show("exact float64 sum of 1e6 x float32(0.1)",
     torch.full((1000000,), 0.1, dtype=torch.float32).double().sum())
