#!/usr/bin/python3
"""PyTorch 1.13 (Debian python3-torch) CPU peer benchmarks, items 2a-2d.

Run:  /usr/bin/python3 bench/peers/torch_bench.py [--quick] [--json out.json]
      (~2-3 min; --quick: one round, ~1 min)

Each configuration runs in a fresh child process (thread pools and OPENBLAS_CORETYPE are fixed at load time):
  1thr / 2thr    : OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=n and torch.set_num_threads(n)
                   (torch.set_num_threads does NOT reach OpenBLAS's own pthread pool, hence the env var)
  default        : nothing set -> torch picks 1 intra-op thread on this 2-vCPU box (hardware_concurrency/2),
                   OpenBLAS (used for every matmul: torch BLAS_INFO=generic -> libblas.so.3 = OpenBLAS) uses 2
  1thr-unset / 2thr-unset : as 1thr/2thr but OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed (AVX-512 kernels);
  2thr-passive   : as 2thr plus OMP_WAIT_POLICY=passive (libgomp workers sleep instead of spinning)
  default-unset  : default threading + AVX-512 OpenBLAS; structurally the closest peer to an
                   "OpenBLAS-threaded GEMM, single-threaded elementwise" framework
                   -- the *-unset / *-passive variants run only the BLAS-bound benches (MLP, CNN).
Configs are interleaved round by round so ratios come from the same run. Every trial is bracketed by the
contention probe; "clean" = both probes >= 3.5 GHz/thread (see common.py).

Benches (data = real Fashion-MNIST, in-memory tensors, no DataLoader):
  mlp64 / mlp256 : MLP 784-256-128-10 ReLU, cross-entropy, SGD(lr 0.05, momentum 0.9): one step =
                   zero_grad + forward + loss + backward + step; median AND mean per step (ms) -- at 2 threads the
                   distribution is heavy-tailed (spinning-pool stalls), so mean (= throughput) >> median
  epoch64        : one epoch over 60000 train images at batch 64 (randperm + index gather per batch), s
  cnn64          : LeNet-like conv1->6 5x5, relu, pool2, conv6->16 5x5, relu, pool2, fc 256-120-84-10, step ms
  chain          : 100 elementwise ops on a [4] tensor (cycle of x*1.0001, x+0.0001, tanh) + sum + backward;
                   us per op (total/100) for no_grad fwd, grad-recording fwd, fwd+bwd
  bigew          : y=(a*b+c).sum(), 4M floats each, a,b,c requires_grad, fwd+bwd; effective GB/s counts the
                   minimal fused traffic: read a,b,c + write 3 grads = 6 x 16 MiB (fwd-only: 3 x 16 MiB);
                   also no_grad with preallocated out= tensors (3 x 16 MiB) = kernel speed without the
                   allocation/page-fault cost that dominates the autograd version
Each bench is time-capped (see run_trials) so a contended phase cannot blow up the run time.
"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import Agg, fmt, med, table  # noqa: E402

CONFIGS = {
    "1thr": dict(threads=1, unset=False, benches="all"),
    "2thr": dict(threads=2, unset=False, benches="all"),
    "default": dict(threads=None, unset=False, benches="all"),
    "1thr-unset": dict(threads=1, unset=True, benches="blas"),
    "2thr-unset": dict(threads=2, unset=True, benches="blas"),
    "2thr-passive": dict(threads=2, unset=False, benches="blas", passive=True),
    "default-unset": dict(threads=None, unset=True, benches="blas"),
}
BLAS_BENCHES = ["mlp64", "mlp256", "epoch64", "cnn64"]
ALL_BENCHES = BLAS_BENCHES + ["chain_nograd", "chain_fwd", "chain_fwdbwd", "bigew_nograd_out", "bigew_fwd", "bigew_fwdbwd"]
N4M = 4 * 1024 * 1024


# ----------------------------------------------------------------------------------------------- child
def child(cfg_name):
    cfg = CONFIGS[cfg_name]
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from common import load_fmnist, probe

    if cfg["threads"] is not None:
        torch.set_num_threads(cfg["threads"])
    pthr = cfg["threads"] or 2  # probe width = max threads that may be busy
    torch.manual_seed(0)
    xtr, ytr = load_fmnist("train")
    X = torch.from_numpy(xtr)
    Y = torch.from_numpy(ytr)
    out = {"meta": dict(config=cfg_name, torch=torch.__version__, intra_threads=torch.get_num_threads(),
                        interop_threads=torch.get_num_interop_threads(),
                        coretype=os.environ.get("OPENBLAS_CORETYPE"),
                        openblas_threads=os.environ.get("OPENBLAS_NUM_THREADS"))}
    res = {}

    only = None
    if "--only" in sys.argv:
        only = set(sys.argv[sys.argv.index("--only") + 1].split(","))

    def run_trials(name, fn, n_trials, n_inner, warm=3, cap_s=2.5, min_trials=3):
        """n_trials x n_inner timed calls; stops early once cap_s of timed work is spent (>= min_trials),
        and a trial stops early after cap_s/min_trials, so a contended phase cannot blow up the run time."""
        if only is not None and name not in only:
            return
        for _ in range(warm):
            fn()
        trials = []
        spent = 0.0
        p0 = probe(pthr)
        for _ in range(n_trials):
            ts = []
            tt = time.perf_counter()
            for k in range(n_inner + (1 if n_inner > 1 else 0)):
                t0 = time.perf_counter()
                fn()
                if k or n_inner == 1:  # first call after the probe's sleep runs with cold caches: not recorded
                    ts.append(time.perf_counter() - t0)
                if time.perf_counter() - tt > cap_s / min_trials:
                    break
            spent += time.perf_counter() - tt
            p1 = probe(pthr)
            trials.append([ts, p0, p1])
            p0 = p1
            if spent > cap_s and len(trials) >= min_trials:
                break
        res[name] = trials

    def mlp():
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))

    def make_step(model, opt, bs, shape=None):
        state = {"i": 0}
        N = X.shape[0]

        def step():
            i = state["i"]
            s = (i * bs) % (N - bs)
            xb, yb = X[s:s + bs], Y[s:s + bs]
            if shape is not None:
                xb = xb.view(shape)
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            state["i"] = i + 1
        return step

    # 2a MLP steps
    for bs, name, inner in ((64, "mlp64", 100), (256, "mlp256", 40)):
        m = mlp()
        o = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
        run_trials(name, make_step(m, o, bs), n_trials=7, n_inner=inner, warm=10)

    # 2a epoch at batch 64
    m = mlp()
    o = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)

    def epoch():
        perm = torch.randperm(X.shape[0])
        for s in range(0, X.shape[0], 64):
            idx = perm[s:s + 64]
            xb, yb = X[idx], Y[idx]
            o.zero_grad()
            F.cross_entropy(m(xb), yb).backward()
            o.step()
    run_trials("epoch64", epoch, n_trials=3, n_inner=1, warm=0, cap_s=3.0, min_trials=1)

    # 2b CNN
    cnn = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    o = torch.optim.SGD(cnn.parameters(), lr=0.05, momentum=0.9)
    run_trials("cnn64", make_step(cnn, o, 64, shape=(64, 1, 28, 28)), n_trials=7, n_inner=30, warm=5)

    if cfg["benches"] == "all":
        # 2c per-op overhead chain
        x = torch.randn(4, requires_grad=True)

        def chain():
            y = x
            for i in range(100):
                k = i % 3
                y = y * 1.0001 if k == 0 else (y + 0.0001 if k == 1 else torch.tanh(y))
            return y

        def chain_nograd():
            with torch.no_grad():
                chain()

        def chain_fwdbwd():
            x.grad = None
            chain().sum().backward()
        run_trials("chain_nograd", chain_nograd, n_trials=7, n_inner=50, warm=5, cap_s=1.5)
        run_trials("chain_fwd", chain, n_trials=7, n_inner=50, warm=5, cap_s=1.5)
        run_trials("chain_fwdbwd", chain_fwdbwd, n_trials=7, n_inner=50, warm=5, cap_s=1.5)

        # 2d large elementwise
        a, b, c = (torch.randn(N4M, requires_grad=True) for _ in range(3))

        def ew_fwd():
            (a * b + c).sum()

        def ew_fwdbwd():
            a.grad = b.grad = c.grad = None
            (a * b + c).sum().backward()
        t_, u_ = torch.empty(N4M), torch.empty(N4M)

        def ew_nograd_out():  # same math, preallocated outputs, no autograd: kernel speed without allocation
            with torch.no_grad():
                torch.mul(a, b, out=t_)
                torch.add(t_, c, out=u_)
                u_.sum()
        run_trials("bigew_nograd_out", ew_nograd_out, n_trials=7, n_inner=5, warm=2, cap_s=1.5)
        run_trials("bigew_fwd", ew_fwd, n_trials=7, n_inner=5, warm=2, cap_s=1.5)
        run_trials("bigew_fwdbwd", ew_fwdbwd, n_trials=7, n_inner=5, warm=2, cap_s=1.5)

    out["res"] = res
    print("JSON" + json.dumps(out))


# ---------------------------------------------------------------------------------------------- parent
def env_for(cfg):
    e = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        e.pop(k, None)
    if cfg["threads"] is not None:
        e["OMP_NUM_THREADS"] = e["OPENBLAS_NUM_THREADS"] = str(cfg["threads"])
    if cfg["unset"]:
        e.pop("OPENBLAS_CORETYPE", None)
        e.pop("OPENBLAS_L2_SIZE", None)
    e.pop("OMP_WAIT_POLICY", None)
    if cfg.get("passive"):
        e["OMP_WAIT_POLICY"] = "passive"
    return e


def parent():
    quick = "--quick" in sys.argv
    rounds = 1 if quick else 2
    agg = Agg()
    metas = {}
    t_start = time.time()
    for r in range(rounds):
        order = list(CONFIGS.items())
        for name, cfg in (order if r % 2 == 0 else order[::-1]):
            p = subprocess.run(["/usr/bin/python3", os.path.abspath(__file__), "--child", name], env=env_for(cfg),
                               capture_output=True, text=True)
            if p.returncode != 0:
                print(p.stdout, p.stderr, file=sys.stderr)
                raise SystemExit(f"child {name} failed")
            line = [ln for ln in p.stdout.splitlines() if ln.startswith("JSON")][-1]
            d = json.loads(line[4:])
            metas[name] = d["meta"]
            for bench, trials in d["res"].items():
                for ts, p0, p1 in trials:
                    for t in ts:  # pool individual call times; probes belong to the enclosing trial
                        agg.add((name, bench), t, p0, p1)
    print(f"# torch {metas['1thr']['torch']}; {rounds} round(s), wall {time.time() - t_start:.0f} s")
    for name, m in metas.items():
        print(f"#   {name:11s}: torch intra-op threads={m['intra_threads']} interop={m['interop_threads']} "
              f"OPENBLAS_NUM_THREADS={m['openblas_threads']} OPENBLAS_CORETYPE={m['coretype']}")
    print()

    # unit conversion per bench: (label, scale(value_seconds) -> shown number)
    MB = N4M * 4 / 1e9
    conv = {
        "mlp64": ("MLP step b64 [ms]", lambda s: s * 1e3),
        "mlp256": ("MLP step b256 [ms]", lambda s: s * 1e3),
        "epoch64": ("MLP epoch 60k b64 [s]", lambda s: s),
        "cnn64": ("CNN step b64 [ms]", lambda s: s * 1e3),
        "chain_nograd": ("chain no_grad fwd [us/op]", lambda s: s * 1e6 / 100),
        "chain_fwd": ("chain fwd (graph) [us/op]", lambda s: s * 1e6 / 100),
        "chain_fwdbwd": ("chain fwd+bwd [us/op]", lambda s: s * 1e6 / 100),
        "bigew_nograd_out": ("(a*b+c).sum() no_grad out= 4M [GB/s eff]", lambda s: 3 * MB / s),
        "bigew_fwd": ("(a*b+c).sum() fwd 4M [GB/s eff]", lambda s: 3 * MB / s),
        "bigew_fwdbwd": ("(a*b+c).sum() fwd+bwd 4M [GB/s eff]", lambda s: 6 * MB / s),
    }
    names = list(CONFIGS)
    STEP = ("mlp64", "mlp256", "cnn64")

    def cell(v, f):
        x = f(v)
        return fmt(x, 3 if x == x and x < 10 else 1)

    rows = []
    for bench in ALL_BENCHES:
        label, f = conv[bench]
        row = [label + (" med(mean)" if bench in STEP else "")]
        for name in names:
            st = agg.stats((name, bench))
            if st["n"] == 0:
                row.append("-")
            elif bench in STEP:
                row.append(f"{cell(st['med'], f)} ({cell(st['mean'], f)})")
            else:
                row.append(cell(st["med"], f))
        rows.append(row)
    print("== All calls: median (mean) -- units in row label")
    table(["metric"] + names, rows)

    rows = []
    for bench in ALL_BENCHES:
        label, f = conv[bench]
        row = [label]
        for name in names:
            st = agg.stats((name, bench))
            row.append("-" if st["n"] == 0 else f"{cell(st['clean'], f)} [{st['nclean']}/{st['n']}]")
        rows.append(row)
    print("== Median over calls from uncontended trials only (probe >= 3.5 GHz/thread) [clean calls / all calls]")
    table(["metric"] + names, rows)

    def r(a, b, bench):
        sa, sb = agg.stats((a, bench)), agg.stats((b, bench))
        if sa["n"] == 0 or sb["n"] == 0:
            return "n/a"
        if sa["nclean"] >= 0.3 * sa["n"] and sb["nclean"] >= 0.3 * sb["n"]:
            return fmt(sa["clean"] / sb["clean"], 2)
        return fmt(sa["med"] / sb["med"], 2) + "*"
    pairs = [("1thr", "2thr"), ("1thr", "default"), ("1thr", "1thr-unset"), ("2thr", "2thr-unset"),
             ("2thr", "2thr-passive"), ("default", "default-unset")]
    rows = [[conv[b][0].split(" [")[0]] + [r(a, c, b) for a, c in pairs] for b in ALL_BENCHES]
    print("== Same-run ratios of median times, clean trials (* = all calls; <30% clean). >1 = second config faster; "
          "GB/s rows inverted")
    table(["metric"] + [f"{a}/{c}" for a, c in pairs], rows)

    if "--json" in sys.argv:
        path = sys.argv[sys.argv.index("--json") + 1]
        with open(path, "w") as fh:
            json.dump({"meta": metas, "data": {"|".join(k): v for k, v in agg.d.items()}}, fh)


if __name__ == "__main__":
    if "--child" in sys.argv:
        child(sys.argv[sys.argv.index("--child") + 1])
    else:
        parent()
