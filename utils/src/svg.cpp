#include "svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include <xgrad/core/check.hpp>

#include "atomic_file.hpp"

namespace xgrad::plot::detail {

std::string xml_escape(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (ch) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                if (c >= 0x20 || ch == '\t')
                    out += ch;
                else if (ch == '\n' || ch == '\r')
                    out += ' ';
        }
    }
    return out;
}

std::string num(double v) {
    if (!std::isfinite(v)) return "0";
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    std::string s = buf;
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    if (s == "-0") s = "0";
    return s;
}

double text_width(const std::string& s, double font_size) {
    std::size_t chars = 0;
    for (char ch : s)
        if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) ++chars;  // count UTF-8 code points
    return 0.6 * font_size * static_cast<double>(chars);
}

const std::string& class_color(std::size_t k) {
    static const std::vector<std::string> palette = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                                     "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                                     "#bcbd22", "#17becf"};
    return palette[k % palette.size()];
}

std::string rgb_hex(double r, double g, double b) {
    auto byte = [](double v) {
        if (!(v > 0)) return 0L;
        return std::min(255L, std::lround(v * 255.0));
    };
    char buf[8];
    std::snprintf(buf, sizeof buf, "#%02lx%02lx%02lx", byte(r), byte(g), byte(b));
    return buf;
}

std::string lighten(const std::string& hex, double white) {
    unsigned r = 0, g = 0, b = 0;
    if (hex.size() != 7 || std::sscanf(hex.c_str() + 1, "%02x%02x%02x", &r, &g, &b) != 3)
        return hex;
    auto mix = [white](unsigned c) { return (c / 255.0) * (1 - white) + white; };
    return rgb_hex(mix(r), mix(g), mix(b));
}

std::string blues(double t) {
    t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0);
    // #f7fbff -> #6baed6 -> #08306b
    const double stops[3][3] = {{247, 251, 255}, {107, 174, 214}, {8, 48, 107}};
    const int i = t < 0.5 ? 0 : 1;
    const double u = t < 0.5 ? t * 2 : (t - 0.5) * 2;
    double c[3];
    for (int k = 0; k < 3; ++k) c[k] = (stops[i][k] * (1 - u) + stops[i + 1][k] * u) / 255.0;
    return rgb_hex(c[0], c[1], c[2]);
}

// ---- Svg ----------------------------------------------------------------------------------

Svg::Svg(double width, double height) : width_(width), height_(height) {
    rect(0, 0, width, height, "fill=\"white\"");
}

void Svg::rect(double x, double y, double w, double h, const std::string& attrs) {
    body_ << "<rect x=\"" << num(x) << "\" y=\"" << num(y) << "\" width=\"" << num(w)
          << "\" height=\"" << num(h) << "\" " << attrs << "/>\n";
}

void Svg::line(double x1, double y1, double x2, double y2, const std::string& attrs) {
    body_ << "<line x1=\"" << num(x1) << "\" y1=\"" << num(y1) << "\" x2=\"" << num(x2)
          << "\" y2=\"" << num(y2) << "\" " << attrs << "/>\n";
}

void Svg::circle(double cx, double cy, double r, const std::string& attrs) {
    body_ << "<circle cx=\"" << num(cx) << "\" cy=\"" << num(cy) << "\" r=\"" << num(r) << "\" "
          << attrs << "/>\n";
}

void Svg::path(const std::string& d, const std::string& attrs) {
    body_ << "<path d=\"" << d << "\" " << attrs << "/>\n";
}

void Svg::text(double x, double y, const std::string& s, const std::string& attrs) {
    body_ << "<text x=\"" << num(x) << "\" y=\"" << num(y) << "\"" << (attrs.empty() ? "" : " ")
          << attrs << ">" << xml_escape(s) << "</text>\n";
}

void Svg::raw(const std::string& markup) {
    body_ << markup;
}

std::string Svg::str() const {
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(width_) + "\" height=\"" +
           num(height_) + "\" viewBox=\"0 0 " + num(width_) + " " + num(height_) +
           "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"" +
           num(kFont) + "\">\n";
    out += body_.str();
    out += "</svg>\n";
    return out;
}

