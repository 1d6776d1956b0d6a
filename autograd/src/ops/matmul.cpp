// matmul with torch.matmul semantics on gemm (float32: oneDNN's sgemm, float64: OpenBLAS's
// dgemm). Transposes are BLAS flags (never copies), and the backward rule is written with matmul
// itself (flags again, no copies) so that every float32 product of any order, forward or
// backward, goes through the same kernels::gemm.
//
// 1-D operands: `a` of shape [k] is promoted to [1, k] and `b` of shape [k] to [k, 1]; the
// added dim is removed from the result (so 1-D x 1-D is a 0-d dot product). A transpose flag
// on a 1-D operand is ignored, as Tensor::t() leaves 1-D tensors unchanged.
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include <xgrad/core/threads.hpp>

#include "kernels/broadcast_loop.hpp"
#include "kernels/dispatch.hpp"
#include "kernels/gemm.hpp"
#include "kernels/parallel.hpp"
#include "op_common.hpp"

namespace xgrad {

using namespace ops;

namespace {

// How one matmul call maps onto gemm: both operands promoted to at least 2-D.
struct MatmulPlan {
    Shape a_shape, b_shape;       // promoted shapes: [batch_a..., ra, ca], [batch_b..., rb, cb]
    Shape batch_a, batch_b;       // leading dims of each
    Shape batch;                  // broadcast of batch_a and batch_b
    bool ta = false, tb = false;  // effective transpose flags (false for 1-D operands)
    std::int64_t m = 0, n = 0, k = 0;
    Shape promoted_out;  // batch + [m, n]
    Shape out;           // promoted_out without the dims added for 1-D operands
};

std::string flags_str(const MatmulOptions& o) {
    if (!o.transpose_a && !o.transpose_b) return "";
    return std::string(" (transpose_a=") + (o.transpose_a ? "true" : "false") +
           ", transpose_b=" + (o.transpose_b ? "true" : "false") + ")";
}

MatmulPlan make_plan(const Tensor& a, const Tensor& b, const MatmulOptions& o) {
    const Shape& sa = a.shape();
    const Shape& sb = b.shape();
    if (sa.empty() || sb.empty())
        raise<ShapeError>("matmul", "both arguments need at least 1 dimension, got shapes ",
                          shape_str(sa), " and ", shape_str(sb));
    MatmulPlan p;
    const bool a_vec = sa.size() == 1;
    const bool b_vec = sb.size() == 1;
    p.a_shape = a_vec ? Shape{1, sa[0]} : sa;
    p.b_shape = b_vec ? Shape{sb[0], 1} : sb;
    p.ta = !a_vec && o.transpose_a;
    p.tb = !b_vec && o.transpose_b;
    const std::size_t na = p.a_shape.size();
    const std::size_t nb = p.b_shape.size();
    const std::int64_t ra = p.a_shape[na - 2], ca = p.a_shape[na - 1];
    const std::int64_t rb = p.b_shape[nb - 2], cb = p.b_shape[nb - 1];
    p.m = p.ta ? ca : ra;
    p.k = p.ta ? ra : ca;
    const std::int64_t kb = p.tb ? cb : rb;
    p.n = p.tb ? rb : cb;
    if (p.k != kb)
        raise<ShapeError>("matmul", "shapes ", shape_str(sa), " and ", shape_str(sb), flags_str(o),
                          " cannot be multiplied: inner dimensions ", std::to_string(p.k), " and ",
                          std::to_string(kb), " differ");
    p.batch_a.assign(p.a_shape.begin(), p.a_shape.end() - 2);
    p.batch_b.assign(p.b_shape.begin(), p.b_shape.end() - 2);
    // Broadcast the batch dims (NumPy rules), with a message naming the full shapes.
    const std::size_t nd = std::max(p.batch_a.size(), p.batch_b.size());
    p.batch.assign(nd, 1);
    for (std::size_t i = 0; i < nd; ++i) {
        const std::size_t ia = i + p.batch_a.size(), ib = i + p.batch_b.size();
        const std::int64_t da = ia >= nd ? p.batch_a[ia - nd] : 1;
        const std::int64_t db = ib >= nd ? p.batch_b[ib - nd] : 1;
        if (da != db && da != 1 && db != 1)
            raise<ShapeError>("matmul", "batch dimensions of shapes ", shape_str(sa), " and ",
                              shape_str(sb), " do not broadcast (", shape_str(p.batch_a), " vs ",
                              shape_str(p.batch_b), ")");
        p.batch[i] = da == 1 ? db : da;
    }
    p.promoted_out = p.batch;
    p.promoted_out.push_back(p.m);
    p.promoted_out.push_back(p.n);
    p.out = p.batch;
    if (!a_vec) p.out.push_back(p.m);
    if (!b_vec) p.out.push_back(p.n);
    return p;
}

// Products of fewer multiply-adds than this gain little from a second thread (OpenBLAS 0.3.21,
// behind float64, runs them on the calling thread alone: interface/gemm.c, SMP_THRESHOLD_MIN
// 65536 x GEMM_MULTITHREAD_THRESHOLD 4); a batch of them is split across xgrad's pool instead.
constexpr std::int64_t kSingleThreadedGemm = std::int64_t(1) << 18;
// A batch is split only past this many multiply-adds in all (about 20 us of work).
constexpr std::int64_t kSplitBatch = std::int64_t(1) << 21;

template <class T>
void matmul_kernel(const MatmulPlan& p, const T* a, const T* b, T* c) {
    const std::int64_t batch_n = shape_numel(p.batch);
    if (batch_n == 0 || p.m == 0 || p.n == 0) return;
    if (p.k == 0) {  // an empty sum: BLAS rejects zero leading dimensions
        std::fill(c, c + batch_n * p.m * p.n, T(0));
        return;
    }
    const std::int64_t lda = p.a_shape.back(), ldb = p.b_shape.back();
    // b is one matrix and op(a) = a: fold a's batch into M, one big gemm.
    if (shape_numel(p.batch_b) == 1 && !p.ta) {
        kernels::gemm(false, p.tb, batch_n * p.m, p.n, p.k, a, lda, b, ldb, T(0), c, p.n);
        return;
    }
    const std::int64_t mat_a = p.a_shape[p.a_shape.size() - 2] * lda;
    const std::int64_t mat_b = p.b_shape[p.b_shape.size() - 2] * ldb;
    const std::int64_t mat_c = p.m * p.n;
    auto one = [&](std::int64_t i, std::int64_t pos_a, std::int64_t pos_b) {
        kernels::gemm(p.ta, p.tb, p.m, p.n, p.k, a + pos_a * mat_a, lda, b + pos_b * mat_b, ldb,
                      T(0), c + i * mat_c, p.n);
    };
    // A batch of small products (a convolution's per-sample products) is split across the
    // threads, each product on one thread: inside xgrad's parallel region oneDNN runs on one
    // OpenMP thread (detail::sync_openmp_threads) and OpenBLAS runs products this small on one
    // thread anyway, so the BLAS is never asked for more threads than set_num_threads gave. Only
    // when there is enough work to pay for waking a worker.
    const std::int64_t macs = p.m * p.n * p.k;
    const int threads = get_num_threads();
    if (threads > 1 && batch_n > 1 && macs < kSingleThreadedGemm && batch_n * macs >= kSplitBatch) {
        std::vector<std::array<std::int64_t, 2>> pos(static_cast<std::size_t>(batch_n));
        kernels::for_each_broadcast<2>(p.batch, {&p.batch_a, &p.batch_b},
                                       [&](std::int64_t i, const std::array<std::int64_t, 2>& q) {
                                           pos[static_cast<std::size_t>(i)] = q;
                                       });
        const std::int64_t per_thread = (batch_n + threads - 1) / threads;
        kernels::parallel_for(batch_n, per_thread,
                              [&](std::int64_t, std::int64_t lo, std::int64_t hi) {
                                  for (std::int64_t i = lo; i < hi; ++i)
                                      one(i, pos[static_cast<std::size_t>(i)][0],
                                          pos[static_cast<std::size_t>(i)][1]);
                              });
        return;
    }
    kernels::for_each_broadcast<2>(
        p.batch, {&p.batch_a, &p.batch_b},
        [&](std::int64_t i, const std::array<std::int64_t, 2>& q) { one(i, q[0], q[1]); });
}

// A gradient computed for a promoted operand, brought back to the operand's own shape. Batch
// broadcasting of >= 2-D operands is left to the engine; a 1-D operand needs its batch summed
// here before the added dim can be dropped.
Tensor to_operand_shape(const Tensor& grad, const Shape& promoted, const Shape& original) {
    if (promoted == original) return grad;
    return reshape(sum_to(grad, promoted), original);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, MatmulOptions options) {
    check_same_dtype("matmul", a, b);
    kernels::dispatch_floating(a.dtype(), "matmul", [](auto) {});  // f32 / f64 only
    const MatmulPlan plan = make_plan(a, b, options);
    Tensor out = make_tensor(plan.out, a.dtype());
    kernels::dispatch_floating(a.dtype(), "matmul", [&](auto tag) {
        using T = typename decltype(tag)::type;
        matmul_kernel<T>(plan, a.data_ptr<T>(), b.data_ptr<T>(), out.data_ptr<T>());
    });
    if (should_record({&a, &b})) {
        // b is one matrix shared by a batch of non-transposed a: its gradient is one gemm over
        // the flattened batch, A[batch*M, K]^T G[batch*M, N], rather than a batch of products
        // summed afterwards (the backward of a linear layer on [B, T, D] inputs).
        const bool fold_b = !plan.ta && !plan.batch.empty() && shape_numel(plan.batch_b) == 1;
        const std::int64_t fold_rows = shape_numel(plan.batch) * plan.m;
        record("MatmulBackward", out, {a, b}, {a, b},
               [a_shape = plan.a_shape, b_shape = plan.b_shape, out_shape = plan.promoted_out,
                ta = plan.ta, tb = plan.tb, fold_b,
                fold_rows](Node& n, const Tensor& g) -> TensorList {
                   // For C = op(A) op(B) with gradient G (checked for all four flag pairs):
                   //   dA = G op(B)^T, i.e. for A transposed dA = op(B) G^T
                   //   dB = op(A)^T G, i.e. for B transposed dB = G^T op(A)
                   const Tensor& a0 = n.saved(0);
                   const Tensor& b0 = n.saved(1);
                   const Tensor A = reshape(a0, a_shape);
                   const Tensor B = reshape(b0, b_shape);
                   const Tensor G = reshape(g, out_shape);
                   Tensor ga, gb;
                   if (n.needs_input_grad(0)) {
                       ga = !ta ? matmul(G, B, {false, !tb}) : matmul(B, G, {tb, true});
                       ga = to_operand_shape(ga, a_shape, a0.shape());
                   }
                   if (n.needs_input_grad(1)) {
                       if (fold_b) {
                           const Tensor Af = reshape(A, {fold_rows, a_shape.back()});
                           const Tensor Gf = reshape(G, {fold_rows, out_shape.back()});
                           gb = !tb ? matmul(Af, Gf, {true, false}) : matmul(Gf, Af, {true, false});
                           gb = reshape(gb, b_shape);
                       } else {
                           gb = !tb ? matmul(A, G, {!ta, false}) : matmul(G, A, {true, ta});
                       }
                       gb = to_operand_shape(gb, b_shape, b0.shape());
                   }
                   return {ga, gb};
               });
    }
    return out;
}

Tensor Tensor::matmul(const Tensor& other) const {
    return xgrad::matmul(*this, other);
}

}  // namespace xgrad
