"""Reference values for the optim tests (tests/test_optim.cpp, tests/test_lr_scheduler.cpp,
tests/test_clip_grad.cpp), from PyTorch (python3-torch 1.13).

Run with
    /usr/bin/python3 tests/reference/optim_reference.py > tests/reference/optim_reference_data.hpp
and commit the header: the C++ tests do not need Python. Every input (starting points, data,
losses) is a fixed literal or formula printed into the header too, so the C++ side builds exactly
the same problems.

- Optimizers: 20 steps of each optimizer and option set on a quadratic, the Rosenbrock function
  and a small linear-regression loss (float64), plus parameter groups, parameters whose gradient
  is missing on some steps (skipped by step()), and float32 runs.
- Schedulers: 50 steps of each scheduler (and of two chained schedulers) on an SGD optimizer
  with two parameter groups; ReduceLROnPlateau with a fixed loss sequence.
- clip_grad_norm_ (several norm types, clipping and not) and clip_grad_value_.
"""
import math
import sys

import torch

STEPS = 20
SCHED_STEPS = 50


def num(v):
    """A C++ double literal that reads back exactly."""
    v = float(v)
    if math.isnan(v):
        return "NAN"
    if math.isinf(v):
        return "INFINITY" if v > 0 else "-INFINITY"
    r = repr(v)
    if "e" not in r and "." not in r and "inf" not in r:
        r += ".0"
    return r


def vec(values):
    return "{" + ", ".join(num(v) for v in values) + "}"


def flat(t):
    return t.detach().reshape(-1).tolist()


# ---- problems ------------------------------------------------------------------------------

QUAD_Q = [[3.0, 0.5, 0.2], [0.5, 2.0, 0.3], [0.2, 0.3, 1.0]]
QUAD_B = [1.0, -2.0, 0.5]
QUAD_X0 = [1.5, -0.5, 2.0]
ROSEN_X0 = [-0.4, 0.7]
LINREG_X = [[math.sin(1.3 * i + 0.7 * j) + 0.1 * j for j in range(3)] for i in range(6)]
LINREG_Y = [0.5 * i - 1.0 + 0.3 * math.cos(i) for i in range(6)]
LINREG_W0 = [0.1, -0.2, 0.3]
LINREG_B0 = [0.05]


def make_problem(function, dtype):
    """Returns (params, loss_fn) for a fresh copy of the problem."""
    if function == "quadratic":
        x = torch.tensor(QUAD_X0, dtype=dtype).reshape(3, 1).requires_grad_()
        q = torch.tensor(QUAD_Q, dtype=dtype)
        b = torch.tensor(QUAD_B, dtype=dtype).reshape(3, 1)
        return [x], lambda: (x * q.matmul(x)).sum() * 0.5 - (b * x).sum()
    if function == "rosenbrock":
        p = torch.tensor(ROSEN_X0, dtype=dtype).requires_grad_()

        def f():
            x, y = p.select(0, 0), p.select(0, 1)
            return (1.0 - x).pow(2.0) + (y - x.pow(2.0)).pow(2.0) * 100.0

        return [p], f
    # linear regression: mean squared error of X w + b against y
    X = torch.tensor(LINREG_X, dtype=dtype)
    y = torch.tensor(LINREG_Y, dtype=dtype).reshape(6, 1)
    w = torch.tensor(LINREG_W0, dtype=dtype).reshape(3, 1).requires_grad_()
    b = torch.tensor(LINREG_B0, dtype=dtype).requires_grad_()
    return [w, b], lambda: (X.matmul(w) + b - y).pow(2.0).mean()


# ---- optimizer option sets ----------------------------------------------------------------

# (kind, options) with the option names of the xgrad state dict (Adam's betas: beta1, beta2).
CONFIGS = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.03, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.05}),
    ("SGD", {"lr": 0.04, "momentum": 0.9, "nesterov": 1, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.01, "momentum": 0.5, "maximize": 1}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.08, "beta1": 0.8, "beta2": 0.95, "eps": 1e-6, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "amsgrad": 1}),
    ("Adam", {"lr": 0.02, "weight_decay": 0.02, "amsgrad": 1, "maximize": 1}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.08, "beta1": 0.85, "beta2": 0.99, "eps": 1e-7, "weight_decay": 0.3,
               "amsgrad": 1}),
    ("AdamW", {"lr": 0.02, "weight_decay": 0.0, "maximize": 1}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": 1,
                 "weight_decay": 0.01}),
    ("RMSprop", {"lr": 0.005, "centered": 1, "eps": 1e-6}),
    ("RMSprop", {"lr": 0.005, "momentum": 0.9, "maximize": 1}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.2, "lr_decay": 0.05, "weight_decay": 0.01,
                 "initial_accumulator_value": 0.1, "eps": 1e-8}),
    ("Adagrad", {"lr": 0.05, "maximize": 1}),
]