// ---- ticks --------------------------------------------------------------------------------

namespace {

// The "nice number" (1, 2 or 5 times a power of ten) nearest to x, after Heckbert.
double nice_number(double x) {
    const double e = std::floor(std::log10(x));
    const double f = x / std::pow(10.0, e);
    const double nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    return nf * std::pow(10.0, e);
}

std::string tick_text(double v, int decimals, bool general) {
    char buf[48];
    if (general)
        std::snprintf(buf, sizeof buf, "%g", v);
    else
        std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    std::string s = buf;
    if (s == "-0" ||
        (s.size() > 1 && s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos))
        s.erase(0, 1);
    return s;
}

}  // namespace

Ticks linear_ticks(double& lo, double& hi, int target, bool extend, double min_step) {
    if (!(hi > lo)) {
        const double d = lo == 0 ? 1.0 : std::abs(lo) * 0.1;
        lo -= d;
        hi += d;
    }
    const double step = std::max(nice_number((hi - lo) / std::max(1, target - 1)), min_step);
    if (extend) {
        lo = std::floor(lo / step + 1e-9) * step;
        hi = std::ceil(hi / step - 1e-9) * step;
    }
    int decimals = 0;
    while (decimals < 12) {
        const double scaled = step * std::pow(10.0, decimals);
        if (std::abs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, scaled)) break;
        ++decimals;
    }
    const bool general = std::max(std::abs(lo), std::abs(hi)) >= 1e6 || step < 1e-4;
    Ticks t;
    const double first = std::ceil(lo / step - 1e-9);
    for (int i = 0;; ++i) {
        double v = (first + i) * step;
        if (v > hi + step * 1e-9 || i > 1000) break;
        if (std::abs(v) < step * 1e-9) v = 0;
        t.values.push_back(v);
        t.labels.push_back(tick_text(v, decimals, general));
    }
    return t;
}

Ticks log_ticks(double& lo, double& hi) {
    int e0 = static_cast<int>(std::floor(std::log10(lo) + 1e-12));
    int e1 = static_cast<int>(std::ceil(std::log10(hi) - 1e-12));
    if (e1 <= e0) e1 = e0 + 1;
    lo = std::pow(10.0, e0);
    hi = std::pow(10.0, e1);
    Ticks t;
    for (int e = e0; e <= e1; ++e) {
        const double p = std::pow(10.0, e);
        const std::vector<double> mults =
            e1 - e0 <= 2 ? std::vector<double>{1, 2, 5} : std::vector<double>{1};
        for (double m : mults) {
            const double v = m * p;
            if (v > hi * (1 + 1e-9)) break;
            char buf[48];
            std::snprintf(buf, sizeof buf, "%g", v);
            t.values.push_back(v);
            t.labels.emplace_back(buf);
        }
    }
    return t;
}

// ---- axes ---------------------------------------------------------------------------------

double Axes::px(double x) const {
    return left + width * (x - x0) / (x1 - x0);
}

double Axes::py(double y) const {
    if (log_y)
        return top +
               height * (1 - (std::log10(y) - std::log10(y0)) / (std::log10(y1) - std::log10(y0)));
    return top + height * (1 - (y - y0) / (y1 - y0));
}

void clip_to(Svg& svg, const Axes& a) {
    svg.raw("<defs><clipPath id=\"plot-area\">");
    svg.rect(a.left, a.top, a.width, a.height, "");
    svg.raw("</clipPath></defs>\n");
}

