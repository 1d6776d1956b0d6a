#!/usr/bin/python3
"""Hardware limits: FP32 peak (theory + FMA microbench), OpenBLAS sgemm, memory bandwidth.

Run:  /usr/bin/python3 bench/peers/run_hw.py [--quick]      (~2-3 min; --quick ~1 min)

OpenBLAS is measured in two environments, interleaved round by round (same-run ratio):
  as-is : the inherited environment (OPENBLAS_CORETYPE=Haswell, OPENBLAS_L2_SIZE=512)
  unset : both variables removed for that command only (OpenBLAS 0.3.21 then auto-detects)
Every trial is bracketed by the contention probe (common.probe); "clean" columns only use
trials whose probes both read >= 3.5 GHz/thread.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Agg, build, fmt, med, parse_R, table  # noqa: E402

QUICK = "--quick" in sys.argv
NOMINAL_GHZ = 2.6          # nominal/base clock given in the brief (TSC reads 2.596 GHz)
FLOP_PER_CYCLE_512 = 64    # Zen 5 server: 2 FMA pipes x 512-bit (16 fp32 lanes) x 2 flop
FLOP_PER_CYCLE_256 = 32    # same pipes with 256-bit (AVX2) FMAs, i.e. the ceiling of Haswell kernels
SIZES = [64, 256, 512, 1024, 2048]
ROUNDS = 2 if QUICK else 3
MEM_SIZES = [65536, 4194304, 67108864]   # 256 KiB (L2), 16 MiB (L3-ish, = the 4M-float torch test), 256 MiB (DRAM) per array


def env_for(name):
    e = dict(os.environ)
    if name == "unset":
        e.pop("OPENBLAS_CORETYPE", None)
        e.pop("OPENBLAS_L2_SIZE", None)
    e.pop("OPENBLAS_NUM_THREADS", None)
    e.pop("OMP_NUM_THREADS", None)
    return e


def main():
    fma = build("hw/peak_fma.c", "peak_fma", ["gcc", "-O2", "-march=native", "-fopenmp", "-pthread", "{src}", "-o", "{out}"])
    sg = build("hw/sgemm_bench.c", "sgemm_bench", ["gcc", "-O2", "-pthread", "{src}", "-o", "{out}", "-lopenblas"])
    mb = build("hw/membw.c", "membw", ["gcc", "-O3", "-march=native", "-fopenmp", "-pthread",
                                       "-fno-tree-loop-distribute-patterns", "{src}", "-o", "{out}"])

    # ---- 1. FMA peak + clock
    agg = Agg()
    for thr in (1, 2):
        out = subprocess.run([fma, str(thr), "3" if QUICK else "5"], capture_output=True, text=True, check=True).stdout
        parse_R(out, agg)
    rows = []
    clk1 = agg.stats(("clock", "-", 1))
    for thr in (1, 2):
        c = agg.stats(("clock", "-", thr))
        f5 = agg.stats(("fma512", "-", thr))
        f2 = agg.stats(("fma256", "-", thr))
        rows.append([f"{thr}", fmt(NOMINAL_GHZ * FLOP_PER_CYCLE_512 * thr), fmt(NOMINAL_GHZ * FLOP_PER_CYCLE_256 * thr),
                     fmt(c["med"], 2) + f" (max {fmt(c['hi'], 2)})",
                     fmt(clk1["med"] * FLOP_PER_CYCLE_512 * thr),
                     fmt(f5["med"]) + f" (max {fmt(f5['hi'])})", fmt(f2["med"]) + f" (max {fmt(f2['hi'])})",
                     f"{fmt(f5['clean'])} [{f5['nclean']}/{f5['n']}]"])
    print("== 1a. FP32 peak. Theory: 64 flop/cycle/core (2x 512-bit FMA); AVX2-only = 32. Measured: 16 independent FMA chains")
    table(["thr", "theory@2.6GHz AVX512", "theory@2.6GHz AVX2", "measured clock GHz/thr",
           "theory@1-thr clock AVX512", "FMA512 GFLOP/s med", "FMA256 GFLOP/s med", "FMA512 clean [n]"], rows)

    # ---- 1b. sgemm, interleaved env rounds
    sagg = Agg()
    cores = {}
    for r in range(ROUNDS):
        for envn in ("as-is", "unset"):
            for thr in (1, 2):
                out = subprocess.run([sg, str(thr), "2", *map(str, SIZES)], capture_output=True, text=True,
                                     check=True, env=env_for(envn)).stdout
                for line in out.splitlines():
                    if line.startswith("core "):
                        cores[envn] = line.split()[1]
                parse_R(out, sagg, prefix=(envn,))
    rows = []
    for n in SIZES:
        for thr in (1, 2):
            a = sagg.stats(("as-is", "sgemm", str(n), thr))
            u = sagg.stats(("unset", "sgemm", str(n), thr))
            rows.append([n, thr, fmt(a["med"]), f"{fmt(a['clean'])} [{a['nclean']}/{a['n']}]",
                         fmt(u["med"]), f"{fmt(u['clean'])} [{u['nclean']}/{u['n']}]", fmt(u["med"] / a["med"], 2)])
    print(f"== 1b. OpenBLAS cblas_sgemm GFLOP/s (M=N=K=n, row-major), {ROUNDS} interleaved rounds x 2 trials. "
          f"as-is core={cores.get('as-is')}, unset core={cores.get('unset')}")
    table(["n", "thr", "as-is med", "as-is clean [n]", "unset med", "unset clean [n]", "unset/as-is"], rows)

    # ---- 1c. memory bandwidth
    magg = Agg()
    for thr in (1, 2):
        out = subprocess.run([mb, str(thr), "3", *map(str, MEM_SIZES)], capture_output=True, text=True, check=True).stdout
        parse_R(out, magg)
    rows = []
    for n in MEM_SIZES:
        for op in ("copy", "add", "triad", "sum"):
            s1 = magg.stats((op, str(n), 1))
            s2 = magg.stats((op, str(n), 2))
            rows.append([f"{n} ({n * 4 / 2**20:g} MiB/arr)", op, fmt(s1["med"]), fmt(s2["med"]),
                         f"{fmt(s2['clean'])} [{s2['nclean']}/{s2['n']}]"])
    print("== 1c. Elementwise bandwidth GB/s (explicit bytes: copy 8 B/elem, add/triad 12, sum 4; no write-allocate), median of 3")
    table(["floats/array", "op", "1 thr", "2 thr med", "2 thr clean [n]"], rows)


if __name__ == "__main__":
    main()
