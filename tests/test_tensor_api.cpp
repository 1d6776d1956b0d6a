// The PyTorch-style tensor API: single-dim reductions, max/min with indices, amax/amin, bool
// reductions, method forms, softmax, cumsum, tril/triu, masked_fill, sort/topk, einsum and
// indexing (index / index_put_). Values against PyTorch 1.13 (tests/reference/
// tensor_api_reference.py), float64 gradcheck and gradgradcheck of every differentiable op
// (negative dims and keepdim included), and the error messages.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "reference/tensor_api_reference_data.hpp"
#include "test_helpers.hpp"

using namespace xgrad;
using namespace xgrad::indexing;
using Catch::Contains;

namespace {

const tensor_api_reference::Entry& entry(const std::string& name) {
    for (const auto& e : tensor_api_reference::kEntries)
        if (e.name == name) return e;
    FAIL("no reference entry " << name);
    throw std::logic_error("unreachable");
}

// A float64 input from the reference header.
Tensor ref(const std::string& name, bool requires_grad = false) {
    const auto& e = entry(name);
    return tensor(e.values, e.shape, TensorOptions{kFloat64, requires_grad});
}

// `actual` (any dtype) has the reference's shape and values (NaN matches NaN).
void check_ref(const Tensor& actual, const std::string& name, double tol = 1e-12) {
    INFO("reference " << name);
    const auto& e = entry(name);
    REQUIRE(actual.defined());
    REQUIRE(actual.shape() == e.shape);
    const std::vector<double> got = actual.to(kFloat64).to_vector<double>();
    REQUIRE(got.size() == e.values.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("element " << i << ": " << got[i] << " vs " << e.values[i]);
        if (std::isnan(e.values[i]))
            CHECK(std::isnan(got[i]));
        else
            CHECK(std::abs(got[i] - e.values[i]) <= tol * (1 + std::abs(e.values[i])));
    }
}

// Same shape and values (to 1e-12).
bool allclose_values(const Tensor& a, const Tensor& b) {
    if (a.shape() != b.shape()) return false;
    const std::vector<double> u = a.to(kFloat64).to_vector<double>();
    const std::vector<double> v = b.to(kFloat64).to_vector<double>();
    for (std::size_t i = 0; i < u.size(); ++i)
        if (std::abs(u[i] - v[i]) > 1e-12 * (1 + std::abs(v[i]))) return false;
    return true;
}

// gradcheck and gradgradcheck of f at the given float64 leaves.
void check_grads(const std::string& what, const autograd::TensorFunction& f,
                 const TensorList& inputs) {
    INFO(what);
    const auto r1 = autograd::gradcheck(f, inputs, test::no_throw());
    INFO(r1.report);
    CHECK(r1.ok);
    const auto r2 = autograd::gradgradcheck(f, inputs, test::no_throw());
    INFO(r2.report);
    CHECK(r2.ok);
}

}  // namespace

TEST_CASE("dtype aliases as PyTorch's C++ API", "[tensor_api]") {
    STATIC_REQUIRE(kFloat == kFloat32);
    STATIC_REQUIRE(kDouble == kFloat64);
    STATIC_REQUIRE(kLong == kInt64);
    STATIC_REQUIRE(kBool == Dtype::b8);
    CHECK(zeros({2}, {kLong}).dtype() == Dtype::i64);
}

