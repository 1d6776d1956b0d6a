#!/usr/bin/python3
"""Quality anchor (item 4): MLP 784-256-128-10 (ReLU) trained 5 epochs on Fashion-MNIST with PyTorch 1.13.

Run:  /usr/bin/python3 bench/peers/torch_accuracy.py [--seeds 3] [--threads 1]     (~1 min)

Inputs scaled to [0,1] (x/255, no mean/std normalisation), batch 64, shuffled each epoch (torch.randperm),
cross-entropy, default nn.Linear init. Two optimisers, each with seeds 0..S-1 (each seed = fresh init + order):
  sgd : SGD(lr=0.05, momentum=0.9)      adam: Adam(lr=1e-3)
Test accuracy on the 10k t10k set after every epoch; wall time = 5 training epochs (eval excluded).
Threads: --threads n sets OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=n + torch.set_num_threads(n) in a child
process (default 1: the reproducible single-core anchor). OPENBLAS_CORETYPE inherited.
"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import fmt, med, table  # noqa: E402


def child(opt_name, seed, threads):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from common import load_fmnist
    torch.set_num_threads(threads)
    xtr, ytr = load_fmnist("train")
    xte, yte = load_fmnist("test")
    X, Y, XT, YT = map(torch.from_numpy, (xtr, ytr, xte, yte))
    torch.manual_seed(seed)
    m = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = (torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9) if opt_name == "sgd"
           else torch.optim.Adam(m.parameters(), lr=1e-3))
    accs, train_t, losses = [], 0.0, []
    for ep in range(5):
        t0 = time.perf_counter()
        perm = torch.randperm(X.shape[0])
        tot = 0.0
        for s in range(0, X.shape[0], 64):
            idx = perm[s:s + 64]
            opt.zero_grad()
            loss = F.cross_entropy(m(X[idx]), Y[idx])
            loss.backward()
            opt.step()
            tot += loss.item() * idx.shape[0]
        train_t += time.perf_counter() - t0
        losses.append(tot / X.shape[0])
        with torch.no_grad():
            accs.append((m(XT).argmax(1) == YT).float().mean().item())
    print("JSON" + json.dumps(dict(opt=opt_name, seed=seed, accs=accs, losses=losses, train_s=train_t)))


def main():
    seeds = int(sys.argv[sys.argv.index("--seeds") + 1]) if "--seeds" in sys.argv else 3
    threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 1
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = str(threads)
    res = {}
    for seed in range(seeds):
        for opt in ("sgd", "adam"):
            p = subprocess.run(["/usr/bin/python3", os.path.abspath(__file__), "--child", opt, str(seed), str(threads)],
                               env=env, capture_output=True, text=True, check=True)
            d = json.loads([ln for ln in p.stdout.splitlines() if ln.startswith("JSON")][-1][4:])
            res.setdefault(opt, []).append(d)
    print(f"# MLP 784-256-128-10, 5 epochs, batch 64, Fashion-MNIST test (10k); threads={threads}, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}; {seeds} seeds")
    rows = []
    for opt, runs in res.items():
        fin = [r["accs"][-1] * 100 for r in runs]
        best = [max(r["accs"]) * 100 for r in runs]
        per_ep = " ".join(fmt(med([r["accs"][e] * 100 for r in runs]), 2) for e in range(5))
        rows.append([opt, fmt(med(fin), 2), f"{fmt(min(fin), 2)}-{fmt(max(fin), 2)}", fmt(med(best), 2), per_ep,
                     fmt(med([r["losses"][-1] for r in runs]), 4), fmt(med([r["train_s"] for r in runs]), 2),
                     fmt(med([r["train_s"] / 5 for r in runs]), 3)])
    table(["optimizer", "test acc % ep5 (median)", "min-max", "best-epoch acc %", "median acc % per epoch 1..5",
           "train loss ep5", "train wall s (5 ep)", "s/epoch"], rows)


if __name__ == "__main__":
    if "--child" in sys.argv:
        i = sys.argv.index("--child")
        child(sys.argv[i + 1], int(sys.argv[i + 2]), int(sys.argv[i + 3]))
    else:
        main()
