"""Reference values for tests/test_nn_activation.cpp and tests/test_nn_loss.cpp (torch 1.13).

Run with /usr/bin/python3 tests/reference/nn_activation_loss_reference.py; it prints C++
constants (`const std::vector<double> kName = {...};`, flattened row-major) that are pasted
into the two test files, so the C++ tests do not need Python. Inputs are fixed formulas and are
printed as literals too, so both sides compute on exactly the same float64 numbers.
"""
import math
import warnings

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
# kl_div's "mean" reduction is deliberately covered; its advice to use batchmean is noise here.
warnings.filterwarnings("ignore", message="reduction: 'mean' divides")


def lit(t):
    vals = []
    for v in torch.as_tensor(t).detach().reshape(-1).tolist():
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


def const(name, t, ctype="double"):
    t = torch.as_tensor(t)
    print(f"// shape {list(t.shape)}")
    print(f"const std::vector<{ctype}> {name} = {lit(t)};")


def grad_of(f, *xs):
    """Gradients of f(*xs) (summed if not scalar) with respect to each x."""
    xs = [x.detach().clone().requires_grad_(True) for x in xs]
    out = f(*xs)
    out.sum().backward()
    return [x.grad for x in xs]


def section(title):
    print()
    print(f"// ---- {title} " + "-" * max(0, 84 - len(title)))


# =========================================================================================
print("// ======== activations (tests/test_nn_activation.cpp) ========")
i = torch.arange(12, dtype=torch.float64)
x = (torch.sin(1.3 * i + 0.4) * 3.0 + 0.1 * i - 0.35).reshape(3, 4)
assert (x.abs() > 1e-3).all() and ((x.abs() - 1).abs() > 1e-3).all()
const("kX", x)

acts = [
    ("kSigmoid", torch.sigmoid),
    ("kTanh", torch.tanh),
    ("kRelu", F.relu),
    ("kLeakyRelu", F.leaky_relu),
    ("kLeakyRelu02", lambda t: F.leaky_relu(t, 0.2)),
    ("kElu", F.elu),
    ("kElu05", lambda t: F.elu(t, 0.5)),
    ("kSelu", F.selu),
    ("kGelu", F.gelu),
    ("kGeluTanh", lambda t: F.gelu(t, approximate="tanh")),
    ("kSilu", F.silu),
    ("kSoftplus", F.softplus),
    ("kSoftplusB2T3", lambda t: F.softplus(t, beta=2.0, threshold=3.0)),
    ("kMish", F.mish),
    ("kHardtanh", F.hardtanh),
    ("kHardtanhM05P2", lambda t: F.hardtanh(t, -0.5, 2.0)),
    ("kSoftmax1", lambda t: F.softmax(t, 1)),
    ("kSoftmax0", lambda t: F.softmax(t, 0)),
    ("kLogSoftmax1", lambda t: F.log_softmax(t, 1)),
    ("kLogSoftmaxM2", lambda t: F.log_softmax(t, -2)),
]
for name, f in acts:
    const(name, f(x))

section("gradients of sum(f(x) * w) at and around the kinks")
xk = torch.tensor([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 30.0])
w = torch.linspace(0.5, 2.0, 8)
const("kXk", xk)
const("kWk", w)
kinks = [
    ("kGradRelu", F.relu),
    ("kGradLeakyRelu", lambda t: F.leaky_relu(t, 0.1)),
    ("kGradElu", lambda t: F.elu(t, 0.7)),
    ("kGradSelu", F.selu),
    ("kGradHardtanh", F.hardtanh),
    ("kGradSoftplus", F.softplus),
    ("kGradSoftplusB2T3", lambda t: F.softplus(t, beta=2.0, threshold=3.0)),
    ("kGradGelu", F.gelu),
    ("kGradGeluTanh", lambda t: F.gelu(t, approximate="tanh")),
    ("kGradMish", F.mish),
    ("kGradSilu", F.silu),
]
for name, f in kinks:
    (g,) = grad_of(lambda t: f(t) * w, xk)
    const(name, g)
(g,) = grad_of(lambda t: F.softmax(t, 1) * x.flip(1), x)
const("kGradSoftmax1", g)
(g,) = grad_of(lambda t: F.log_softmax(t, 0) * x.flip(0), x)
const("kGradLogSoftmax0", g)

