// What this build of xgrad runs on, as text (like torch.__config__.show()): xgrad's version,
// oneDNN's version and the instruction set its kernels use on this CPU, OpenBLAS's build and the
// core it picked, the instruction set xgrad's own elementwise kernels dispatched to, and the
// thread counts of xgrad's pool, OpenBLAS and OpenMP.
#pragma once
#include <string>

namespace xgrad {

// Several lines "name: value", ending in a newline. Reads the libraries' state at the time of the
// call (thread counts follow set_num_threads).
std::string config();

// The instruction set xgrad's hot elementwise, reduction and optimizer loops run with on this
// CPU: "avx512", "avx2" (with FMA) or "baseline" (SSE2, any x86-64). Chosen at run time: the
// best the CPU supports, capped by the environment variable XGRAD_ISA (baseline, avx2).
std::string kernel_isa();

// Caps that choice, for tests and benchmarks: "baseline", "avx2", "avx512" or "auto" (the best
// the CPU supports). Returns the instruction set now in effect (never above what the CPU has).
// Call it while no op runs. Another name throws ValueError.
std::string set_kernel_isa(const std::string& isa);

}  // namespace xgrad