TEST_CASE("single-dim reductions match PyTorch, as methods and free functions", "[tensor_api]") {
    const Tensor x = ref("x");
    check_ref(x.sum(1), "sum.1");
    check_ref(sum(x, 1), "sum.1");
    check_ref(x.sum(-1, true), "sum.-1.keepdim");
    check_ref(x.mean(1, true), "mean.1.keepdim");
    check_ref(mean(x, -2), "mean.-2");
    check_ref(x.var(1), "var.1");
    check_ref(x.std(-1, true), "std.-1.keepdim");
    check_ref(x.logsumexp(2), "logsumexp.2");
    check_ref(x.amax(1), "amax.1");
    check_ref(amin(x, -1, true), "amin.-1.keepdim");
    // Braced lists keep meaning dims, including the empty list (all elements).
    CHECK(x.sum({}).shape() == Shape{});
    CHECK(x.sum({1}).shape() == Shape{2, 4});
    CHECK(x.max({1}).shape() == Shape{2, 4});  // amax, as before
    CHECK(x.sum(std::int64_t{0}).shape() == Shape{3, 4});

    const Tensor a = test::leaf({2, 3, 4}, 1);
    check_grads("sum(1)", [](const TensorList& in) { return in[0].sum(1); }, {a});
    check_grads("sum(-1, keepdim)", [](const TensorList& in) { return in[0].sum(-1, true); }, {a});
    check_grads("mean(-2, keepdim)", [](const TensorList& in) { return mean(in[0], -2, true); },
                {a});
    check_grads("var(1)", [](const TensorList& in) { return in[0].var(1); }, {a});
    check_grads("std(-1, keepdim)", [](const TensorList& in) { return in[0].std(-1, true); }, {a});
    check_grads("logsumexp(-3)", [](const TensorList& in) { return in[0].logsumexp(-3); }, {a});
    check_grads("amax(-1)", [](const TensorList& in) { return in[0].amax(-1); }, {a});
    check_grads("amin(0, keepdim)", [](const TensorList& in) { return amin(in[0], 0, true); }, {a});

    CHECK_THROWS_AS(x.sum(3), IndexError);
    CHECK_THROWS_WITH(x.sum(3), Contains("xgrad::sum") && Contains("3"));
    CHECK_THROWS_WITH(x.mean(-4), Contains("xgrad::mean") && Contains("-4"));
    CHECK_THROWS_WITH(x.amax(5), Contains("xgrad::amax") && Contains("5"));
}

TEST_CASE("max/min over a dim give values and first indices, NaN first", "[tensor_api]") {
    const Tensor x = ref("x");
    auto [v, i] = x.max(1);
    check_ref(v, "max.1.values");
    check_ref(i, "max.1.indices");
    CHECK(i.dtype() == kLong);
    const ValuesIndices r = min(x, -1, true);
    check_ref(r.values, "min.-1.keepdim.values");
    check_ref(r.indices, "min.-1.keepdim.indices");
    check_ref(ref("t").max(1).values, "max.ties.values");
    check_ref(ref("t").max(1).indices, "max.ties.indices");
    check_ref(ref("t").min(0).values, "min.ties.values");
    check_ref(ref("t").min(0).indices, "min.ties.indices");
    check_ref(ref("nan").max(1).values, "max.nan.values");
    check_ref(ref("nan").max(1).indices, "max.nan.indices");
    check_ref(ref("nan").min(1).values, "min.nan.values");
    check_ref(ref("nan").min(1).indices, "min.nan.indices");
    // max() of everything and the elementwise form keep their meaning.
    CHECK(x.max().item<double>() == Approx(x.amax().item<double>()));
    CHECK(allclose_values(x.max(x * 2.0), maximum(x, x * 2.0)));
    CHECK(allclose_values(min(x, x * 2.0), minimum(x, x * 2.0)));
    // A braced list means dims, {0} included.
    CHECK(min(x, {0}).shape() == Shape{3, 4});
    CHECK(x.min({0}).shape() == Shape{3, 4});
    CHECK(x.max({0, 2}, true).shape() == Shape{1, 3, 1});

    // The gradient goes to the first maximal element only, as PyTorch.
    Tensor xg = ref("x", true);
    xg.max(1).values.sum().backward();
    check_ref(xg.grad(), "max.1.grad");
    Tensor tg = ref("t", true);
    (tg.max(1).values * tensor({1.0, 2.0, 3.0}, {kFloat64})).sum().backward();
    check_ref(tg.grad(), "max.ties.grad");

    const Tensor a = test::leaf({3, 4, 2}, 2);
    check_grads("max(1)", [](const TensorList& in) { return in[0].max(1).values; }, {a});
    check_grads("max(-1, keepdim)",
                [](const TensorList& in) { return max(in[0], -1, true).values; }, {a});
    check_grads("min(0)", [](const TensorList& in) { return in[0].min(0).values; }, {a});
    check_grads("min(-2, keepdim)", [](const TensorList& in) { return in[0].min(-2, true).values; },
                {a});

    CHECK_THROWS_AS(x.max(3), IndexError);
    CHECK_THROWS_WITH(x.max(3), Contains("xgrad::max") && Contains("3"));
    CHECK_THROWS_WITH(x.min(-4), Contains("xgrad::min") && Contains("-4"));
    CHECK_THROWS_WITH(zeros({2, 0}).max(1), Contains("xgrad::max") && Contains("[2, 0]"));
}

