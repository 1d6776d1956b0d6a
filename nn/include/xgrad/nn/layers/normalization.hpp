// Batch and layer normalisation, composed from autograd ops (mean, subtraction, sqrt, ...), so
// their gradients, including through the batch statistics, come from the tape.
//
//   nn::BatchNorm2d bn(64, {.eps = 1e-5, .momentum = 0.1});
//   nn::BatchNorm1d bn1(32, {.affine = false});
//   nn::LayerNorm ln({8, 16});                    // normalises the last two dims
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <xgrad/core/shape.hpp>
#include <xgrad/nn/module.hpp>

namespace xgrad::nn {

struct BatchNormOptions {
    double eps = 1e-5;  // added to the variance before the square root
    // Weight of the new batch statistic in the running average:
    // running = (1 - momentum) * running + momentum * batch. nullopt uses the cumulative
    // average, momentum = 1 / num_batches_tracked.
    std::optional<double> momentum = 0.1;
    bool affine = true;               // learnable per-channel weight (ones) and bias (zeros)
    bool track_running_stats = true;  // keep running_mean / running_var buffers
};

// Shared implementation of BatchNorm1d and BatchNorm2d: per channel (dim 1),
//   y = (x - mean) / sqrt(var + eps) * weight + bias,
// with mean and the biased variance of the batch (over every dim but 1) in training mode, or
// when track_running_stats is false; with running_mean / running_var in evaluation mode.
// Each training-mode call updates the running statistics as PyTorch does, with the *unbiased*
// batch variance (n / (n - 1) times the biased one), and adds 1 to num_batches_tracked.
// Training needs more than one value per channel (else ValueError, as PyTorch).
//
// Parameters weight and bias [C] (when affine); buffers running_mean [C] (zeros),
// running_var [C] (ones) and num_batches_tracked (0-d int64) when track_running_stats.
class BatchNormBase : public Module {
  public:
    Tensor forward(const Tensor& input) override;
    std::string extra_repr() const override;
    // running_mean = 0, running_var = 1, num_batches_tracked = 0.
    void reset_running_stats();

    std::int64_t num_features;
    BatchNormOptions options;
    Tensor weight, bias;                                    // undefined unless affine
    Tensor running_mean, running_var, num_batches_tracked;  // undefined unless tracked

  protected:
    // `layer` names the derived class in errors raised while constructing.
    BatchNormBase(const char* layer, std::int64_t num_features, BatchNormOptions options);
    // Throws ShapeError naming the layer unless the input has an accepted rank and
    // num_features channels in dim 1.
    virtual void check_input(const Tensor& input) const = 0;
};

// Input [N, C] or [N, C, L].
class BatchNorm1d : public BatchNormBase {
  public:
    explicit BatchNorm1d(std::int64_t num_features, BatchNormOptions options = {})
        : BatchNormBase("BatchNorm1d", num_features, options) {}

  protected:
    void check_input(const Tensor& input) const override;
};

// Input [N, C, H, W].
class BatchNorm2d : public BatchNormBase {
  public:
    explicit BatchNorm2d(std::int64_t num_features, BatchNormOptions options = {})
        : BatchNormBase("BatchNorm2d", num_features, options) {}

  protected:
    void check_input(const Tensor& input) const override;
};

struct LayerNormOptions {
    double eps = 1e-5;
    bool elementwise_affine = true;  // learnable weight (ones) and bias (zeros) of normalized_shape
};

// Normalises over the trailing dims given by normalized_shape, per sample:
//   y = (x - mean) / sqrt(var + eps) * weight + bias   (biased variance),
// the same in training and evaluation mode. The input's last dims must equal normalized_shape.
class LayerNorm : public Module {
  public:
    explicit LayerNorm(Shape normalized_shape, LayerNormOptions options = {});
    explicit LayerNorm(std::int64_t normalized_size, LayerNormOptions options = {})
        : LayerNorm(Shape{normalized_size}, options) {}
    Tensor forward(const Tensor& input) override;
    std::string extra_repr() const override;

    Shape normalized_shape;
    LayerNormOptions options;
    Tensor weight, bias;  // undefined unless elementwise_affine
};

}  // namespace xgrad::nn
