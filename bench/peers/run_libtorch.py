#!/usr/bin/python3
"""libtorch C++ peer (item 3), measured side by side with the same benches in PyTorch-Python.

Run:  /usr/bin/python3 bench/peers/run_libtorch.py [--quick]     (~2 min; --quick: 1 round)

Build (done automatically into peers/build/, only when the source changed):
  g++ -O2 -std=c++17 -D_GLIBCXX_USE_CXX11_ABI=1 -I/usr/include/torch/csrc/api/include \
      libtorch/bench.cpp -o build/libtorch_bench -ltorch -ltorch_cpu -lc10 -lz -pthread
  (Debian also ships /usr/lib/x86_64-linux-gnu/cmake/Torch/TorchConfig.cmake: find_package(Torch) works too.)
Configs (fresh process each, interleaved per round, C++ and Python alternating):
  1thr / 2thr: OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=n and at::set_num_threads(n) / torch.set_num_threads(n);
  OPENBLAS_CORETYPE left as inherited (Haswell). Benches: mlp64, mlp256 (step ms), epoch64 (s), chain (us/op).
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import Agg, build, fmt, table  # noqa: E402

BENCHES = ["mlp64", "mlp256", "epoch64", "chain_nograd", "chain_fwd", "chain_fwdbwd"]
LABEL = {"mlp64": ("MLP step b64 [ms]", 1e3), "mlp256": ("MLP step b256 [ms]", 1e3),
         "epoch64": ("MLP epoch 60k b64 [s]", 1.0), "chain_nograd": ("chain no_grad fwd [us/op]", 1e4),
         "chain_fwd": ("chain fwd (graph) [us/op]", 1e4), "chain_fwdbwd": ("chain fwd+bwd [us/op]", 1e4)}


def env_for(n):
    e = dict(os.environ)
    e["OMP_NUM_THREADS"] = e["OPENBLAS_NUM_THREADS"] = str(n)
    return e


def main():
    rounds = 1 if "--quick" in sys.argv else 2
    exe = build("libtorch/bench.cpp", "libtorch_bench",
                ["g++", "-O2", "-std=c++17", "-D_GLIBCXX_USE_CXX11_ABI=1", "-I/usr/include/torch/csrc/api/include",
                 "{src}", "-o", "{out}", "-ltorch", "-ltorch_cpu", "-lc10", "-lz", "-pthread"])
    agg = Agg()
    t0 = time.time()
    for r in range(rounds):
        for n in ((1, 2) if r % 2 == 0 else (2, 1)):
            out = subprocess.run([exe, str(n)], env=env_for(n), capture_output=True, text=True, check=True).stdout
            for line in out.splitlines():
                p = line.split()
                if p and p[0] == "T":
                    for v in p[5:]:
                        agg.add(("cpp", p[1], n), float(v), float(p[3]), float(p[4]))
            py = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "torch_bench.py"), "--child", f"{n}thr",
                                 "--only", ",".join(BENCHES)], env=env_for(n), capture_output=True, text=True,
                                check=True).stdout
            import json
            d = json.loads([ln for ln in py.splitlines() if ln.startswith("JSON")][-1][4:])
            for bench, trials in d["res"].items():
                for ts, p0, p1 in trials:
                    for v in ts:
                        agg.add(("py", bench, n), v, p0, p1)
    print(f"# libtorch 1.13 C++ vs PyTorch-Python, {rounds} round(s), wall {time.time() - t0:.0f} s; "
          "OPENBLAS_CORETYPE inherited; values = median over all calls, [clean/all] = uncontended share")
    rows = []
    for b in BENCHES:
        lab, sc = LABEL[b]
        if b.startswith("chain"):
            sc = 1e6 / 100
        row = [lab]
        for n in (1, 2):
            c, p = agg.stats(("cpp", b, n)), agg.stats(("py", b, n))
            use_clean = c["nclean"] >= 0.3 * c["n"] and p["nclean"] >= 0.3 * p["n"]
            cv, pv = (c["clean"], p["clean"]) if use_clean else (c["med"], p["med"])
            row += [f"{fmt(c['med'] * sc, 3)} [{c['nclean']}/{c['n']}]", f"{fmt(p['med'] * sc, 3)} [{p['nclean']}/{p['n']}]",
                    fmt(pv / cv, 2) + ("" if use_clean else "*")]
        rows.append(row)
    table(["metric", "C++ 1thr", "Py 1thr", "Py/C++ 1thr", "C++ 2thr", "Py 2thr", "Py/C++ 2thr"], rows)
    print("Py/C++ ratio uses clean medians when both sides have >=30% clean calls, else all-call medians (*).")


if __name__ == "__main__":
    main()