section("stability: logits of +-1000")
big = torch.tensor([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -999.0]])
const("kBig", big)
const("kBigLogSoftmax", F.log_softmax(big, 1))
const("kBigSoftmax", F.softmax(big, 1))
const("kBigSoftplus", F.softplus(big.reshape(-1)))
const("kBigGelu", F.gelu(big.reshape(-1)))
const("kBigMish", F.mish(big.reshape(-1)))
const("kBigElu", F.elu(big.reshape(-1)))

# =========================================================================================
print()
print("// ======== costs (tests/test_nn_loss.cpp) ========")
j = torch.arange(12, dtype=torch.float64)
a = (torch.sin(0.9 * j + 0.2) * 2.0).reshape(3, 4)
b = (torch.cos(0.7 * j - 0.3) * 1.5 + 0.2).reshape(3, 4)
const("kA", a)
const("kB", b)
RED = ["none", "mean", "sum"]


def all_reductions(prefix, f):
    for r in RED:
        const(f"{prefix}{r.capitalize()}", f(r))


section("mse / l1 / smooth_l1 / huber")
all_reductions("kMse", lambda r: F.mse_loss(a, b, reduction=r))
all_reductions("kL1", lambda r: F.l1_loss(a, b, reduction=r))
all_reductions("kSmoothL1", lambda r: F.smooth_l1_loss(a, b, reduction=r))
all_reductions("kSmoothL1B05", lambda r: F.smooth_l1_loss(a, b, reduction=r, beta=0.5))
const("kSmoothL1B0Mean", F.smooth_l1_loss(a, b, beta=0.0))
all_reductions("kHuber", lambda r: F.huber_loss(a, b, reduction=r))
all_reductions("kHuberD07", lambda r: F.huber_loss(a, b, reduction=r, delta=0.7))
ga, gb = grad_of(lambda p, q: F.mse_loss(p, q), a, b)
const("kGradMseA", ga)
const("kGradMseB", gb)
(ga,) = grad_of(lambda p: F.l1_loss(p, b, reduction="sum"), a)
const("kGradL1SumA", ga)
(ga,) = grad_of(lambda p: F.smooth_l1_loss(p, b, beta=0.5), a)
const("kGradSmoothL1B05A", ga)
(ga,) = grad_of(lambda p: F.huber_loss(p, b, delta=0.7), a)
const("kGradHuberD07A", ga)

section("binary_cross_entropy")
p = torch.sigmoid(a)
t = (torch.sin(1.1 * j) * 0.5 + 0.5).reshape(3, 4)
bw = torch.tensor([0.5, 1.0, 2.0, 1.5])
const("kBceT", t)
const("kBceW", bw)
all_reductions("kBce", lambda r: F.binary_cross_entropy(p, t, reduction=r))
all_reductions("kBceWeighted", lambda r: F.binary_cross_entropy(p, t, weight=bw, reduction=r))
(g,) = grad_of(lambda q: F.binary_cross_entropy(q, t), p)
const("kGradBceP", g)
(g,) = grad_of(lambda q: F.binary_cross_entropy(q, t, weight=bw, reduction="sum"), p)
const("kGradBceWeightedSumP", g)
(g,) = grad_of(lambda z: F.binary_cross_entropy(torch.sigmoid(z), t), a)
const("kGradBceThroughSigmoidA", g)
pe = torch.tensor([0.0, 1.0, 0.0, 1.0, 1e-50, 0.5])
te = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 0.25])
const("kBceEdgeP", pe)
const("kBceEdgeT", te)
const("kBceEdgeNone", F.binary_cross_entropy(pe, te, reduction="none"))

section("binary_cross_entropy_with_logits")
pw = torch.tensor([1.0, 3.0, 0.5, 2.0])
const("kBcePosW", pw)
all_reductions("kBceLogits", lambda r: F.binary_cross_entropy_with_logits(a, t, reduction=r))
all_reductions("kBceLogitsPos",
               lambda r: F.binary_cross_entropy_with_logits(a, t, pos_weight=pw, reduction=r))
all_reductions("kBceLogitsPosW",
               lambda r: F.binary_cross_entropy_with_logits(a, t, weight=bw, pos_weight=pw,
                                                            reduction=r))
