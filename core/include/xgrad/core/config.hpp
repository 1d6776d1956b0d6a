// What this build of xgrad runs on, as text (like torch.__config__.show()): xgrad's version,
// oneDNN's version and the instruction set its kernels use on this CPU, OpenBLAS's build and the
// core it picked, and the thread counts of xgrad's pool, OpenBLAS and OpenMP.
#pragma once
#include <string>

namespace xgrad {

// Several lines "name: value", ending in a newline. Reads the libraries' state at the time of the
// call (thread counts follow set_num_threads).
std::string config();

}  // namespace xgrad
