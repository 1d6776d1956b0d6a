#include <algorithm>
#include <string>

#include <xgrad/autograd/ops.hpp>
#include <xgrad/core/check.hpp>
#include <xgrad/core/creation.hpp>
#include <xgrad/nn/init.hpp>
#include <xgrad/nn/layers/embedding.hpp>

namespace xgrad::nn {

Embedding::Embedding(std::int64_t num, std::int64_t dim, EmbeddingOptions options)
    : num_embeddings(num), embedding_dim(dim) {
    if (num <= 0 || dim <= 0)
        raise<ValueError>("nn::Embedding",
                          "sizes must be positive, got num_embeddings=", std::to_string(num),
                          ", embedding_dim=", std::to_string(dim));
    if (options.padding_idx) {
        const std::int64_t p = *options.padding_idx;
        if (p < -num || p >= num)
            raise<ValueError>("nn::Embedding", "padding_idx ", std::to_string(p),
                              " must be within [-", std::to_string(num), ", ", std::to_string(num),
                              ") (num_embeddings=", std::to_string(num), ")");
        padding_idx = p < 0 ? p + num : p;
    }
    Tensor w = empty({num, dim});
    init::normal_(w, 0.0, 1.0);
    if (padding_idx) {
        float* row = w.data_ptr<float>() + *padding_idx * dim;
        std::fill(row, row + dim, 0.0f);
        w.bump_version();
    }
    weight = register_parameter("weight", w);
}

Tensor Embedding::forward(const Tensor& indices) {
    if (!indices.defined()) raise<ValueError>("nn::Embedding", "undefined indices");
    if (indices.dtype() != Dtype::i64)
        raise<DtypeError>("nn::Embedding", "indices must be int64, got ",
                          std::string(dtype_name(indices.dtype())), " of shape ",
                          shape_str(indices.shape()));
    const Tensor flat = indices.reshape({-1});
    const std::int64_t* idx = flat.data_ptr<std::int64_t>();
    bool hits_padding = false;
    for (std::int64_t i = 0; i < flat.numel(); ++i) {
        if (idx[i] < 0 || idx[i] >= num_embeddings)
            raise<IndexError>("nn::Embedding", "index ", std::to_string(idx[i]), " (element ",
                              std::to_string(i), " of indices of shape ",
                              shape_str(indices.shape()), ") is out of range [0, ",
                              std::to_string(num_embeddings),
                              ") (num_embeddings=", std::to_string(num_embeddings), ")");
        if (padding_idx && idx[i] == *padding_idx) hits_padding = true;
    }
    Tensor rows = index_select(weight, 0, flat);  // [M, D]
    if (hits_padding) {
        // The padding row's value is returned but receives no gradient: at those positions
        // take the same values from a detached copy.
        const Tensor is_pad =
            (flat == scalar_tensor<std::int64_t>(*padding_idx)).reshape({flat.numel(), 1});
        rows = where(is_pad, rows.detach(), rows);
    }
    Shape out_shape = indices.shape();
    out_shape.push_back(embedding_dim);
    return rows.reshape(out_shape);
}

std::string Embedding::extra_repr() const {
    std::string s = std::to_string(num_embeddings) + ", " + std::to_string(embedding_dim);
    if (padding_idx) s += ", padding_idx=" + std::to_string(*padding_idx);
    return s;
}

}  // namespace xgrad::nn