# Learning-rate scale per function: SGD on Rosenbrock needs small steps to stay stable.
LR_SCALE = {("SGD", "rosenbrock"): 0.02}

# Options of the second group (b) in the parameter-group runs.
GROUP1 = {
    "SGD": {"lr": 0.02, "momentum": 0.5, "nesterov": 1},
    "Adam": {"lr": 0.01, "beta1": 0.7, "amsgrad": 1},
    "AdamW": {"lr": 0.01, "weight_decay": 0.5},
    "RMSprop": {"lr": 0.003, "momentum": 0.3},
    "Adagrad": {"lr": 0.3, "lr_decay": 0.1},
}


def torch_optimizer(kind, groups):
    """groups: list of (params, options)."""
    pg = []
    for params, o in groups:
        o = dict(o)
        d = {"params": params}
        if "beta1" in o or "beta2" in o:
            d["betas"] = (o.pop("beta1", 0.9), o.pop("beta2", 0.999))
        for k in ("nesterov", "amsgrad", "centered", "maximize"):
            if k in o:
                d[k] = bool(o.pop(k))
        d.update(o)
        pg.append(d)
    cls = {"SGD": torch.optim.SGD, "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW,
           "RMSprop": torch.optim.RMSprop, "Adagrad": torch.optim.Adagrad}[kind]
    if len(pg) == 1:
        # One group: options as constructor arguments, as users write them. (This matters for
        # Adagrad, which fills its "sum" from the constructor's initial_accumulator_value.)
        kwargs = dict(pg[0])
        return cls(kwargs.pop("params"), **kwargs)
    # torch's SGD requires lr as an argument even when every group sets it
    return cls(pg, lr=pg[0]["lr"])


def run(kind, function, options, options_group1=None, dtype=torch.float64):
    base = "linreg" if function.startswith("linreg") else function
    params, loss_fn = make_problem(base, dtype)
    if function == "linreg_groups":
        opt = torch_optimizer(kind, [([params[0]], options), ([params[1]], options_group1)])
    else:
        opt = torch_optimizer(kind, [(params, options)])
    rows = []
    for k in range(STEPS):
        opt.zero_grad(set_to_none=True)
        loss_fn().backward()
        if function == "linreg_skip" and k % 3 == 1:
            params[1].grad = None  # b gets no gradient: step() must skip it
        opt.step()
        row = []
        for p in params:
            row += flat(p)
        if not all(math.isfinite(v) and abs(v) < 1e3 for v in row):
            raise SystemExit(f"unstable reference: {kind} {options} on {function}: {row}")
        rows.append(row)
    return rows


def optimizer_cases():
    cases = []
    for kind, options in CONFIGS:
        for function in ("quadratic", "rosenbrock", "linreg"):
            o = dict(options)
            o["lr"] *= LR_SCALE.get((kind, function), 1.0)
            cases.append((kind, function, o, {}, run(kind, function, o)))
    for kind, g1 in GROUP1.items():
        options = next(o for k, o in CONFIGS if k == kind)
        cases.append((kind, "linreg_groups", options, g1,
                      run(kind, "linreg_groups", options, g1)))
    for kind, options in CONFIGS:
        if any(k in options for k in ("momentum", "amsgrad", "centered", "lr_decay")):
            cases.append((kind, "linreg_skip", options, {}, run(kind, "linreg_skip", options)))
    for kind in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad"):
        options = [o for k, o in CONFIGS if k == kind][1]
        cases.append((kind, "linreg_f32", options, {},
                      run(kind, "linreg", options, dtype=torch.float32)))
    return cases


# ---- schedulers -----------------------------------------------------------------------------

PLATEAU_LOSSES = [1.0 / (1 + 0.3 * i) + 0.05 * math.sin(1.7 * i) + (0.02 * (i - 25) if i > 25
                                                                    else 0.0)
                  for i in range(SCHED_STEPS)]
PLATEAU_SCORES = [0.5 + 0.4 * (1 - math.exp(-0.15 * i)) + 0.03 * math.cos(2.1 * i)
                  for i in range(SCHED_STEPS)]

