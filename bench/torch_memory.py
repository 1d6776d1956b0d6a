#!/usr/bin/python3
"""PyTorch's side of the memory row: resident memory of the Fashion-MNIST MLP epoch.

The same workload as `bench_workloads --memory EPOCHS`: MLP 784-256-128-10 (ReLU), cross-entropy,
SGD (lr 0.05, momentum 0.9), batch 64, a fresh permutation and an index gather per batch, the
training images in memory as float32 [60000, 784] in [0, 1]. Prints "M <stage> <peak MiB>
<current MiB> [<epoch seconds>]" after loading and after each epoch, like the xgrad program.

Run:  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch_memory.py EPOCHS --peers bench/peers
"""
import os
import resource
import sys
import time


def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kilobytes on Linux


def main():
    epochs = int(sys.argv[1])
    peers = sys.argv[sys.argv.index("--peers") + 1]
    sys.path.insert(0, peers)
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from common import load_fmnist

    threads = int(os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    xtr, ytr = load_fmnist("train")
    X, Y = torch.from_numpy(xtr), torch.from_numpy(ytr)
    del xtr, ytr
    print(f"M loaded {peak_mib():.1f} {rss_mib():.1f}", flush=True)
    m = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    o = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
    for e in range(1, epochs + 1):
        t0 = time.perf_counter()
        perm = torch.randperm(X.shape[0])
        for s in range(0, X.shape[0], 64):
            idx = perm[s:s + 64]
            o.zero_grad()
            F.cross_entropy(m(X[idx]), Y[idx]).backward()
            o.step()
        print(f"M epoch{e} {peak_mib():.1f} {rss_mib():.1f} {time.perf_counter() - t0:.3f}", flush=True)


if __name__ == "__main__":
    main()