TEST_CASE("softmax and log_softmax as methods", "[tensor_api]") {
    const Tensor x = ref("x");
    check_ref(x.softmax(1), "softmax.1");
    check_ref(x.log_softmax(-1), "log_softmax.-1");
    check_ref(nn::functional::softmax(x, 1), "softmax.1");
    const Tensor a = test::leaf({2, 3, 4}, 3);
    check_grads("softmax(1)", [](const TensorList& in) { return in[0].softmax(1); }, {a});
    check_grads("log_softmax(-1)", [](const TensorList& in) { return log_softmax(in[0], -1); },
                {a});
    CHECK_THROWS_AS(x.softmax(3), IndexError);
    CHECK_THROWS_WITH(x.softmax(3), Contains("xgrad::softmax") && Contains("3"));
    CHECK_THROWS_AS(zeros({2}, {kLong}).log_softmax(0), DtypeError);
    CHECK_THROWS_WITH(zeros({2}, {kLong}).log_softmax(0), Contains("xgrad::log_softmax"));
}

TEST_CASE("method forms of arithmetic, comparisons, mm, bmm and clamps", "[tensor_api]") {
    const Tensor u = ref("u"), m = ref("m"), w = ref("w");
    CHECK(allclose_values(u.add(m), u + m));
    CHECK(allclose_values(u.add(m, 2.0), u + m * 2.0));
    CHECK(allclose_values(u.sub(m, 0.5), u - m * 0.5));
    CHECK(allclose_values(u.mul(m), u * m));
    CHECK(allclose_values(u.div(2.0), u / 2.0));
    CHECK(allclose_values(u.add(1.0).sub(1.0).mul(3.0), u * 3.0));
    CHECK(u.eq(u).all().item<bool>());
    CHECK_FALSE(u.ne(u).any().item<bool>());
    CHECK(u.lt(m).to_vector<bool>() == (u < m).to_vector<bool>());
    CHECK(u.le(0.0).to_vector<bool>() == (u <= 0.0).to_vector<bool>());
    CHECK(u.gt(m).to_vector<bool>() == (u > m).to_vector<bool>());
    CHECK(u.ge(0.25).to_vector<bool>() == (u >= 0.25).to_vector<bool>());
    CHECK(u.eq(0.0).dtype() == kBool);
    CHECK(allclose_values(u.mm(w), matmul(u, w)));
    const Tensor a = ref("a"), b = ref("b");
    CHECK(allclose_values(a.bmm(b), matmul(a, b)));
    CHECK(allclose_values(u.clamp_min(0.0), u.clamp(0.0)));
    CHECK(allclose_values(clamp_max(u, 0.1), u.clamp(std::nullopt, 0.1)));

    const Tensor p = test::leaf({3, 4}, 4), q = test::leaf({4, 2}, 5);
    check_grads("mm", [](const TensorList& in) { return in[0].mm(in[1]); }, {p, q});
    const Tensor p3 = test::leaf({2, 3, 4}, 6), q3 = test::leaf({2, 4, 2}, 7);
    check_grads("bmm", [](const TensorList& in) { return bmm(in[0], in[1]); }, {p3, q3});
    check_grads("add(alpha)", [](const TensorList& in) { return in[0].add(in[1], -1.5); },
                {p, test::leaf({4}, 8)});
    check_grads("clamp_min / clamp_max",
                [](const TensorList& in) { return in[0].clamp_min(-0.3).clamp_max(0.4); }, {p});

    CHECK_THROWS_AS(a.mm(b), ShapeError);
    CHECK_THROWS_WITH(a.mm(b), Contains("xgrad::mm") && Contains("[2, 3, 4]"));
    CHECK_THROWS_WITH(u.bmm(w), Contains("xgrad::bmm") && Contains("[3, 4]"));
    CHECK_THROWS_WITH(u.mm(u), Contains("xgrad::mm") && Contains("[3, 4]"));
}

