// Extrema reductions over the dims of a contiguous tensor (the kernels of max / min and
// argmax / argmin): NaN propagates (a slice holding a NaN has result NaN, and its first NaN is
// its arg-extremum), and the tie weights share a gradient evenly among the elements equal to
// the result.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include <xgrad/core/shape.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad::kernels {

// Where the elements of each reduced slice live in a contiguous row-major tensor: the offset
// of the first element of slice j is outer[j], the offsets of its elements relative to that
// are inner[k] (in row-major order of the reduced dims), or simply k when inner_contiguous.
struct ReductionPlan {
    std::vector<std::int64_t> outer;
    std::vector<std::int64_t> inner;
    bool inner_contiguous = false;
    std::int64_t count = 1;  // elements per slice
};

// `axes` sorted and unique (normalize_axes).
ReductionPlan make_reduction_plan(const Shape& shape, const Axes& axes);

// x viewed as [outer, count, inner] when the reduced dims are adjacent and some kept dim follows
// them (max over the window axis of pooling, over the rows of a matrix, ...): the slices are
// then strided, and walking them row by row of `inner` contiguous values keeps every loop
// contiguous and vectorisable instead of gathering one slice at a time.
struct BlockPlan {
    std::int64_t outer = 1, count = 1, inner = 1;
};

// The block view of reducing `axes` (sorted, unique), or nullopt when the general plan is as
// good (non-adjacent axes, or contiguous slices).
std::optional<BlockPlan> make_block_plan(const Shape& shape, const Axes& axes);

// How one reduction walks x: the block view when there is one, else the general plan.
struct ExtremaPlan {
    std::optional<BlockPlan> block;
    ReductionPlan general;  // empty when block is set
};
ExtremaPlan make_extrema_plan(const Shape& shape, const Axes& axes);

// out[j] = the max (is_max) or min of slice j; any dtype.
void extremum(bool is_max, const Tensor& x, const ExtremaPlan& plan, Tensor& out);

// weight (x's shape) = mask / count(mask) per slice, with mask = (x == result of the slice), or
// x and result both NaN. float32 and float64; other dtypes throw DtypeError naming `op`.
void extremum_tie_weights(const char* op, const Tensor& x, const ExtremaPlan& plan,
                          const Tensor& out, Tensor& weight);

// out[j] (int64) = the position, in slice j's row-major order, of its first extreme element:
// the first NaN if there is one, else the first largest (is_max) or smallest value; any dtype.
void arg_extremum(bool is_max, const Tensor& x, const ReductionPlan& plan, Tensor& out);

}  // namespace xgrad::kernels
