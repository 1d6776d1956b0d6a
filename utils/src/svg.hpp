// The SVG renderer behind xgrad::plot (private to utils/src): an element writer, round tick
// values, axes with labels, legends and the atomic file write.
#pragma once
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

namespace xgrad::plot::detail {

// Text for XML character data and attribute values: & < > " ' escaped, control characters
// (not allowed in XML 1.0) dropped.
std::string xml_escape(const std::string& s);
// A coordinate with at most two decimals and no trailing zeros ("12.5", "-3", "0.25").
std::string num(double v);
// Approximate rendered width of `s` (in pixels) at `font_size`.
double text_width(const std::string& s, double font_size);

// Categorical colours (Tableau 10), cycling.
const std::string& class_color(std::size_t k);
// `hex` ("#rrggbb") mixed with white: 0 keeps the colour, 1 gives white.
std::string lighten(const std::string& hex, double white);
// "#rrggbb" from components in [0, 1] (clamped).
std::string rgb_hex(double r, double g, double b);
// White -> light blue -> dark blue (a "Blues" colour map) at t in [0, 1].
std::string blues(double t);

class Svg {
  public:
    Svg(double width, double height);
    void rect(double x, double y, double w, double h, const std::string& attrs);
    void line(double x1, double y1, double x2, double y2, const std::string& attrs);
    void circle(double cx, double cy, double r, const std::string& attrs);
    void path(const std::string& d, const std::string& attrs);
    // `s` is escaped here.
    void text(double x, double y, const std::string& s, const std::string& attrs);
    // Markup written as is (group tags, defs).
    void raw(const std::string& markup);
    std::string str() const;  // the complete document

  private:
    double width_, height_;
    std::ostringstream body_;
};

struct Ticks {
    std::vector<double> values;
    std::vector<std::string> labels;
};

// Round tick values (1, 2 or 5 times a power of ten) covering [lo, hi] with about
// `target` ticks and a step of at least `min_step`; with `extend`, lo and hi are widened to the
// outer ticks.
Ticks linear_ticks(double& lo, double& hi, int target, bool extend, double min_step = 0);
// Ticks at powers of ten (and 2x, 5x when the range is narrow); lo and hi widened to decades.
Ticks log_ticks(double& lo, double& hi);

// The plot area in pixels and the data ranges it shows.
struct Axes {
    double left = 0, top = 0, width = 0, height = 0;
    double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    bool log_y = false;
    double px(double x) const;
    double py(double y) const;
    double right() const { return left + width; }
    double bottom() const { return top + height; }
};

// Grid lines, the frame, tick marks with labels and the axis labels.
void draw_axes(Svg& svg, const Axes& axes, const Ticks& xt, const Ticks& yt,
               const std::string& x_label, const std::string& y_label, bool grid);
// A clipPath with id "plot-area" for `axes` (inside <defs>).
void clip_to(Svg& svg, const Axes& axes);
void draw_title(Svg& svg, double center_x, const std::string& title);

struct LegendItem {
    enum class Kind { Line, DashedLine, Dot, Box };
    std::string label;
    Kind kind = Kind::Line;
    std::string color;
};
double legend_width(const std::vector<LegendItem>& items);
// Draws the items downwards from (x, y) (top-left corner).
void draw_legend(Svg& svg, double x, double y, const std::vector<LegendItem>& items);

// Font sizes and spacing shared by the charts.
inline constexpr double kFont = 12;
inline constexpr double kTitleFont = 15;
inline constexpr double kTitleSpace = 34;

// Writes `text` to `path` atomically with fileio::write_file_atomically (core/src/atomic_file.hpp:
// a temporary file in the same folder, fsync and a rename), so readers never see a half-written
// file and a failure leaves a previous file as it was; throws xgrad::ValueError naming `fn`
// ("xgrad::plot::line_chart") and the path on failure.
void write_file_atomic(const std::filesystem::path& path, const std::string& text, const char* fn);

}  // namespace xgrad::plot::detail