TEST_CASE("bool reductions: sum counts as int64, mean is an error, any and all", "[tensor_api]") {
    const Tensor pred = tensor<std::int64_t>({0, 2, 1, 1, 0, 2});
    const Tensor y = tensor<std::int64_t>({0, 1, 1, 1, 2, 2});
    const Tensor hits = (pred == y).sum();
    CHECK(hits.dtype() == kLong);
    CHECK(hits.item<std::int64_t>() == 4);
    check_ref(hits, "bool.count");
    const Tensor m = ref("m");
    check_ref((m > 0.0).sum(1), "bool.sum.1");
    CHECK((m > 0.0).sum(1).dtype() == kLong);
    check_ref((m > 0.0).any(1), "any.1");
    check_ref((m > -1.2).all(0), "all.0");
    check_ref((m > 0.0).any(), "any.all");
    check_ref(all(m > 0.0), "all.all");
    CHECK(any(m > 0.0, -1, true).shape() == Shape{3, 1});
    CHECK(m.any().item<bool>());  // non-zero floats
    CHECK_FALSE(zeros({0}).any().item<bool>());
    CHECK(zeros({0}).all().item<bool>());
    CHECK(tensor({NAN}).all().item<bool>());
    CHECK(tensor<std::int64_t>({3, 4}).sum().dtype() == kLong);

    CHECK_THROWS_AS((m > 0.0).mean(), DtypeError);
    CHECK_THROWS_WITH((m > 0.0).mean(), Contains("xgrad::mean") && Contains("bool"));
    CHECK_THROWS_AS((m > 0.0).any(2), IndexError);
    CHECK_THROWS_WITH((m > 0.0).all(-3), Contains("xgrad::all") && Contains("-3"));
}

TEST_CASE("cumsum, tril, triu and masked_fill", "[tensor_api]") {
    const Tensor x = ref("x"), m = ref("m");
    check_ref(x.cumsum(1), "cumsum.1");
    check_ref(cumsum(x, -1), "cumsum.-1");
    CHECK(cumsum(tensor({true, false, true}), 0).to_vector<std::int64_t>() ==
          std::vector<std::int64_t>{1, 1, 2});
    check_ref(m.tril(), "tril.0");
    check_ref(tril(m, -1), "tril.-1");
    check_ref(m.triu(1), "triu.1");
    check_ref(x.triu(), "triu.batch");
    check_ref(m.masked_fill(m > 0.5, -7.0), "masked_fill");
    check_ref(masked_fill(m, tensor({true, false, false, true}), 2.5), "masked_fill.row");

    const Tensor a = test::leaf({2, 3, 4}, 9);
    check_grads("cumsum(1)", [](const TensorList& in) { return in[0].cumsum(1); }, {a});
    check_grads("cumsum(-1)", [](const TensorList& in) { return cumsum(in[0], -1) * in[0]; }, {a});
    check_grads("tril(-1)", [](const TensorList& in) { return in[0].tril(-1); }, {a});
    check_grads("triu(2)", [](const TensorList& in) { return triu(in[0], 2); }, {a});
    check_grads("masked_fill",
                [](const TensorList& in) { return in[0].masked_fill(in[0] > 0.2, 3.0) * in[0]; },
                {a});
    const Tensor v = test::leaf({}, 10);
    check_grads("masked_fill(tensor value)",
                [](const TensorList& in) { return in[0].masked_fill(in[0] > 0.0, in[1]); }, {a, v});

    CHECK_THROWS_AS(x.cumsum(3), IndexError);
    CHECK_THROWS_WITH(x.cumsum(-4), Contains("xgrad::cumsum") && Contains("-4"));
    CHECK_THROWS_AS(tensor({1.0, 2.0}).tril(), ShapeError);
    CHECK_THROWS_WITH(tensor({1.0, 2.0}).triu(), Contains("xgrad::triu") && Contains("[2]"));
    CHECK_THROWS_AS(m.masked_fill(m, 1.0), DtypeError);
    CHECK_THROWS_WITH(m.masked_fill(m, 1.0), Contains("xgrad::masked_fill") && Contains("bool"));
    CHECK_THROWS_AS(m.masked_fill(zeros({2}, {kBool}), 1.0), ShapeError);
    CHECK_THROWS_WITH(m.masked_fill(m > 0.0, ones({2}, {kFloat64})),
                      Contains("xgrad::masked_fill") && Contains("0-d"));
}

