// einsum, mm and bmm: contractions written in permute, reshape, sum and matmul, so they are
// differentiable to any order through those ops' rules.
//
// einsum with two operands: letters only in one operand and not in the output are summed out
// first; the others are batch letters (both operands and the output), left / right letters
// (one operand and the output) and contracted letters (both operands, not the output). The
// operands are permuted to [batch, left, contracted] and [batch, contracted, right], reshaped
// to 3-D, multiplied by one batched matmul, and the result is reshaped and permuted to the
// output. More operands are contracted left to right, keeping the letters needed later.
#include <algorithm>
#include <string>
#include <vector>

#include "op_common.hpp"

namespace xgrad {

using namespace ops;

namespace {

bool is_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool has(const std::string& s, char c) {
    return s.find(c) != std::string::npos;
}

// x (subscripts `from`) with every letter not in `keep` summed out, permuted to `to` (which must
// hold exactly the remaining letters).
Tensor reduce_to(const Tensor& x, const std::string& from, const std::string& to) {
    Axes summed;
    std::string rest;
    for (std::size_t k = 0; k < from.size(); ++k) {
        if (has(to, from[k]))
            rest += from[k];
        else
            summed.push_back(static_cast<std::int64_t>(k));
    }
    Tensor y = summed.empty() ? x : sum(x, summed, false);
    if (rest == to) return y;
    Axes perm;
    for (char c : to) perm.push_back(static_cast<std::int64_t>(rest.find(c)));
    return permute(y, perm);
}

std::int64_t product(const Shape& s, std::size_t begin, std::size_t end) {
    std::int64_t p = 1;
    for (std::size_t k = begin; k < end; ++k) p *= s[k];
    return p;
}

// a (subscripts sa) and b (sb) contracted to the subscripts `out`: every letter of out is in
// sa or sb.
Tensor contract(const Tensor& a, const std::string& sa, const Tensor& b, const std::string& sb,
                const std::string& out) {
    std::string batch, left, right, inner;
    for (char c : sa) {
        if (has(sb, c))
            (has(out, c) ? batch : inner) += c;
        else if (has(out, c))
            left += c;
    }
    for (char c : sb)
        if (!has(sa, c) && has(out, c)) right += c;
    const Tensor A = reduce_to(a, sa, batch + left + inner);
    const Tensor B = reduce_to(b, sb, batch + inner + right);
    const Shape& as = A.shape();
    const Shape& bs = B.shape();
    const std::size_t nb = batch.size(), nl = left.size(), ni = inner.size(), nr = right.size();
    const std::int64_t bsz = product(as, 0, nb), l = product(as, nb, nb + nl),
                       k = product(as, nb + nl, nb + nl + ni),
                       r = product(bs, nb + ni, nb + ni + nr);
    const Tensor C = matmul(reshape(A, {bsz, l, k}), reshape(B, {bsz, k, r}));
    Shape cs(as.begin(), as.begin() + static_cast<std::ptrdiff_t>(nb + nl));
    cs.insert(cs.end(), bs.begin() + static_cast<std::ptrdiff_t>(nb + ni), bs.end());
    return reduce_to(reshape(C, cs), batch + left + right, out);
}

}  // namespace

Tensor einsum(const std::string& equation, const TensorList& operands) {
    const char* op = "einsum";
    std::string eq;
    for (char c : equation)
        if (c != ' ') eq += c;
    // Split "lhs->rhs" and the lhs at commas.
    const std::size_t arrow = eq.find("->");
    const std::string lhs = eq.substr(0, arrow);
    std::vector<std::string> inputs(1);
    for (char c : lhs) {
        if (c == ',')
            inputs.emplace_back();
        else
            inputs.back() += c;
    }
    auto bad = [&](const std::string& why) {
        raise<ValueError>(op, "malformed equation \"", equation, "\": ", why);
    };
    if (eq.find('.') != std::string::npos) bad("ellipsis (...) is not supported");
    if (inputs.size() != operands.size())
        raise<ValueError>(op, "the equation \"", equation, "\" has ", inputs.size(),
                          " operand(s) but ", operands.size(), " tensor(s) were given");
    if (operands.empty()) bad("no operands");
    std::string all;  // every letter of the inputs, in order of appearance, with repeats
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const Tensor& t = operands[i];
        check_defined(op, t);
        for (std::size_t k = 0; k < inputs[i].size(); ++k) {
            const char c = inputs[i][k];
            if (!is_letter(c)) bad(std::string("unexpected character '") + c + "'");
            if (inputs[i].find(c) != k)
                bad(std::string("letter '") + c + "' repeats within operand " + std::to_string(i) +
                    " (diagonals are not supported)");
        }
        if (static_cast<std::int64_t>(inputs[i].size()) != t.dim())
            raise<ShapeError>(op, "operand ", i, " has ", inputs[i].size(), " subscripts (\"",
                              inputs[i], "\") but ", t.dim(), " dimensions (", describe(t), ")");
        if (i > 0) check_same_dtype(op, operands[0], t);
        all += inputs[i];
    }
    // Every letter names one size.
    for (std::size_t i = 0; i < inputs.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            for (std::size_t k = 0; k < inputs[i].size(); ++k) {
                const std::size_t at = inputs[j].find(inputs[i][k]);
                if (at == std::string::npos) continue;
                const std::int64_t si = operands[i].shape()[k], sj = operands[j].shape()[at];
                if (si != sj)
                    raise<ShapeError>(op, "letter '", inputs[i][k], "' has size ", sj,
                                      " in operand ", j, " ", shape_str(operands[j].shape()),
                                      " but ", si, " in operand ", i, " ",
                                      shape_str(operands[i].shape()));
            }
    std::string out;
    if (arrow == std::string::npos) {
        // Implicit output: the letters used once, in alphabetical order.
        for (char c : all)
            if (std::count(all.begin(), all.end(), c) == 1) out += c;
        std::sort(out.begin(), out.end());
    } else {
        out = eq.substr(arrow + 2);
        for (std::size_t k = 0; k < out.size(); ++k) {
            const char c = out[k];
            if (!is_letter(c)) bad(std::string("unexpected character '") + c + "' in the output");
            if (out.find(c) != k) bad(std::string("letter '") + c + "' repeats in the output");
            if (!has(all, c))
                bad(std::string("output letter '") + c + "' does not appear in the inputs");
        }
    }
    if (operands.size() == 1) return reduce_to(operands[0], inputs[0], out);
    // Left to right: after each step keep the letters the output or a later operand needs.
    Tensor acc = operands[0];
    std::string sacc = inputs[0];
    for (std::size_t i = 1; i < operands.size(); ++i) {
        std::string later = out;
        for (std::size_t j = i + 1; j < inputs.size(); ++j) later += inputs[j];
        std::string keep;
        for (char c : sacc + inputs[i])
            if (has(later, c) && !has(keep, c)) keep += c;
        if (i + 1 == operands.size()) keep = out;
        acc = contract(acc, sacc, operands[i], inputs[i], keep);
        sacc = keep;
    }
    return acc;
}

Tensor mm(const Tensor& a, const Tensor& b) {
    check_defined("mm", a);
    check_defined("mm", b);
    if (a.dim() != 2 || b.dim() != 2 || a.shape()[1] != b.shape()[0])
        raise<ShapeError>("mm", "needs [n, m] and [m, p] matrices, got ", describe(a), " and ",
                          describe(b));
    return matmul(a, b);
}

Tensor bmm(const Tensor& a, const Tensor& b) {
    check_defined("bmm", a);
    check_defined("bmm", b);
    if (a.dim() != 3 || b.dim() != 3 || a.shape()[0] != b.shape()[0] ||
        a.shape()[2] != b.shape()[1])
        raise<ShapeError>("bmm", "needs [b, n, m] and [b, m, p] batches, got ", describe(a),
                          " and ", describe(b));
    return matmul(a, b);
}

Tensor Tensor::mm(const Tensor& other) const {
    return xgrad::mm(*this, other);
}
Tensor Tensor::bmm(const Tensor& other) const {
    return xgrad::bmm(*this, other);
}

}  // namespace xgrad
