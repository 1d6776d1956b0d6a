#include <xgrad/utils/progress.hpp>

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>

#include <xgrad/core/check.hpp>
#include <xgrad/core/error.hpp>

namespace xgrad {

namespace {

bool stream_is_tty(const std::ostream* out) {
    if (out == &std::cout) return ::isatty(STDOUT_FILENO) == 1;
    if (out == &std::cerr || out == &std::clog) return ::isatty(STDERR_FILENO) == 1;
    return false;
}

std::string fmt(const char* format, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

}  // namespace

std::string format_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "--:--";
    const auto total = static_cast<long long>(std::llround(seconds));
    const long long h = total / 3600, m = (total / 60) % 60, s = total % 60;
    char buf[64];
    if (h > 0)
        std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", h, m, s);
    else
        std::snprintf(buf, sizeof buf, "%02lld:%02lld", m, s);
    return buf;
}

ProgressBar::ProgressBar(std::int64_t total, ProgressOptions options)
    : total_(total), options_(std::move(options)) {
    if (total_ < 0)
        raise<ValueError>("ProgressBar", "total must be >= 0 (0 = unknown), got ",
                          std::to_string(total_));
    out_ = options_.stream ? options_.stream : &std::cout;
    switch (options_.mode) {
        case ProgressMode::Terminal:
            terminal_ = true;
            break;
        case ProgressMode::Plain:
            terminal_ = false;
            break;
        case ProgressMode::Auto:
            terminal_ = stream_is_tty(out_);
            break;
    }
    start_ = now();
}

ProgressBar::~ProgressBar() {
    try {
        finish();
    } catch (...) {
        // A destructor must not throw; a failing stream has nothing more to show.
    }
}

double ProgressBar::now() const {
    if (options_.clock) return options_.clock();
    using clock = std::chrono::steady_clock;
    return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

double ProgressBar::elapsed_seconds() const {
    return now() - start_;
}

std::optional<double> ProgressBar::mean_loss() const {
    if (loss_weight_ <= 0) return std::nullopt;
    return loss_sum_ / loss_weight_;
}

std::optional<double> ProgressBar::mean_accuracy() const {
    if (acc_weight_ <= 0) return std::nullopt;
    return acc_sum_ / acc_weight_;
}

void ProgressBar::update(std::int64_t batch, const ProgressUpdate& u) {
    if (finished_)
        raise<ValueError>("ProgressBar::update", "called after finish() (batch ",
                          std::to_string(batch), ")");
    if (batch < batch_ || batch < 1)
        raise<ValueError>("ProgressBar::update", "batch ", std::to_string(batch),
                          " must be >= 1 and must not go back (last was ", std::to_string(batch_),
                          ")");
    if (total_ > 0 && batch > total_)
        raise<ValueError>("ProgressBar::update", "batch ", std::to_string(batch),
                          " exceeds the total of ", std::to_string(total_));
    if (u.samples < 0)
        raise<ValueError>("ProgressBar::update", "samples must be >= 0, got ",
                          std::to_string(u.samples));
    batch_ = batch;
    samples_ += u.samples;
    const double weight = u.samples > 0 ? static_cast<double>(u.samples) : 1.0;
    if (u.loss) {
        loss_sum_ += *u.loss * weight;
        loss_weight_ += weight;
    }
    if (u.accuracy) {
        acc_sum_ += *u.accuracy * weight;
        acc_weight_ += weight;
    }

    if (terminal_) {
        const double t = now();
        if (last_draw_ < 0 || t - last_draw_ >= options_.min_redraw_seconds || batch_ == total_) {
            last_draw_ = t;
            draw(false);
        }
        return;
    }
    // Plain mode: a line when progress crosses the next mark; the last line comes from finish().
    if (total_ > 0) {
        if (batch_ >= total_ || options_.plain_percent <= 0) return;
        const std::int64_t bucket = batch_ * 100 / (total_ * options_.plain_percent);
        if (bucket > plain_mark_) {
            plain_mark_ = bucket;
            draw(false);
        }
    } else if (options_.plain_every > 0 && batch_ - plain_mark_ >= options_.plain_every) {
        plain_mark_ = batch_;
        draw(false);
    }
}

void ProgressBar::finish() {
    if (finished_) return;
    finished_ = true;
    draw(true);
}

std::string ProgressBar::line() const {
    return compose(finished_);
}

std::string ProgressBar::compose(bool final_line) const {
    std::string s;
    auto add = [&s](const std::string& part) {
        if (!s.empty()) s += ' ';
        s += part;
    };
    if (!options_.label.empty()) add(options_.label);
    if (options_.epoch > 0)
        add("epoch " + std::to_string(options_.epoch) +
            (options_.num_epochs > 0 ? "/" + std::to_string(options_.num_epochs) : ""));
    const std::string count =
        std::to_string(batch_) + (total_ > 0 ? "/" + std::to_string(total_) : "");
    if (terminal_ && options_.bar_width > 0 && total_ > 0) {
        const int w = options_.bar_width;
        const auto filled = static_cast<int>(batch_ * w / total_);
        std::string bar(static_cast<std::size_t>(w), ' ');
        for (int i = 0; i < filled; ++i) bar[static_cast<std::size_t>(i)] = '=';
        if (filled < w && batch_ > 0) bar[static_cast<std::size_t>(filled)] = '>';
        add("[" + bar + "] " + count);
    } else {
        add("batch " + count);
    }
    if (total_ > 0) add(fmt("%3.0f%%", 100.0 * static_cast<double>(batch_) / total_));
    if (auto l = mean_loss()) add("loss " + fmt("%.4g", *l));
    if (auto a = mean_accuracy()) add("acc " + fmt("%.2f%%", 100.0 * *a));
    const double elapsed = elapsed_seconds();
    if (elapsed > 0 && batch_ > 0) {
        if (samples_ > 0)
            add(fmt("%.0f samples/s", static_cast<double>(samples_) / elapsed));
        else
            add(fmt("%.3g batches/s", static_cast<double>(batch_) / elapsed));
    }
    if (final_line)
        add("took " + format_duration(elapsed));
    else if (total_ > 0)
        add("ETA " + format_duration(batch_ > 0 ? elapsed / static_cast<double>(batch_) *
                                                      static_cast<double>(total_ - batch_)
                                                : -1.0));
    return s;
}

void ProgressBar::draw(bool final_line) {
    const std::string s = compose(final_line);
    std::ostream& os = *out_;
    if (terminal_) {
        os << '\r' << s;
        if (s.size() < last_width_) os << std::string(last_width_ - s.size(), ' ');
        last_width_ = s.size();
        if (final_line) os << '\n';
    } else {
        os << s << '\n';
    }
    os.flush();
}

}  // namespace xgrad