TEST_CASE("sort (stable, NaN last), argsort and topk", "[tensor_api]") {
    const Tensor t = ref("t"), nan = ref("nan"), x = ref("x");
    auto [sv, si] = t.sort(1);
    check_ref(sv, "sort.1.values");
    check_ref(si, "sort.1.indices");
    const ValuesIndices d = sort(t, 0, true, true);
    check_ref(d.values, "sort.0.desc.values");
    check_ref(d.indices, "sort.0.desc.indices");
    check_ref(nan.sort(1).values, "sort.nan.values");
    check_ref(nan.sort(1).indices, "sort.nan.indices");
    check_ref(nan.sort(-1, true).values, "sort.nan.desc.values");
    check_ref(nan.sort(-1, true).indices, "sort.nan.desc.indices");
    check_ref(t.argsort(1), "sort.1.indices");
    auto [tv, ti] = x.topk(2);
    check_ref(tv, "topk.2.values");
    check_ref(ti, "topk.2.indices");
    const ValuesIndices s = topk(x, 2, 1, false);
    check_ref(s.values, "topk.2.1.smallest.values");
    check_ref(s.indices, "topk.2.1.smallest.indices");
    // The reference weights are sin(0.3 i + 0.1) over [2, 3, 3]: recompute them here.
    std::vector<double> wv(18);
    for (std::size_t i = 0; i < wv.size(); ++i) wv[i] = std::sin(0.3 * double(i) + 0.1);
    Tensor xg2 = ref("x", true);
    (xg2.topk(3, -1).values * tensor(wv, {2, 3, 3}, {kFloat64})).sum().backward();
    check_ref(xg2.grad(), "topk.3.grad");

    const Tensor a = test::leaf({3, 5}, 11);
    check_grads("sort(1)", [](const TensorList& in) { return in[0].sort(1).values; }, {a});
    check_grads("sort(0, descending)",
                [](const TensorList& in) { return sort(in[0], -2, true).values; }, {a});
    check_grads("topk(2)", [](const TensorList& in) { return in[0].topk(2).values; }, {a});
    check_grads("topk(2, 0, smallest)",
                [](const TensorList& in) { return in[0].topk(2, 0, false).values; }, {a});

    CHECK_THROWS_AS(x.topk(5), IndexError);
    CHECK_THROWS_WITH(x.topk(5), Contains("xgrad::topk") && Contains("5") && Contains("4"));
    CHECK_THROWS_AS(x.topk(-1), IndexError);
    CHECK_THROWS_AS(x.sort(3), IndexError);
    CHECK_THROWS_WITH(x.sort(-4), Contains("xgrad::sort") && Contains("-4"));
}

