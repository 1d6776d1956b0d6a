// Embedding: a lookup table of num_embeddings vectors of size embedding_dim, indexed by int64
// tensors of any shape (output shape = index shape + [embedding_dim]). Composed from
// index_select, so the weight's gradient (rows summed over repeated indices) comes from the tape.
//
//   nn::Embedding emb(10000, 64, {.padding_idx = 0});
//   Tensor v = emb(tokens);                    // tokens int64 [N, T] -> [N, T, 64]
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <xgrad/nn/module.hpp>

namespace xgrad::nn {

struct EmbeddingOptions {
    // The row of this index (negative counts from the end) starts as zeros and never receives
    // a gradient, as PyTorch's padding_idx. Its current value is still returned.
    std::optional<std::int64_t> padding_idx{};
};

// weight [num_embeddings, embedding_dim], initialised N(0, 1) as PyTorch (the padding row
// zeroed). An index outside [0, num_embeddings) is an IndexError naming it; non-int64 indices
// are a DtypeError.
class Embedding : public Module {
  public:
    Embedding(std::int64_t num_embeddings, std::int64_t embedding_dim,
              EmbeddingOptions options = {});
    Tensor forward(const Tensor& indices) override;
    std::string extra_repr() const override;

    std::int64_t num_embeddings, embedding_dim;
    std::optional<std::int64_t> padding_idx;  // normalised to [0, num_embeddings)
    Tensor weight;
};

}  // namespace xgrad::nn
