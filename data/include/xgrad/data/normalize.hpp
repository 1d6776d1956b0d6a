// Feature scaling: standardisation (zero mean, unit variance) and min-max scaling.
//
//   auto scaler = data::Standardizer::fit(train_x);       // statistics of the training set
//   Tensor x = scaler.transform(test_x);                  // (x - mean) / std
//   Tensor y = scaler.inverse_transform(pred);            // back to the original units
//   Tensor img = data::normalize(images, 0.2860, 0.3530); // known mean/std
//   data::normalize_(images, 0.2860, 0.3530);             // the same, in place
//   data::normalize_(images, pixel_mean, pixel_std);      // per feature (pixel), in place
//
// Statistics are taken over `dims` (default {0}, the sample dimension: one value per feature)
// and kept with size-1 dimensions, so they broadcast against the data. The standard deviation is
// the population one (correction 0, as scikit-learn's StandardScaler); a feature that does not
// vary gets std 1 (and a range of 1 for min-max), so it maps to 0 instead of a division by zero.
// Statistics are computed without recording on the tape; transforms are ordinary ops.
#pragma once
#include <utility>

#include <xgrad/core/tensor.hpp>

namespace xgrad::data {

// Per-feature mean and standard deviation of a floating tensor.
std::pair<Tensor, Tensor> mean_std(const Tensor& x, const Axes& dims = {0});
// Per-feature minimum and maximum.
std::pair<Tensor, Tensor> min_max(const Tensor& x, const Axes& dims = {0});

// (x - mean) / std, broadcasting.
Tensor normalize(const Tensor& x, const Tensor& mean, const Tensor& std);
Tensor normalize(const Tensor& x, double mean, double std);
// The same, in place (torchvision's normalize(..., inplace=True)): no second copy of a dataset,
// which for Fashion-MNIST is 188 MB. Gives the values normalize() gives, bit for bit; refuses a
// tensor that requires grad (as PyTorch refuses in-place ops on such leaves).
Tensor& normalize_(Tensor& x, double mean, double std);
// The same with one mean and std per feature, in place: `mean` and `std` (the dtype of x) have
// the shape of x's trailing dimensions, possibly after leading 1s (so mean_std(x) of a matrix
// [N, F], shaped [1, F], fits), and every std must be positive and finite. Gives the values
// normalize(x, mean, std) gives, bit for bit. Anything else (a mean shaped [N, 1], say) throws
// and changes nothing; use normalize() for general broadcasting.
Tensor& normalize_(Tensor& x, const Tensor& mean, const Tensor& std);
// (x - min) / (max - min) mapped onto [low, high].
Tensor min_max_scale(const Tensor& x, const Tensor& min, const Tensor& max, double low = 0.0,
                     double high = 1.0);

struct Standardizer {
    Tensor mean;
    Tensor std;

    static Standardizer fit(const Tensor& x, const Axes& dims = {0});
    Tensor transform(const Tensor& x) const;
    Tensor inverse_transform(const Tensor& x) const;
};

struct MinMaxScaler {
    Tensor min;
    Tensor max;
    double low = 0.0;
    double high = 1.0;

    static MinMaxScaler fit(const Tensor& x, double low = 0.0, double high = 1.0,
                            const Axes& dims = {0});
    Tensor transform(const Tensor& x) const;
    Tensor inverse_transform(const Tensor& x) const;
};

}  // namespace xgrad::data