(g,) = grad_of(lambda z: F.binary_cross_entropy_with_logits(z, t), a)
const("kGradBceLogitsA", g)
(g,) = grad_of(lambda z: F.binary_cross_entropy_with_logits(z, t, weight=bw, pos_weight=pw), a)
const("kGradBceLogitsPosWA", g)
zb = torch.tensor([1000.0, -1000.0, 1000.0, -1000.0, 0.0])
tb = torch.tensor([1.0, 1.0, 0.0, 0.0, 1.0])
const("kBigLogits", zb)
const("kBigLogitsT", tb)
const("kBceLogitsBigNone", F.binary_cross_entropy_with_logits(zb, tb, reduction="none"))
(g,) = grad_of(lambda z: F.binary_cross_entropy_with_logits(z, tb, reduction="sum"), zb)
const("kGradBceLogitsBig", g)

section("cross_entropy with class indices, logits [4, 5]")
k = torch.arange(20, dtype=torch.float64)
logits = (torch.sin(0.37 * k + 1.0) * 2.5 + 0.1 * k).reshape(4, 5)
y = torch.tensor([1, 0, 4, 2])
yi = torch.tensor([1, -100, 4, 2])
yc = torch.tensor([1, 2, 4, 2])
cw = torch.tensor([0.2, 1.0, 0.5, 2.0, 1.5])
const("kLogits", logits)
const("kY", y, "std::int64_t")
const("kYIgnored", yi, "std::int64_t")
const("kYCustom", yc, "std::int64_t")
const("kClassW", cw)
all_reductions("kCe", lambda r: F.cross_entropy(logits, y, reduction=r))
all_reductions("kCeW", lambda r: F.cross_entropy(logits, y, weight=cw, reduction=r))
all_reductions("kCeIgn", lambda r: F.cross_entropy(logits, yi, reduction=r))
all_reductions("kCeWIgn", lambda r: F.cross_entropy(logits, yi, weight=cw, reduction=r))
all_reductions("kCeIgn2", lambda r: F.cross_entropy(logits, yc, ignore_index=2, reduction=r))
all_reductions("kCeLs", lambda r: F.cross_entropy(logits, y, label_smoothing=0.1, reduction=r))
all_reductions("kCeWIgnLs",
               lambda r: F.cross_entropy(logits, yi, weight=cw, label_smoothing=0.2, reduction=r))
(g,) = grad_of(lambda z: F.cross_entropy(z, y), logits)
const("kGradCe", g)
(g,) = grad_of(lambda z: F.cross_entropy(z, yi, weight=cw, label_smoothing=0.2), logits)
const("kGradCeWIgnLs", g)
(g,) = grad_of(lambda z: F.cross_entropy(z, yc, ignore_index=2, reduction="sum"), logits)
const("kGradCeIgn2Sum", g)

section("cross_entropy with class probabilities")
probs = torch.softmax(torch.cos(0.5 * k).reshape(4, 5) * 2.0, 1)
const("kProbs", probs)
all_reductions("kCeP", lambda r: F.cross_entropy(logits, probs, reduction=r))
all_reductions("kCePWLs",
               lambda r: F.cross_entropy(logits, probs, weight=cw, label_smoothing=0.15,
                                         reduction=r))
(g,) = grad_of(lambda z: F.cross_entropy(z, probs), logits)
const("kGradCeP", g)
(g,) = grad_of(lambda z: F.cross_entropy(z, probs, weight=cw, label_smoothing=0.15), logits)
const("kGradCePWLs", g)

section("cross_entropy [N, C, d] = [2, 3, 4] with targets [2, 4], and one sample [C]")
m = torch.arange(24, dtype=torch.float64)
logits3 = (torch.sin(0.61 * m - 0.4) * 3.0).reshape(2, 3, 4)
y3 = torch.tensor([[0, 2, 1, 1], [2, -100, 0, 1]])
cw3 = torch.tensor([1.0, 0.25, 2.0])
const("kLogits3", logits3)
const("kY3", y3, "std::int64_t")
const("kClassW3", cw3)
all_reductions("kCe3", lambda r: F.cross_entropy(logits3, y3, reduction=r))
all_reductions("kCe3WLs",
               lambda r: F.cross_entropy(logits3, y3, weight=cw3, label_smoothing=0.1,
                                         reduction=r))
