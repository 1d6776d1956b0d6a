// The one thread model behind xgrad::set_num_threads (threads.cpp): one count for xgrad's worker
// pool, OpenBLAS's pool and oneDNN's OpenMP team.
#pragma once

namespace xgrad::detail {

// Gives the calling thread's OpenMP team (oneDNN's) one thread: xgrad's pool splits the large
// products instead (gemm.cpp says why), so that one pool serves all threads. OpenMP keeps the
// count per thread, so every thread that runs a oneDNN product calls this first; it costs one
// thread-local compare after the first call.
void sync_openmp_threads();

// omp_get_max_threads() of the calling thread, or 0 when no OpenMP runtime is loaded.
int openmp_max_threads();

// "libgomp" or similar: the OpenMP runtime oneDNN runs on, as found in the process.
const char* openmp_runtime();

}  // namespace xgrad::detail