TEST_CASE("einsum: the contractions attention needs, transposes and sums", "[tensor_api]") {
    const Tensor a = ref("a"), b = ref("b"), q = ref("q"), k = ref("k"), v = ref("v"), p = ref("p"),
                 u = ref("u"), w = ref("w"), m = ref("m");
    check_ref(einsum("bij,bjk->bik", {a, b}), "einsum.bij,bjk->bik");
    check_ref(einsum("bhqd,bhkd->bhqk", {q, k}), "einsum.bhqd,bhkd->bhqk");
    check_ref(einsum("bhqk,bhkd->bhqd", {p, v}), "einsum.bhqk,bhkd->bhqd");
    check_ref(einsum("ij,jk->ik", {u, w}), "einsum.ij,jk->ik");
    check_ref(einsum("bi,bi->b", {u, m}), "einsum.bi,bi->b");
    check_ref(einsum("ij->ji", {u}), "einsum.ij->ji");
    check_ref(einsum("ij->", {u}), "einsum.ij->");
    check_ref(einsum("ij,jk", {u, w}), "einsum.ij,jk");
    check_ref(einsum("i,j->ij", {u.select(0, 0), w.select(1, 1)}), "einsum.i,j->ij");
    check_ref(einsum("ij,jk,kl->il", {u, w, w.t()}), "einsum.ij,jk,kl->il");

    const Tensor qa = test::leaf({1, 2, 3, 2}, 12), ka = test::leaf({1, 2, 4, 2}, 13);
    check_grads("bhqd,bhkd->bhqk",
                [](const TensorList& in) { return einsum("bhqd,bhkd->bhqk", in); }, {qa, ka});
    const Tensor pa = test::leaf({1, 2, 3, 4}, 14), va = test::leaf({1, 2, 4, 2}, 15);
    check_grads("bhqk,bhkd->bhqd",
                [](const TensorList& in) { return einsum("bhqk,bhkd->bhqd", in); }, {pa, va});
    const Tensor ua = test::leaf({3, 2}, 16), ub = test::leaf({3, 2}, 17);
    check_grads("bi,bi->b", [](const TensorList& in) { return einsum("bi,bi->b", in); }, {ua, ub});
    check_grads("ij->ji", [](const TensorList& in) { return einsum("ij->ji", in); }, {ua});
    check_grads("ij,kj->ik", [](const TensorList& in) { return einsum("ij,kj->ik", in); },
                {ua, ub});

    CHECK_THROWS_AS(einsum("ij,jk->ik", {u}), ValueError);
    CHECK_THROWS_WITH(einsum("ij,jk->ik", {u}), Contains("xgrad::einsum") && Contains("2 operand"));
    CHECK_THROWS_AS(einsum("ijk,jk->ik", {u, w}), ShapeError);
    CHECK_THROWS_WITH(einsum("ijk,jk->ik", {u, w}),
                      Contains("xgrad::einsum") && Contains("[3, 4]"));
    CHECK_THROWS_WITH(einsum("ij,jk->ik", {u, u}), Contains("letter 'j'") && Contains("[3, 4]") &&
                                                       Contains("4") && Contains("3"));
    CHECK_THROWS_AS(einsum("ij->iz", {u}), ValueError);
    CHECK_THROWS_WITH(einsum("ij->iz", {u}), Contains("'z'"));
    CHECK_THROWS_AS(einsum("ii->i", {ones({3, 3}, {kFloat64})}), ValueError);
    CHECK_THROWS_AS(einsum("i1->i", {u}), ValueError);
    CHECK_THROWS_AS(einsum("...ij->ij", {u}), ValueError);
    CHECK_THROWS_AS(einsum("ij->ii", {u}), ValueError);
}

