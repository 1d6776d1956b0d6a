// A progress bar for long loops: epoch, batch i/n, loss, accuracy, samples/s and ETA.
//
// On a terminal it redraws one line in place ('\r'); when the output is a file or a pipe it
// prints a plain line every 10% (and at the end), so logs stay readable:
//
//   for (int epoch = 1; epoch <= 5; ++epoch) {
//       ProgressBar bar(num_batches, {.epoch = epoch, .num_epochs = 5});
//       std::int64_t i = 0;
//       for (auto& [x, y] : loader) {
//           ...
//           bar.update(++i, {.loss = loss.item<double>(), .accuracy = acc, .samples = x.size(0)});
//       }
//       bar.finish();   // final line and newline; bar.mean_loss() is the epoch's mean loss
//   }
//
// epoch 2/5 [=========>          ] 120/469  26% loss 0.4213 acc 85.12% 3456 samples/s ETA 00:07
//
// Loss and accuracy are shown as running means over the loop (weighted by `samples` when it is
// given), as Keras does; accuracy is a fraction in [0, 1] and is shown as a percentage.
#pragma once
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

namespace xgrad {

enum class ProgressMode {
    Auto,      // terminal mode when the stream is std::cout/std::cerr/std::clog on a tty
    Terminal,  // redraw one line with '\r'
    Plain,     // a full line every `plain_percent` percent and at the end
};

struct ProgressOptions {
    std::int64_t epoch = 0;  // shown as "epoch 3/10" when > 0 ("epoch 3" without num_epochs)
    std::int64_t num_epochs = 0;
    std::string label{};             // shown first, e.g. "train" or "eval"
    std::ostream* stream = nullptr;  // nullptr = std::cout
    ProgressMode mode = ProgressMode::Auto;
    int bar_width = 20;               // characters inside [ ] in terminal mode (0 = no bar)
    int plain_percent = 10;           // plain mode: print when progress crosses each multiple
    std::int64_t plain_every = 100;   // plain mode with unknown total: every this many batches
    double min_redraw_seconds = 0.1;  // terminal mode: redraw at most this often (0 = always)
    // Seconds since an arbitrary origin; steady_clock when empty. Tests inject a fake clock.
    std::function<double()> clock{};
};

struct ProgressUpdate {
    std::optional<double> loss{};      // this batch's loss
    std::optional<double> accuracy{};  // this batch's accuracy in [0, 1]
    std::int64_t samples = 0;          // samples in this batch (for samples/s and the weighting)
};

class ProgressBar {
  public:
    // `total` batches (0 when unknown: no percentage and no ETA).
    explicit ProgressBar(std::int64_t total, ProgressOptions options = {});
    // Prints the final line if finish() was not called.
    ~ProgressBar();
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;

    // Reports that `batch` batches are done (1-based: call update(i + 1, ...) after batch i).
    // `batch` must not decrease and must not exceed a known total (ValueError).
    void update(std::int64_t batch, const ProgressUpdate& update = {});
    // Prints the final line (with the elapsed time) and a newline; later calls do nothing.
    void finish();

    bool terminal() const { return terminal_; }
    std::int64_t batch() const { return batch_; }
    std::int64_t total() const { return total_; }
    std::int64_t samples() const { return samples_; }
    double elapsed_seconds() const;
    // Running means of what update() was given (nullopt when never given).
    std::optional<double> mean_loss() const;
    std::optional<double> mean_accuracy() const;
    // The status line as it would be printed now, without '\r' or newline.
    std::string line() const;

  private:
    double now() const;
    void draw(bool final_line);
    std::string compose(bool final_line) const;

    std::int64_t total_;
    ProgressOptions options_;
    std::ostream* out_;
    bool terminal_ = false;
    bool finished_ = false;
    double start_ = 0;
    double last_draw_ = -1;
    std::int64_t batch_ = 0;
    std::int64_t samples_ = 0;
    double loss_sum_ = 0, loss_weight_ = 0;
    double acc_sum_ = 0, acc_weight_ = 0;
    std::int64_t plain_mark_ = 0;  // plain mode: last printed 10% bucket (or batch, total unknown)
    std::size_t last_width_ = 0;   // terminal mode: length of the line last drawn
};

// "1:02:03", "02:03": a duration for progress lines.
std::string format_duration(double seconds);

}  // namespace xgrad
