// Threads used by xgrad's kernels (matrix products run on OpenBLAS's pool).
#pragma once

namespace xgrad {

// Sets the number of threads for matrix products (like torch::set_num_threads).
void set_num_threads(int n);
int get_num_threads();

}  // namespace xgrad