S = torch.optim.lr_scheduler
SCHEDULES = [
    ("StepLR", lambda o: [S.StepLR(o, step_size=7, gamma=0.5)]),
    ("MultiStepLR", lambda o: [S.MultiStepLR(o, milestones=[30, 5, 15, 15], gamma=0.3)]),
    ("ExponentialLR", lambda o: [S.ExponentialLR(o, gamma=0.93)]),
    ("CosineAnnealingLR", lambda o: [S.CosineAnnealingLR(o, T_max=20, eta_min=0.001)]),
    ("LinearLR warmup", lambda o: [S.LinearLR(o, start_factor=0.1, end_factor=1.0,
                                              total_iters=10)]),
    ("LinearLR decay", lambda o: [S.LinearLR(o, start_factor=1.0, end_factor=0.2,
                                             total_iters=30)]),
    ("LinearLR + CosineAnnealingLR", lambda o: [S.LinearLR(o, start_factor=0.25, total_iters=5),
                                                S.CosineAnnealingLR(o, T_max=45)]),
    ("ExponentialLR + StepLR", lambda o: [S.ExponentialLR(o, gamma=0.97),
                                          S.StepLR(o, step_size=10, gamma=0.5)]),
    ("MultiStepLR + LinearLR", lambda o: [S.MultiStepLR(o, milestones=[10, 20], gamma=0.5),
                                          S.LinearLR(o, start_factor=0.5, total_iters=4)]),
]


def schedule(make):
    p0 = torch.zeros(2, requires_grad=True)
    p1 = torch.zeros(3, requires_grad=True)
    opt = torch.optim.SGD([{"params": [p0], "lr": 0.1}, {"params": [p1], "lr": 0.02}], lr=0.1)
    scheds = make(opt)
    rows = [[g["lr"] for g in opt.param_groups]]
    for _ in range(SCHED_STEPS):
        opt.step()
        for s in scheds:
            s.step()
        rows.append([g["lr"] for g in opt.param_groups])
    return rows


def plateau(metrics, **kw):
    p0 = torch.zeros(2, requires_grad=True)
    p1 = torch.zeros(3, requires_grad=True)
    opt = torch.optim.SGD([{"params": [p0], "lr": 0.1}, {"params": [p1], "lr": 0.02}], lr=0.1)
    s = S.ReduceLROnPlateau(opt, **kw)
    rows = [[g["lr"] for g in opt.param_groups]]
    for m in metrics:
        opt.step()
        s.step(m)
        rows.append([g["lr"] for g in opt.param_groups])
    return rows


def schedule_cases():
    cases = [(name, schedule(make)) for name, make in SCHEDULES]
    cases.append(("ReduceLROnPlateau min rel",
                  plateau(PLATEAU_LOSSES, mode="min", factor=0.5, patience=3, threshold=0.01,
                          cooldown=2, min_lr=[0.01, 0.001])))
    cases.append(("ReduceLROnPlateau max abs",
                  plateau(PLATEAU_SCORES, mode="max", factor=0.3, patience=2, threshold=0.005,
                          threshold_mode="abs", min_lr=0.004)))
    cases.append(("ReduceLROnPlateau defaults", plateau(PLATEAU_LOSSES)))
    return cases


# ---- gradient clipping ----------------------------------------------------------------------

CLIP_GRADS = [
    [[0.5, -1.25, 2.0], [0.0, 3.5, -0.75]],
    [1.5, -0.25, 0.125, -2.5],
    [4.0],
]


def clip_params():
    ps = []
    for g in CLIP_GRADS:
        t = torch.tensor(g, dtype=torch.float64)
        p = torch.zeros_like(t, requires_grad=True)
        p.grad = t.clone()
        ps.append(p)
    return ps


def clip_cases():
    cases = []
    for norm_type in (2.0, 1.0, 3.5, 0.5, math.inf):
        for max_norm in (1.0, 50.0):
            ps = clip_params()
            total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type).item()
            grads = []
            for p in ps:
                grads += flat(p.grad)
            cases.append((norm_type, max_norm, total, grads))
    return cases


def clip_value_case(value):
    ps = clip_params()
    torch.nn.utils.clip_grad_value_(ps, value)
    grads = []
    for p in ps:
        grads += flat(p.grad)
    return grads


# ---- output ---------------------------------------------------------------------------------

def options_lit(o):
    return "{" + ", ".join("{\"%s\", %s}" % (k, num(v)) for k, v in o.items()) + "}"