TEST_CASE("indexing: slices, integers, None, Ellipsis, index tensors and masks", "[tensor_api]") {
    const Tensor x = ref("x"), m = ref("m");
    check_ref(x.index({Slice(0, 2), 1, None, Ellipsis}), "index.0:2,1,None,...");
    check_ref(x.index({Ellipsis, Slice(None, None, 2)}), "index....,::2");
    check_ref(x.index({Slice(), -1}), "index.:,-1");
    check_ref(index(x, {1, Slice(1, None), None}), "index.1,1:,None");
    check_ref(x.index({-1, Slice(), Slice(1, 4, 2)}), "index.-1,:,1:4:2");
    check_ref(x.index({Slice(), tensor<std::int64_t>({{2, 0}, {-1, 1}})}), "index.tensor");
    check_ref(x.index({tensor<std::int64_t>({1}).reshape({})}), "index.tensor.0d");
    check_ref(m.index({m > 0.3}), "index.mask");
    check_ref(x.index({tensor({true, false}), 1}), "index.mask.rows");
    check_ref(x.index({x.index({Slice(), Slice(), 0}) > 0.0}), "index.mask.2d");
    CHECK(x.index({}).shape() == x.shape());
    // Several index tensors broadcast together (advanced indexing), masks among them.
    auto ints = [](std::initializer_list<std::int64_t> v) { return tensor<std::int64_t>(v); };
    check_ref(m.index({ints({0, 1, 1}), ints({3, 0, 2})}), "index.pairs");
    check_ref(m.index({tensor<std::int64_t>({{0}, {2}}), ints({1, -1})}), "index.pairs.broadcast");
    check_ref(x.index({Slice(), ints({0, 2}), ints({1, 3})}), "index.adjacent");
    check_ref(x.index({ints({1, 0}), Slice(), ints({3, 2})}), "index.separated");
    check_ref(x.index({ints({1, 0}), 1, ints({3, -2})}), "index.int.between");
    check_ref(x.index({tensor({true, true}), Slice(), ints({0, 1})}), "index.mask.and.tensor");
    check_ref(m.index({tensor({true}).reshape({})}), "index.mask.0d");
    CHECK(m.index({tensor({false}).reshape({})}).shape() == Shape{0, 3, 4});
    Tensor mg = ref("m", true);
    (mg.index({ints({0, 1, 1, 0}), ints({3, 0, 0, 3})}) * tensor({1.0, 2.0, 3.0, 4.0}, {kFloat64}))
        .sum()
        .backward();
    check_ref(mg.grad(), "index.grad.pairs");

    Tensor xg = ref("x", true);
    (xg.index({Slice(0, 2), 1, None, Ellipsis}) * 2.0).sum().backward();
    check_ref(xg.grad(), "index.grad.basic");
    Tensor xg2 = ref("x", true);
    xg2.index({Slice(), tensor<std::int64_t>({2, 0, 2})}).pow(2.0).sum().backward();
    check_ref(xg2.grad(), "index.grad.tensor");

    const Tensor a = test::leaf({3, 4, 2}, 18);
    check_grads("x[0:2, 1, None, ...]",
                [](const TensorList& in) {
                    return in[0].index({Slice(0, 2), 1, None, Ellipsis});
                },
                {a});
    check_grads("x[..., 1::2, -1]",
                [](const TensorList& in) {
                    return in[0].index({Ellipsis, Slice(1, None, 2), -1});
                },
                {a});
    check_grads("x[:, [[3, 0], [-1, 1]]]",
                [](const TensorList& in) {
                    return in[0].index({Slice(), tensor<std::int64_t>({{3, 0}, {-1, 1}})}) *
                           in[0].index({Slice(), 0, None, None});
                },
                {a});
    const Tensor mask = test::leaf({3, 4}, 19).detach() > 0.0;
    check_grads("x[mask]", [mask](const TensorList& in) { return in[0].index({mask}); }, {a});
    check_grads("x[[2, 0, 2], :, [1, -1, 0]]",
                [](const TensorList& in) {
                    return in[0].index({tensor<std::int64_t>({2, 0, 2}), Slice(),
                                        tensor<std::int64_t>({1, -1, 0})});
                },
                {a});
    check_grads("x[1:, [[0], [3]], [1, 0]]",
                [](const TensorList& in) {
                    return in[0].index({Slice(1, None), tensor<std::int64_t>({{0}, {3}}),
                                        tensor<std::int64_t>({1, 0})});
                },
                {a});

    CHECK_THROWS_AS(x.index({2}), IndexError);
    CHECK_THROWS_WITH(x.index({2}), Contains("xgrad::index") && Contains("2") &&
                                        Contains("dimension 0") && Contains("size 2"));
    CHECK_THROWS_WITH(x.index({Slice(), -4}), Contains("xgrad::index") && Contains("-4"));
    CHECK_THROWS_AS(x.index({0, 0, 0, 0}), IndexError);
    CHECK_THROWS_WITH(x.index({0, 0, 0, 0}), Contains("too many indices") && Contains("3"));
    CHECK_THROWS_AS(x.index({Ellipsis, 0, Ellipsis}), IndexError);
    CHECK_THROWS_AS(x.index({Slice(0, 2, 0)}), ValueError);
    CHECK_THROWS_WITH(x.index({Slice(0, 2, -1)}), Contains("xgrad::index") && Contains("step"));
    CHECK_THROWS_AS(x.index({tensor({1.0})}), DtypeError);
    CHECK_THROWS_AS(x.index({tensor<std::int64_t>({0, 2})}), IndexError);
    CHECK_THROWS_AS(x.index({tensor({true, false, true})}), IndexError);
    CHECK_THROWS_WITH(x.index({tensor({true, false, true})}),
                      Contains("xgrad::index") && Contains("[3]") && Contains("[2]"));
    CHECK_THROWS_AS(x.index({tensor<std::int64_t>({0, 1}), tensor<std::int64_t>({0, 1, 2})}),
                    IndexError);
    CHECK_THROWS_WITH(x.index({tensor<std::int64_t>({0, 1}), tensor<std::int64_t>({0, 1, 2})}),
                      Contains("xgrad::index") && Contains("broadcast") && Contains("[2], [3]"));
    CHECK_THROWS_WITH(x.index({Slice(), tensor<std::int64_t>({0}), tensor<std::int64_t>({4})}),
                      Contains("xgrad::index") && Contains("index 4") && Contains("dimension 2") &&
                          Contains("size 4"));
}