(g,) = grad_of(lambda z: F.cross_entropy(z, y3, weight=cw3, label_smoothing=0.1), logits3)
const("kGradCe3WLs", g)
probs3 = torch.softmax(torch.cos(0.3 * m).reshape(2, 3, 4), 1)
const("kProbs3", probs3)
all_reductions("kCe3P", lambda r: F.cross_entropy(logits3, probs3, reduction=r))
single = logits[2]
all_reductions("kCeSingle", lambda r: F.cross_entropy(single, torch.tensor(3), reduction=r))

section("cross_entropy stability: logits of +-1000")
lb = torch.tensor([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0], [-1000.0, -1000.0, -1000.0]])
yb = torch.tensor([0, 2, 1])
const("kBigCeLogits", lb)
const("kBigCeY", yb, "std::int64_t")
const("kBigCeNone", F.cross_entropy(lb, yb, reduction="none"))
(g,) = grad_of(lambda z: F.cross_entropy(z, yb, reduction="sum"), lb)
const("kGradBigCe", g)

section("nll_loss")
logp = F.log_softmax(logits, 1)
all_reductions("kNll", lambda r: F.nll_loss(logp, y, reduction=r))
all_reductions("kNllWIgn", lambda r: F.nll_loss(logp, yi, weight=cw, reduction=r))
logp3 = F.log_softmax(logits3, 1)
all_reductions("kNll3W", lambda r: F.nll_loss(logp3, y3, weight=cw3, reduction=r))
(g,) = grad_of(lambda q: F.nll_loss(q, yi, weight=cw), logp)
const("kGradNllWIgn", g)

section("kl_div")
q_log = F.log_softmax(logits, 1)
p_t = probs.clone()
p_t[1, 3] = 0.0
const("kKlTarget", p_t)
for r in ["none", "mean", "sum", "batchmean"]:
    const(f"kKl{r.capitalize()}", F.kl_div(q_log, p_t, reduction=r))
    const(f"kKlLog{r.capitalize()}",
          F.kl_div(q_log, torch.log(probs), reduction=r, log_target=True))
ga, gb = grad_of(lambda q, s: F.kl_div(q, s, reduction="batchmean"), q_log, p_t)
const("kGradKlInput", ga)
const("kGradKlTarget", gb)
ga, gb = grad_of(lambda q, s: F.kl_div(q, s, reduction="sum", log_target=True), q_log,
                 torch.log(probs))
const("kGradKlLogInput", ga)
const("kGradKlLogTarget", gb)

section("cosine_embedding_loss, margin_ranking_loss, hinge_embedding_loss")
ce_y = torch.tensor([1, -1, -1])
const("kCosY", ce_y, "std::int64_t")
for mg, tag in [(0.0, ""), (0.2, "M02")]:
    all_reductions(f"kCos{tag}", lambda r: F.cosine_embedding_loss(a, b, ce_y, margin=mg,
                                                                   reduction=r))
g1, g2 = grad_of(lambda u, v: F.cosine_embedding_loss(u, v, ce_y, margin=0.2), a, b)
const("kGradCosX1", g1)
const("kGradCosX2", g2)
const("kCosSingle", F.cosine_embedding_loss(a[0], b[0], torch.tensor(-1), margin=-0.5))

r1 = torch.tensor([0.3, -1.2, 2.0, 0.5, -0.7, 1.1])
r2 = torch.tensor([0.1, 0.4, 2.5, -0.5, -0.2, 1.0])
ry = torch.tensor([1.0, -1.0, 1.0, -1.0, -1.0, 1.0])
const("kRank1", r1)
const("kRank2", r2)
const("kRankY", ry)
for mg, tag in [(0.0, ""), (0.5, "M05")]:
    all_reductions(f"kRank{tag}", lambda r: F.margin_ranking_loss(r1, r2, ry, margin=mg,
                                                                  reduction=r))
g1, g2 = grad_of(lambda u, v: F.margin_ranking_loss(u, v, ry, margin=0.5), r1, r2)
const("kGradRankX1", g1)
const("kGradRankX2", g2)

hx = torch.tensor([0.3, -1.2, 2.0, 0.5, -0.7, 1.6])
const("kHingeX", hx)
for mg, tag in [(1.0, ""), (0.5, "M05")]:
    all_reductions(f"kHinge{tag}", lambda r: F.hinge_embedding_loss(hx, ry, margin=mg,
                                                                    reduction=r))
(g,) = grad_of(lambda u: F.hinge_embedding_loss(u, ry), hx)
const("kGradHinge", g)
