// Loss modules: the costs of nn/functional/loss.hpp holding their options, as in torch.nn.
//
//   nn::CrossEntropyLoss criterion({.label_smoothing = 0.1});
//   Tensor loss = criterion(model(x), y);
//
// The functions are also available directly in xgrad::nn: nn::cross_entropy(model(x), y).
// A class weight (and BCEWithLogitsLoss's pos_weight) is registered as a buffer named "weight"
// ("pos_weight"), so it is saved in state_dict() and converted by to(dtype).
#pragma once
#include <string>

#include <xgrad/nn/functional/loss.hpp>
#include <xgrad/nn/module.hpp>

namespace xgrad::nn {

using functional::binary_cross_entropy;
using functional::binary_cross_entropy_with_logits;
using functional::cosine_embedding_loss;
using functional::cross_entropy;
using functional::hinge_embedding_loss;
using functional::huber_loss;
using functional::kl_div;
using functional::l1_loss;
using functional::margin_ranking_loss;
using functional::mse_loss;
using functional::nll_loss;
using functional::smooth_l1_loss;

using functional::BCELossOptions;
using functional::BCEWithLogitsLossOptions;
using functional::CosineEmbeddingLossOptions;
using functional::CrossEntropyLossOptions;
using functional::CrossEntropyOptions;
using functional::HingeEmbeddingLossOptions;
using functional::HuberLossOptions;
using functional::KLDivLossOptions;
using functional::KLDivReduction;
using functional::L1LossOptions;
using functional::MarginRankingLossOptions;
using functional::MSELossOptions;
using functional::NLLLossOptions;
using functional::Reduction;
using functional::SmoothL1LossOptions;

// A loss takes (input, target); forward(input) alone is an error (see Module::forward).
class MSELoss : public Module {
  public:
    explicit MSELoss(MSELossOptions o = {}) : options(o) {}
    using Module::forward;
    Tensor forward(const Tensor& input, const Tensor& target) const;
    Tensor operator()(const Tensor& input, const Tensor& target) const {
        return forward(input, target);
    }
    std::string extra_repr() const override;

    MSELossOptions options;
};

class L1Loss : public Module {
  public:
    explicit L1Loss(L1LossOptions o = {}) : options(o) {}
    using Module::forward;
    Tensor forward(const Tensor& input, const Tensor& target) const;
    Tensor operator()(const Tensor& input, const Tensor& target) const {
        return forward(input, target);
    }
    std::string extra_repr() const override;

    L1LossOptions options;
};

class SmoothL1Loss : public Module {
  public:
    explicit SmoothL1Loss(SmoothL1LossOptions o = {});
    using Module::forward;
    Tensor forward(const Tensor& input, const Tensor& target) const;
    Tensor operator()(const Tensor& input, const Tensor& target) const {
        return forward(input, target);
    }
    std::string extra_repr() const override;

    SmoothL1LossOptions options;
};

class HuberLoss : public Module {
  public:
    explicit HuberLoss(HuberLossOptions o = {});
    using Module::forward;
    Tensor forward(const Tensor& input, const Tensor& target) const;
    Tensor operator()(const Tensor& input, const Tensor& target) const {
        return forward(input, target);
    }
    std::string extra_repr() const override;

    HuberLossOptions options;
};

class BCELoss : public Module {
  public:
    explicit BCELoss(BCELossOptions o = {});
    using Module::forward;
    Tensor forward(const Tensor& input, const Tensor& target) const;
    Tensor operator()(const Tensor& input, const Tensor& target) const {
        return forward(input, target);
    }
    std::string extra_repr() const override;

    BCELossOptions options;
};

class BCEWithLogitsLoss : public Module {
  public:
    explicit BCEWithLogitsLoss(BCEWithLogitsLossOptions o = {});
    using Module::forward;
    Tensor forward(const Tensor& input, const Tensor& target) const;
    Tensor operator()(const Tensor& input, const Tensor& target) const {
        return forward(input, target);
    }
    std::string extra_repr() const override;

    BCEWithLogitsLossOptions options;
};

class CrossEntropyLoss : public Module {
  public:
    explicit CrossEntropyLoss(CrossEntropyLossOptions o = {});
    using Module::forward;
    Tensor forward(const Tensor& input, const Tensor& target) const;
    Tensor operator()(const Tensor& input, const Tensor& target) const {
        return forward(input, target);
    }
    std::string extra_repr() const override;

    CrossEntropyLossOptions options;
};

class NLLLoss : public Module {
  public:
    explicit NLLLoss(NLLLossOptions o = {});
    using Module::forward;
    Tensor forward(const Tensor& input, const Tensor& target) const;
    Tensor operator()(const Tensor& input, const Tensor& target) const {
        return forward(input, target);
    }
    std::string extra_repr() const override;

    NLLLossOptions options;
};

class KLDivLoss : public Module {
  public:
    explicit KLDivLoss(KLDivLossOptions o = {}) : options(o) {}
    using Module::forward;
    Tensor forward(const Tensor& input, const Tensor& target) const;
    Tensor operator()(const Tensor& input, const Tensor& target) const {
        return forward(input, target);
    }
    std::string extra_repr() const override;

    KLDivLossOptions options;
};

class CosineEmbeddingLoss : public Module {
  public:
    explicit CosineEmbeddingLoss(CosineEmbeddingLossOptions o = {}) : options(o) {}
    using Module::forward;
    Tensor forward(const Tensor& x1, const Tensor& x2, const Tensor& y) const;
    Tensor operator()(const Tensor& x1, const Tensor& x2, const Tensor& y) const {
        return forward(x1, x2, y);
    }
    std::string extra_repr() const override;

    CosineEmbeddingLossOptions options;
};

class MarginRankingLoss : public Module {
  public:
    explicit MarginRankingLoss(MarginRankingLossOptions o = {}) : options(o) {}
    using Module::forward;
    Tensor forward(const Tensor& x1, const Tensor& x2, const Tensor& y) const;
    Tensor operator()(const Tensor& x1, const Tensor& x2, const Tensor& y) const {
        return forward(x1, x2, y);
    }
    std::string extra_repr() const override;

    MarginRankingLossOptions options;
};

class HingeEmbeddingLoss : public Module {
  public:
    explicit HingeEmbeddingLoss(HingeEmbeddingLossOptions o = {}) : options(o) {}
    using Module::forward;
    Tensor forward(const Tensor& input, const Tensor& y) const;
    Tensor operator()(const Tensor& input, const Tensor& y) const { return forward(input, y); }
    std::string extra_repr() const override;

    HingeEmbeddingLossOptions options;
};

}  // namespace xgrad::nn