def main():
    out = []
    w = out.append
    w("// Generated by tests/reference/optim_reference.py with torch %s; do not edit." %
      torch.__version__)
    w("// Regenerate: /usr/bin/python3 tests/reference/optim_reference.py > "
      "tests/reference/optim_reference_data.hpp")
    w("#pragma once")
    w("#include <string>")
    w("#include <utility>")
    w("#include <vector>")
    w("")
    w("namespace optim_reference {")
    w("")
    w("using Options = std::vector<std::pair<std::string, double>>;")
    w("using Rows = std::vector<std::vector<double>>;")
    w("")
    w("// ---- problems (float64 unless the function name ends in _f32) ----")
    w("inline constexpr int kSteps = %d;" % STEPS)
    w("inline const std::vector<double> quad_Q = %s;  // [3, 3]" % vec(sum(QUAD_Q, [])))
    w("inline const std::vector<double> quad_b = %s;  // [3, 1]" % vec(QUAD_B))
    w("inline const std::vector<double> quad_x0 = %s;  // [3, 1]" % vec(QUAD_X0))
    w("inline const std::vector<double> rosen_x0 = %s;  // [2]" % vec(ROSEN_X0))
    w("inline const std::vector<double> linreg_X = %s;  // [6, 3]" % vec(sum(LINREG_X, [])))
    w("inline const std::vector<double> linreg_y = %s;  // [6, 1]" % vec(LINREG_Y))
    w("inline const std::vector<double> linreg_w0 = %s;  // [3, 1]" % vec(LINREG_W0))
    w("inline const std::vector<double> linreg_b0 = %s;  // [1]" % vec(LINREG_B0))
    w("")
    w("// One run: `kind` with `options` (group 1 of linreg_groups: `options_group1`) for kSteps")
    w("// steps of zero_grad / backward / step on `function`; trajectory[k] holds every parameter,")
    w("// flattened in group order, after step k + 1. linreg_skip drops b's gradient before steps")
    w("// 2, 5, 8, ... (k % 3 == 1); linreg_f32 is linreg in float32.")
    w("struct TrajectoryCase {")
    w("    std::string kind;")
    w("    std::string function;")
    w("    Options options;")
    w("    Options options_group1;")
    w("    Rows trajectory;")
    w("};")
    w("")
    w("inline const std::vector<TrajectoryCase>& trajectory_cases() {")
    w("    static const std::vector<TrajectoryCase> cases = {")
    for kind, function, o, g1, rows in optimizer_cases():
        w("        {\"%s\", \"%s\", %s, %s, {" % (kind, function, options_lit(o), options_lit(g1)))
        for r in rows:
            w("            %s," % vec(r))
        w("        }},")
    w("    };")
    w("    return cases;")
    w("}")
    w("")
    w("// ---- schedulers: SGD with groups of lr 0.1 and 0.02; lrs[0] after construction, lrs[k]")
    w("// after k scheduler steps ----")
    w("inline constexpr int kSchedulerSteps = %d;" % SCHED_STEPS)
    w("inline const std::vector<double> plateau_losses = %s;" % vec(PLATEAU_LOSSES))
    w("inline const std::vector<double> plateau_scores = %s;" % vec(PLATEAU_SCORES))
    w("")
    w("struct ScheduleCase {")
    w("    std::string name;")
    w("    Rows lrs;")
    w("};")
    w("")
    w("inline const std::vector<ScheduleCase>& schedule_cases() {")
    w("    static const std::vector<ScheduleCase> cases = {")
    for name, rows in schedule_cases():
        w("        {\"%s\", {" % name)
        for r in rows:
            w("            %s," % vec(r))
        w("        }},")
    w("    };")
    w("    return cases;")
    w("}")
    w("")
    w("// ---- gradient clipping: gradients [2, 3], [4], [1] (float64) ----")
    w("inline const std::vector<std::vector<double>> clip_grads = {%s, %s, %s};" %
      (vec(sum(CLIP_GRADS[0], [])), vec(CLIP_GRADS[1]), vec(CLIP_GRADS[2])))
    w("")
    w("struct ClipNormCase {")
    w("    double norm_type;")
    w("    double max_norm;")
    w("    double total_norm;")
    w("    std::vector<double> grads;  // all gradients after clipping, flattened")
    w("};")
    w("")
    w("inline const std::vector<ClipNormCase>& clip_norm_cases() {")
    w("    static const std::vector<ClipNormCase> cases = {")
    for norm_type, max_norm, total, grads in clip_cases():
        w("        {%s, %s, %s, %s}," % (num(norm_type), num(max_norm), num(total), vec(grads)))
    w("    };")
    w("    return cases;")
    w("}")
    w("")
    w("inline const std::vector<double> clip_value_0_6 = %s;" % vec(clip_value_case(0.6)))
    w("")
    w("}  // namespace optim_reference")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