TEST_CASE("index_put_ writes in place and respects the version counter", "[tensor_api]") {
    Tensor z = zeros({3, 4}, {kFloat64});
    const std::uint64_t v0 = z.version();
    z.index_put_({Slice(1, None), tensor<std::int64_t>({0, 3})}, tensor({1.0, 2.0}, {kFloat64}));
    z.index_put_({0, Ellipsis}, 5.0);
    z.index_put_({z == zeros({}, {kFloat64})}, -1.0);
    z.index_put_({arange(std::int64_t{3}), tensor<std::int64_t>({0, 1, 2})},
                 tensor({7.0, 8.0, 9.0}, {kFloat64}));
    check_ref(z, "index_put");
    CHECK(z.version() == v0 + 4);
    // A view shares the storage, so the write shows through it.
    Tensor view = z.reshape({12});
    z.index_put_({2, 2}, 9.0);
    CHECK(view.to_vector<double>()[10] == 9.0);

    // An input saved for backward and then overwritten is refused by backward.
    Tensor w = ones({3}, {kFloat64, true});
    Tensor s = ones({3}, {kFloat64});
    Tensor y = (w * s).sum();
    s.index_put_({1}, 4.0);
    CHECK_THROWS_WITH(y.backward(), Contains("modified by an in-place operation"));

    CHECK_THROWS_AS(w.index_put_({0}, 1.0), AutogradError);
    CHECK_THROWS_WITH(w.index_put_({0}, 1.0), Contains("xgrad::index_put_"));
    {
        NoGradGuard no_grad;
        w.index_put_({0}, 3.0);  // a parameter update
    }
    CHECK(w.to_vector<double>()[0] == 3.0);
    CHECK_THROWS_AS(z.index_put_({0}, ones({4}, {kFloat32})), DtypeError);
    CHECK_THROWS_AS(z.index_put_({0}, ones({3}, {kFloat64})), ShapeError);
    CHECK_THROWS_WITH(z.index_put_({0}, ones({3}, {kFloat64})),
                      Contains("xgrad::index_put_") && Contains("[3]") && Contains("[4]"));
    CHECK_THROWS_WITH(z.index_put_({7}, 1.0), Contains("xgrad::index_put_") && Contains("7"));
}