void draw_axes(Svg& svg, const Axes& a, const Ticks& xt, const Ticks& yt,
               const std::string& x_label, const std::string& y_label, bool grid) {
    const double eps = 1e-9;
    auto inside_x = [&](double v) {
        return v >= std::min(a.x0, a.x1) - eps * std::abs(a.x1 - a.x0) &&
               v <= std::max(a.x0, a.x1) + eps * std::abs(a.x1 - a.x0);
    };
    auto inside_y = [&](double v) {
        return v >= a.y0 * (1 - eps) - eps && v <= a.y1 * (1 + eps) + eps;
    };
    if (grid) {
        for (double v : xt.values)
            if (inside_x(v)) svg.line(a.px(v), a.top, a.px(v), a.bottom(), "stroke=\"#e6e6e6\"");
        for (double v : yt.values)
            if (inside_y(v)) svg.line(a.left, a.py(v), a.right(), a.py(v), "stroke=\"#e6e6e6\"");
    }
    svg.rect(a.left, a.top, a.width, a.height, "fill=\"none\" stroke=\"#444444\"");
    double max_label = 0;
    for (std::size_t i = 0; i < xt.values.size(); ++i) {
        const double v = xt.values[i];
        if (!inside_x(v)) continue;
        svg.line(a.px(v), a.bottom(), a.px(v), a.bottom() + 5, "stroke=\"#444444\"");
        svg.text(a.px(v), a.bottom() + 18, xt.labels[i], "text-anchor=\"middle\" fill=\"#333\"");
    }
    for (std::size_t i = 0; i < yt.values.size(); ++i) {
        const double v = yt.values[i];
        if (!inside_y(v)) continue;
        svg.line(a.left - 5, a.py(v), a.left, a.py(v), "stroke=\"#444444\"");
        svg.text(a.left - 8, a.py(v) + 4, yt.labels[i], "text-anchor=\"end\" fill=\"#333\"");
        max_label = std::max(max_label, text_width(yt.labels[i], kFont));
    }
    if (!x_label.empty())
        svg.text(a.left + a.width / 2, a.bottom() + 38, x_label, "text-anchor=\"middle\"");
    if (!y_label.empty()) {
        const double x = a.left - max_label - 18, y = a.top + a.height / 2;
        svg.text(x, y, y_label,
                 "text-anchor=\"middle\" transform=\"rotate(-90 " + num(x) + " " + num(y) + ")\"");
    }
}

void draw_title(Svg& svg, double center_x, const std::string& title) {
    if (title.empty()) return;
    svg.text(center_x, 22, title,
             "text-anchor=\"middle\" font-size=\"" + num(kTitleFont) + "\" font-weight=\"bold\"");
}

double legend_width(const std::vector<LegendItem>& items) {
    double w = 0;
    for (const auto& it : items) w = std::max(w, text_width(it.label, kFont));
    return items.empty() ? 0 : 30 + w;
}

void draw_legend(Svg& svg, double x, double y, const std::vector<LegendItem>& items) {
    for (std::size_t i = 0; i < items.size(); ++i) {
        const LegendItem& it = items[i];
        const double cy = y + 9 + 20 * static_cast<double>(i);
        switch (it.kind) {
            case LegendItem::Kind::Line:
                svg.line(x, cy, x + 22, cy, "stroke=\"" + it.color + "\" stroke-width=\"2.2\"");
                break;
            case LegendItem::Kind::DashedLine:
                svg.line(x, cy, x + 22, cy,
                         "stroke=\"" + it.color + "\" stroke-width=\"2\" stroke-dasharray=\"6 4\"");
                break;
            case LegendItem::Kind::Dot:
                svg.circle(x + 11, cy, 4,
                           "fill=\"" + it.color + "\" stroke=\"#222\" stroke-width=\"0.6\"");
                break;
            case LegendItem::Kind::Box:
                svg.rect(x + 4, cy - 7, 14, 14,
                         "fill=\"" + it.color + "\" stroke=\"#222\" stroke-width=\"0.6\"");
                break;
        }
        svg.text(x + 30, cy + 4, it.label, "");
    }
}

// ---- files --------------------------------------------------------------------------------

void write_file_atomic(const std::filesystem::path& path, const std::string& text, const char* fn) {
    // The callers name themselves "xgrad::plot::..."; raise adds the "xgrad::" itself.
    const char* op = std::strncmp(fn, "xgrad::", 7) == 0 ? fn + 7 : fn;
    XGRAD_CHECK(!path.empty(), ValueError, op, "the output path is empty");
    fileio::write_file_atomically(op, path.string(), text);
}

}  // namespace xgrad::plot::detail
