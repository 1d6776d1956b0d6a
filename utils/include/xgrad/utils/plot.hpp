// Plots written as standalone SVG files by a small built-in renderer (no dependencies): axes
// with round tick values, labels, a title and a legend. Every writer replaces its file
// atomically (a temporary file in the same folder, then a rename) and escapes all text, and
// throws an xgrad::Error subclass naming the function on bad input or a failed write.
//
//   plot::line_chart({{"train", {}, train_loss}, {"test", {}, test_loss}}, "loss.svg",
//                    {.title = "Loss", .x_label = "epoch", .y_label = "cross-entropy"});
//   plot::decision_boundary([&](const Tensor& p) { return model(p); }, x, y, "boundary.svg");
//   plot::regression_fit(x, y, grid, model(grid), "fit.svg", {.title = "sin(x)"});
//   plot::confusion_matrix_heatmap(metrics::confusion_matrix(logits, y, 10), names, "cm.svg");
//   plot::image_grid(images, "samples.svg", {.labels = truth, .predicted = guesses});
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <xgrad/core/tensor.hpp>

namespace xgrad::plot {

// A closed interval of an axis.
struct Range {
    double min = 0;
    double max = 1;
};

// One curve: y against x. An empty x means 1, 2, ..., y.size() (epochs). Non-finite y values
// leave a gap in the line.
struct Series {
    std::string name{};  // legend entry (no entry when empty)
    std::vector<double> x{};
    std::vector<double> y{};
};

// ---- loss and accuracy curves --------------------------------------------------------------

struct LineChartOptions {
    std::string title{};
    std::string x_label{};
    std::string y_label{};
    bool log_y = false;              // logarithmic y axis (every y must then be > 0)
    bool markers = false;            // a dot on every point
    std::optional<Range> y_range{};  // fixed y limits (e.g. {0, 1} for accuracy)
    int width = 720;
    int height = 440;
};

void line_chart(const std::vector<Series>& series, const std::filesystem::path& path,
                const LineChartOptions& options = {});

// ---- decision boundary of a 2-D classifier -----------------------------------------------

struct DecisionBoundaryOptions {
    std::string title{};
    std::string x_label = "x1";
    std::string y_label = "x2";
    // Plotted region; by default the points' bounding box with a 10% margin on every side.
    // Required when a precomputed grid is given.
    std::optional<Range> x_range{};
    std::optional<Range> y_range{};
    int resolution = 120;                    // grid cells along each axis (predict-function form)
    std::vector<std::string> class_names{};  // legend; "class k" when missing
    int width = 620;
    int height = 520;
};

// The centres of a resolution x resolution grid over the ranges, as float32 [res * res, 2]:
// row r * res + c holds (x of column c, y of row r); row 0 is at y = y.min.
Tensor decision_grid_points(Range x, Range y, std::int64_t resolution);

// `predict` maps float32 points [M, 2] to class indices int64 [M] or to scores [M, C] (argmax);
// it runs once, without recording a tape. `points` [N, 2] (floating) are drawn over the
// regions coloured by `labels` [N] (int64); both may be undefined tensors to draw no points.
void decision_boundary(const std::function<Tensor(const Tensor&)>& predict, const Tensor& points,
                       const Tensor& labels, const std::filesystem::path& path,
                       const DecisionBoundaryOptions& options = {});
// The same with precomputed classes: `grid` int64 [rows, cols] over options.x_range and
// options.y_range, row 0 at y.min (as laid out by decision_grid_points).
void decision_boundary(const Tensor& grid, const Tensor& points, const Tensor& labels,
                       const std::filesystem::path& path, const DecisionBoundaryOptions& options);

// ---- regression fit -----------------------------------------------------------------------

struct RegressionFitOptions {
    std::string title{};
    std::string x_label = "x";
    std::string y_label = "y";
    std::string data_name = "data";
    std::string fit_name = "prediction";
    std::vector<Series> extra_curves{};  // e.g. the true function, drawn dashed
    int width = 720;
    int height = 440;
};

// Data points (x, y_true) as dots and the model's curve (curve_x, curve_y) as a line (sorted by
// x). Each tensor is [N] or [N, 1], of any numeric dtype.
void regression_fit(const Tensor& x, const Tensor& y_true, const Tensor& curve_x,
                    const Tensor& curve_y, const std::filesystem::path& path,
                    const RegressionFitOptions& options = {});

// ---- confusion matrix heat map ------------------------------------------------------------

struct HeatmapOptions {
    std::string title = "Confusion matrix";
    std::string x_label = "predicted";
    std::string y_label = "true";
    // Colour each row by its fraction of the row's total (recall per cell) instead of by the
    // raw count; cells still show counts.
    bool normalize_rows = false;
    int cell_size = 0;  // pixels per cell (0 = automatic)
};

// `matrix` [C, C] of counts (rows = true class, as metrics::confusion_matrix returns);
// `class_names` is empty or holds C names.
void confusion_matrix_heatmap(const Tensor& matrix, const std::vector<std::string>& class_names,
                              const std::filesystem::path& path,
                              const HeatmapOptions& options = {});

// ---- sample images ---------------------------------------------------------------------------

struct ImageGridOptions {
    std::string title{};
    std::vector<std::string> labels{};     // empty, or one caption per image (the true label)
    std::vector<std::string> predicted{};  // empty, or one per image: green when equal to the
                                           // label, red otherwise
    int columns = 8;
    int scale = 3;         // screen pixels per image pixel
    bool rescale = false;  // stretch each image to [0, 1] by its min and max (else clamp)
};

// `images` [N, H, W] or [N, 1, H, W] (grey) or [N, 3, H, W] (RGB), floating, values in [0, 1].
void image_grid(const Tensor& images, const std::filesystem::path& path,
                const ImageGridOptions& options = {});

}  // namespace xgrad::plot
