#include <xgrad/utils/plot.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include <xgrad/autograd/grad_mode.hpp>
#include <xgrad/core/check.hpp>
#include <xgrad/core/creation.hpp>
#include <xgrad/core/shape.hpp>

#include "svg.hpp"

namespace xgrad::plot {

using detail::Axes;
using detail::LegendItem;
using detail::num;
using detail::Svg;
using detail::Ticks;

namespace {

// The op that raise() names in messages (it adds the "xgrad::"): "plot::<fn>".
std::string op_name(const char* fn) {
    return std::string("plot::") + fn;
}

void check_size(int width, int height, const char* fn) {
    if (width < 120 || height < 120 || width > 20000 || height > 20000)
        raise<ValueError>(op_name(fn).c_str(),
                          "width and height must be in [120, 20000] pixels, got ",
                          std::to_string(width), " x ", std::to_string(height));
}

// Values of a [N] or [N, 1] numeric tensor.
std::vector<double> column(const Tensor& t, const char* fn, const char* what) {
    if (!t.defined()) raise<ValueError>(op_name(fn).c_str(), what, " is undefined");
    const Shape& s = t.shape();
    if (!(s.size() == 1 || (s.size() == 2 && s[1] == 1)))
        raise<ShapeError>(op_name(fn).c_str(), what, " must have shape [N] or [N, 1], got ",
                          shape_str(s));
    if (t.dtype() == Dtype::b8)
        raise<DtypeError>(op_name(fn).c_str(), what, " must be numeric, got bool");
    return t.to_vector<double>();
}

// Plot area for a chart with the given y tick labels, title, axis labels and legend width.
Axes layout(double width, double height, const Ticks& yt, bool title, bool x_label, bool y_label,
            double legend_w, const char* fn) {
    double max_label = 0;
    for (const auto& l : yt.labels) max_label = std::max(max_label, detail::text_width(l, 12));
    Axes a;
    a.top = title ? detail::kTitleSpace : 16;
    a.left = 12 + (y_label ? 22 : 0) + max_label + 10;
    const double bottom = 30 + (x_label ? 20 : 0) + 6;
    const double right = legend_w > 0 ? legend_w + 30 : 20;
    a.width = width - a.left - right;
    a.height = height - a.top - bottom;
    if (a.width < 60 || a.height < 60)
        raise<ValueError>(op_name(fn).c_str(), num(width), " x ", num(height),
                          " pixels leave no room for the plot area");
    return a;
}

std::string fill(const std::string& color) {
    return "fill=\"" + color + "\"";
}

// Class index per row of a predict() result: int64 [M] as is, or the argmax of scores [M, C].
std::vector<std::int64_t> classes_of(const Tensor& out, std::int64_t m, const char* fn) {
    if (!out.defined())
        raise<ValueError>(op_name(fn).c_str(), "predict returned an undefined tensor");
    const Shape& s = out.shape();
    if (s.size() == 1 && s[0] == m && out.dtype() == Dtype::i64)
        return out.to_vector<std::int64_t>();
    if (s.size() == 2 && s[0] == m && s[1] >= 2 && is_floating(out.dtype())) {
        const std::vector<double> v = out.to_vector<double>();
        std::vector<std::int64_t> cls(static_cast<std::size_t>(m));
        for (std::int64_t i = 0; i < m; ++i) {
            const double* row = v.data() + i * s[1];
            cls[static_cast<std::size_t>(i)] = std::max_element(row, row + s[1]) - row;
        }
        return cls;
    }
    raise<ShapeError>(op_name(fn).c_str(), "predict must return int64 class indices [",
                      std::to_string(m), "] or floating scores [", std::to_string(m),
                      ", C] with C >= 2 for the ", std::to_string(m), " grid points, got ",
                      dtype_name(out.dtype()), " ", shape_str(s),
                      " (threshold a single binary score yourself)");
}

void check_range(const Range& r, const char* fn, const char* what) {
    if (!(std::isfinite(r.min) && std::isfinite(r.max) && r.min < r.max))
        raise<ValueError>(op_name(fn).c_str(), what, " must be finite with min < max, got [",
                          num(r.min), ", ", num(r.max), "]");
}

}  // namespace

// ---- line chart -----------------------------------------------------------------------------

void line_chart(const std::vector<Series>& series, const std::filesystem::path& path,
                const LineChartOptions& o) {
    const char* fn = "line_chart";
    check_size(o.width, o.height, fn);
    if (series.empty()) raise<ValueError>(op_name(fn).c_str(), "no series to plot");
    std::vector<std::vector<double>> xs(series.size());
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (std::size_t k = 0; k < series.size(); ++k) {
        const Series& s = series[k];
        const std::string label = "series " + std::to_string(k) + " ('" + s.name + "')";
        if (s.y.empty()) raise<ValueError>(op_name(fn).c_str(), label, " has no points");
        if (!s.x.empty() && s.x.size() != s.y.size())
            raise<ShapeError>(op_name(fn).c_str(), label, " has ", std::to_string(s.x.size()),
                              " x values but ", std::to_string(s.y.size()), " y values");
        xs[k] = s.x;
        if (xs[k].empty()) {
            xs[k].resize(s.y.size());
            std::iota(xs[k].begin(), xs[k].end(), 1.0);
        }
        for (std::size_t i = 0; i < s.y.size(); ++i) {
            if (!std::isfinite(xs[k][i]))
                raise<ValueError>(op_name(fn).c_str(), label, " has a non-finite x at index ",
                                  std::to_string(i));
            xlo = std::min(xlo, xs[k][i]);
            xhi = std::max(xhi, xs[k][i]);
            const double y = s.y[i];
            if (!std::isfinite(y)) continue;
            if (o.log_y && y <= 0)
                raise<ValueError>(op_name(fn).c_str(), label, " has y = ", num(y), " at index ",
                                  std::to_string(i), ", which a logarithmic axis cannot show");
            ylo = std::min(ylo, y);
            yhi = std::max(yhi, y);
        }
    }
    if (!(ylo <= yhi)) raise<ValueError>(op_name(fn).c_str(), "no finite y value to plot");
    if (o.y_range) {
        check_range(*o.y_range, fn, "y_range");
        if (o.log_y && o.y_range->min <= 0)
            raise<ValueError>(op_name(fn).c_str(),
                              "y_range must be positive on a logarithmic axis");
        ylo = o.y_range->min;
        yhi = o.y_range->max;
    }
    // Integer x values (epochs, steps) get integer ticks.
    bool integral_x = true;
    for (const auto& xv : xs)
        for (double v : xv) integral_x = integral_x && v == std::floor(v);
    Ticks xt =
        detail::linear_ticks(xlo, xhi, std::max(3, o.width / 100), false, integral_x ? 1.0 : 0.0);
    Ticks yt;
    if (o.log_y) {
        yt = detail::log_ticks(ylo, yhi);                           // widens to whole decades
        if (o.y_range) ylo = o.y_range->min, yhi = o.y_range->max;  // ticks outside are skipped
    } else {
        yt = detail::linear_ticks(ylo, yhi, std::max(3, o.height / 70), !o.y_range);
    }

    std::vector<LegendItem> legend;
    for (std::size_t k = 0; k < series.size(); ++k)
        if (!series[k].name.empty())
            legend.push_back({series[k].name, LegendItem::Kind::Line, detail::class_color(k)});
    Axes a = layout(o.width, o.height, yt, !o.title.empty(), !o.x_label.empty(), !o.y_label.empty(),
                    detail::legend_width(legend), fn);
    a.x0 = xlo, a.x1 = xhi, a.y0 = ylo, a.y1 = yhi, a.log_y = o.log_y;

    Svg svg(o.width, o.height);
    detail::clip_to(svg, a);
    detail::draw_axes(svg, a, xt, yt, o.x_label, o.y_label, true);
    svg.raw("<g clip-path=\"url(#plot-area)\">\n");
    for (std::size_t k = 0; k < series.size(); ++k) {
        const std::string& color = detail::class_color(k);
        std::string d;
        bool pen = false;
        std::size_t finite = 0;
        for (std::size_t i = 0; i < series[k].y.size(); ++i) {
            const double y = series[k].y[i];
            if (!std::isfinite(y)) {
                pen = false;
                continue;
            }
            ++finite;
            if (!d.empty()) d += ' ';
            d += (pen ? "L" : "M") + num(a.px(xs[k][i])) + " " + num(a.py(y));
            pen = true;
        }
        if (d.empty()) d = "M0 0";
        svg.path(d, "fill=\"none\" stroke=\"" + color +
                        "\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"");
        if (o.markers || finite == 1)
            for (std::size_t i = 0; i < series[k].y.size(); ++i)
                if (std::isfinite(series[k].y[i]))
                    svg.circle(a.px(xs[k][i]), a.py(series[k].y[i]), 3, fill(color));
    }
    svg.raw("</g>\n");
    detail::draw_legend(svg, a.right() + 14, a.top, legend);
    detail::draw_title(svg, a.left + a.width / 2, o.title);
    detail::write_file_atomic(path, svg.str(), "xgrad::plot::line_chart");
}

// ---- decision boundary ------------------------------------------------------------------

Tensor decision_grid_points(Range x, Range y, std::int64_t resolution) {
    const char* fn = "decision_grid_points";
    check_range(x, fn, "x range");
    check_range(y, fn, "y range");
    if (resolution < 1 || resolution > 4096)
        raise<ValueError>(op_name(fn).c_str(), "resolution must be in [1, 4096], got ",
                          std::to_string(resolution));
    std::vector<float> v(static_cast<std::size_t>(resolution * resolution * 2));
    const double dx = (x.max - x.min) / static_cast<double>(resolution);
    const double dy = (y.max - y.min) / static_cast<double>(resolution);
    for (std::int64_t r = 0; r < resolution; ++r)
        for (std::int64_t c = 0; c < resolution; ++c) {
            const auto i = static_cast<std::size_t>((r * resolution + c) * 2);
            v[i] = static_cast<float>(x.min + (static_cast<double>(c) + 0.5) * dx);
            v[i + 1] = static_cast<float>(y.min + (static_cast<double>(r) + 0.5) * dy);
        }
    return tensor(v, {resolution * resolution, 2});
}

namespace {

struct Points {
    std::vector<double> x, y;
    std::vector<std::int64_t> label;  // empty: no labels
};

Points read_points(const Tensor& points, const Tensor& labels, const char* fn) {
    Points p;
    if (!points.defined()) {
        if (labels.defined())
            raise<ValueError>(op_name(fn).c_str(), "labels ", shape_str(labels.shape()),
                              " given without points");
        return p;
    }
    const Shape& s = points.shape();
    if (s.size() != 2 || s[1] != 2)
        raise<ShapeError>(op_name(fn).c_str(), "points must have shape [N, 2], got ", shape_str(s));
    if (!is_floating(points.dtype()))
        raise<DtypeError>(op_name(fn).c_str(), "points must be floating point, got ",
                          dtype_name(points.dtype()));
    const std::vector<double> v = points.to_vector<double>();
    for (std::int64_t i = 0; i < s[0]; ++i) {
        p.x.push_back(v[static_cast<std::size_t>(2 * i)]);
        p.y.push_back(v[static_cast<std::size_t>(2 * i + 1)]);
    }
    if (labels.defined()) {
        if (labels.dim() != 1 || labels.size(0) != s[0])
            raise<ShapeError>(op_name(fn).c_str(), "labels must have shape [", std::to_string(s[0]),
                              "] to match points ", shape_str(s), ", got ",
                              shape_str(labels.shape()));
        if (labels.dtype() != Dtype::i64)
            raise<DtypeError>(op_name(fn).c_str(), "labels must be int64 class indices, got ",
                              dtype_name(labels.dtype()));
        p.label = labels.to_vector<std::int64_t>();
        for (std::size_t i = 0; i < p.label.size(); ++i)
            if (p.label[i] < 0)
                raise<ValueError>(op_name(fn).c_str(), "label ", std::to_string(p.label[i]),
                                  " of point ", std::to_string(i), " is negative");
    }
    return p;
}

// The points' bounding box with a 10% margin.
Range auto_range(const std::vector<double>& v, const char* fn, const char* what) {
    double lo = INFINITY, hi = -INFINITY;
    for (double x : v)
        if (std::isfinite(x)) lo = std::min(lo, x), hi = std::max(hi, x);
    if (!(lo <= hi))
        raise<ValueError>(op_name(fn).c_str(), "no ", what,
                          " range given and no finite points to derive it from");
    const double pad = hi > lo ? 0.1 * (hi - lo) : std::max(1.0, std::abs(lo) * 0.1);
    return {lo - pad, hi + pad};
}

void draw_decision(const std::vector<std::int64_t>& cls, std::int64_t rows, std::int64_t cols,
                   Range xr, Range yr, const Points& p, const std::filesystem::path& path,
                   const DecisionBoundaryOptions& o) {
    const char* fn = "decision_boundary";
    std::int64_t num_classes = static_cast<std::int64_t>(o.class_names.size());
    for (std::size_t i = 0; i < cls.size(); ++i) {
        if (cls[i] < 0)
            raise<ValueError>(op_name(fn).c_str(), "grid cell ", std::to_string(i), " has class ",
                              std::to_string(cls[i]));
        num_classes = std::max(num_classes, cls[i] + 1);
    }
    for (std::int64_t l : p.label) num_classes = std::max(num_classes, l + 1);
    if (num_classes > 1000)
        raise<ValueError>(op_name(fn).c_str(), std::to_string(num_classes),
                          " classes are too many to colour");

    std::vector<LegendItem> legend;
    for (std::int64_t k = 0; k < num_classes; ++k) {
        const auto ks = static_cast<std::size_t>(k);
        legend.push_back(
            {ks < o.class_names.size() ? o.class_names[ks] : "class " + std::to_string(k),
             LegendItem::Kind::Box, detail::class_color(ks)});
    }
    double x0 = xr.min, x1 = xr.max, y0 = yr.min, y1 = yr.max;
    Ticks xt = detail::linear_ticks(x0, x1, std::max(3, o.width / 100), false);
    Ticks yt = detail::linear_ticks(y0, y1, std::max(3, o.height / 70), false);
    Axes a = layout(o.width, o.height, yt, !o.title.empty(), !o.x_label.empty(), !o.y_label.empty(),
                    detail::legend_width(legend), fn);
    a.x0 = xr.min, a.x1 = xr.max, a.y0 = yr.min, a.y1 = yr.max;

    Svg svg(o.width, o.height);
    detail::clip_to(svg, a);
    // Regions: one rect per horizontal run of equal class in each grid row.
    svg.raw("<g clip-path=\"url(#plot-area)\" shape-rendering=\"crispEdges\">\n");
    const double cw = a.width / static_cast<double>(cols),
                 ch = a.height / static_cast<double>(rows);
    for (std::int64_t r = 0; r < rows; ++r) {
        const double y = a.bottom() - static_cast<double>(r + 1) * ch;
        std::int64_t c = 0;
        while (c < cols) {
            const std::int64_t k = cls[static_cast<std::size_t>(r * cols + c)];
            std::int64_t end = c + 1;
            while (end < cols && cls[static_cast<std::size_t>(r * cols + end)] == k) ++end;
            // Overlap by a fraction of a pixel so that no seams show between runs.
            svg.rect(a.left + static_cast<double>(c) * cw, y,
                     static_cast<double>(end - c) * cw + 0.3, ch + 0.3,
                     fill(detail::lighten(detail::class_color(static_cast<std::size_t>(k)), 0.62)));
            c = end;
        }
    }
    svg.raw("</g>\n");
    detail::draw_axes(svg, a, xt, yt, o.x_label, o.y_label, false);
    svg.raw("<g clip-path=\"url(#plot-area)\">\n");
    for (std::size_t i = 0; i < p.x.size(); ++i) {
        if (!std::isfinite(p.x[i]) || !std::isfinite(p.y[i])) continue;
        const std::string color =
            p.label.empty() ? "#444444" : detail::class_color(static_cast<std::size_t>(p.label[i]));
        svg.circle(a.px(p.x[i]), a.py(p.y[i]), 3.5,
                   fill(color) + " stroke=\"#1a1a1a\" stroke-width=\"0.7\"");
    }
    svg.raw("</g>\n");
    detail::draw_legend(svg, a.right() + 14, a.top, legend);
    detail::draw_title(svg, a.left + a.width / 2, o.title);
    detail::write_file_atomic(path, svg.str(), "xgrad::plot::decision_boundary");
}

}  // namespace

void decision_boundary(const std::function<Tensor(const Tensor&)>& predict, const Tensor& points,
                       const Tensor& labels, const std::filesystem::path& path,
                       const DecisionBoundaryOptions& o) {
    const char* fn = "decision_boundary";
    check_size(o.width, o.height, fn);
    if (!predict) raise<ValueError>(op_name(fn).c_str(), "predict is empty");
    const Points p = read_points(points, labels, fn);
    const Range xr = o.x_range ? *o.x_range : auto_range(p.x, fn, "x");
    const Range yr = o.y_range ? *o.y_range : auto_range(p.y, fn, "y");
    check_range(xr, fn, "x_range");
    check_range(yr, fn, "y_range");
    if (o.resolution < 2 || o.resolution > 1000)
        raise<ValueError>(op_name(fn).c_str(), "resolution must be in [2, 1000], got ",
                          std::to_string(o.resolution));
    const std::int64_t res = o.resolution;
    const Tensor grid = decision_grid_points(xr, yr, res);
    Tensor out;
    {
        NoGradGuard no_grad;
        out = predict(grid);
    }
    const std::vector<std::int64_t> cls = classes_of(out, res * res, fn);
    draw_decision(cls, res, res, xr, yr, p, path, o);
}

void decision_boundary(const Tensor& grid, const Tensor& points, const Tensor& labels,
                       const std::filesystem::path& path, const DecisionBoundaryOptions& o) {
    const char* fn = "decision_boundary";
    check_size(o.width, o.height, fn);
    if (!grid.defined()) raise<ValueError>(op_name(fn).c_str(), "grid is undefined");
    if (grid.dim() != 2 || grid.size(0) < 1 || grid.size(1) < 1)
        raise<ShapeError>(op_name(fn).c_str(),
                          "grid must be class indices [rows, cols], got shape ",
                          shape_str(grid.shape()));
    if (grid.dtype() != Dtype::i64)
        raise<DtypeError>(op_name(fn).c_str(), "grid must hold int64 class indices, got ",
                          dtype_name(grid.dtype()));
    if (!o.x_range || !o.y_range)
        raise<ValueError>(op_name(fn).c_str(),
                          "a precomputed grid needs options.x_range and options.y_range (the "
                          "region it was computed over)");
    check_range(*o.x_range, fn, "x_range");
    check_range(*o.y_range, fn, "y_range");
    const Points p = read_points(points, labels, fn);
    draw_decision(grid.to_vector<std::int64_t>(), grid.size(0), grid.size(1), *o.x_range,
                  *o.y_range, p, path, o);
}

// ---- regression fit -----------------------------------------------------------------------

void regression_fit(const Tensor& x, const Tensor& y_true, const Tensor& curve_x,
                    const Tensor& curve_y, const std::filesystem::path& path,
                    const RegressionFitOptions& o) {
    const char* fn = "regression_fit";
    check_size(o.width, o.height, fn);
    const std::vector<double> px = column(x, fn, "x"), py = column(y_true, fn, "y_true");
    const std::vector<double> cx = column(curve_x, fn, "curve_x"),
                              cy = column(curve_y, fn, "curve_y");
    if (px.size() != py.size())
        raise<ShapeError>(op_name(fn).c_str(), "x ", shape_str(x.shape()), " and y_true ",
                          shape_str(y_true.shape()), " have different lengths");
    if (cx.size() != cy.size())
        raise<ShapeError>(op_name(fn).c_str(), "curve_x ", shape_str(curve_x.shape()),
                          " and curve_y ", shape_str(curve_y.shape()), " have different lengths");
    if (px.empty() && cx.empty()) raise<ValueError>(op_name(fn).c_str(), "no points and no curve");
    for (const Series& s : o.extra_curves)
        if (s.x.size() != s.y.size() || s.y.empty())
            raise<ShapeError>(op_name(fn).c_str(), "extra curve '", s.name, "' has ",
                              std::to_string(s.x.size()), " x values and ",
                              std::to_string(s.y.size()), " y values (need equal, non-zero)");

    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    auto extend = [&](const std::vector<double>& xv, const std::vector<double>& yv) {
        for (std::size_t i = 0; i < xv.size(); ++i) {
            if (!std::isfinite(xv[i]) || !std::isfinite(yv[i])) continue;
            xlo = std::min(xlo, xv[i]), xhi = std::max(xhi, xv[i]);
            ylo = std::min(ylo, yv[i]), yhi = std::max(yhi, yv[i]);
        }
    };
    extend(px, py);
    extend(cx, cy);
    for (const Series& s : o.extra_curves) extend(s.x, s.y);
    if (!(xlo <= xhi)) raise<ValueError>(op_name(fn).c_str(), "no finite point to plot");

    Ticks xt = detail::linear_ticks(xlo, xhi, std::max(3, o.width / 100), false);
    Ticks yt = detail::linear_ticks(ylo, yhi, std::max(3, o.height / 70), true);
    std::vector<LegendItem> legend;
    if (!px.empty() && !o.data_name.empty())
        legend.push_back({o.data_name, LegendItem::Kind::Dot, detail::class_color(0)});
    if (!cx.empty() && !o.fit_name.empty())
        legend.push_back({o.fit_name, LegendItem::Kind::Line, detail::class_color(1)});
    for (std::size_t k = 0; k < o.extra_curves.size(); ++k)
        if (!o.extra_curves[k].name.empty())
            legend.push_back(
                {o.extra_curves[k].name, LegendItem::Kind::DashedLine, detail::class_color(k + 2)});
    Axes a = layout(o.width, o.height, yt, !o.title.empty(), !o.x_label.empty(), !o.y_label.empty(),
                    detail::legend_width(legend), fn);
    a.x0 = xlo, a.x1 = xhi, a.y0 = ylo, a.y1 = yhi;

    // A polyline through the finite points, in increasing x.
    auto curve = [&a](const std::vector<double>& xv, const std::vector<double>& yv) {
        std::vector<std::size_t> order(xv.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::stable_sort(order.begin(), order.end(),
                         [&xv](std::size_t i, std::size_t j) { return xv[i] < xv[j]; });
        std::string d;
        bool pen = false;
        for (std::size_t i : order) {
            if (!std::isfinite(xv[i]) || !std::isfinite(yv[i])) {
                pen = false;
                continue;
            }
            if (!d.empty()) d += ' ';
            d += (pen ? "L" : "M") + num(a.px(xv[i])) + " " + num(a.py(yv[i]));
            pen = true;
        }
        return d.empty() ? std::string("M0 0") : d;
    };

    Svg svg(o.width, o.height);
    detail::clip_to(svg, a);
    detail::draw_axes(svg, a, xt, yt, o.x_label, o.y_label, true);
    svg.raw("<g clip-path=\"url(#plot-area)\">\n");
    for (std::size_t i = 0; i < px.size(); ++i)
        if (std::isfinite(px[i]) && std::isfinite(py[i]))
            svg.circle(a.px(px[i]), a.py(py[i]), 2.8,
                       fill(detail::class_color(0)) + " fill-opacity=\"0.65\"");
    for (std::size_t k = 0; k < o.extra_curves.size(); ++k)
        svg.path(curve(o.extra_curves[k].x, o.extra_curves[k].y),
                 "fill=\"none\" stroke=\"" + detail::class_color(k + 2) +
                     "\" stroke-width=\"2\" stroke-dasharray=\"6 4\"");
    if (!cx.empty())
        svg.path(curve(cx, cy), "fill=\"none\" stroke=\"" + detail::class_color(1) +
                                    "\" stroke-width=\"2.4\" stroke-linejoin=\"round\"");
    svg.raw("</g>\n");
    detail::draw_legend(svg, a.right() + 14, a.top, legend);
    detail::draw_title(svg, a.left + a.width / 2, o.title);
    detail::write_file_atomic(path, svg.str(), "xgrad::plot::regression_fit");
}

// ---- confusion matrix heat map ---------------------------------------------------------------

void confusion_matrix_heatmap(const Tensor& matrix, const std::vector<std::string>& class_names,
                              const std::filesystem::path& path, const HeatmapOptions& o) {
    const char* fn = "confusion_matrix_heatmap";
    if (!matrix.defined()) raise<ValueError>(op_name(fn).c_str(), "matrix is undefined");
    const Shape& s = matrix.shape();
    if (s.size() != 2 || s[0] != s[1] || s[0] < 1)
        raise<ShapeError>(op_name(fn).c_str(), "matrix must be square [C, C] with C >= 1, got ",
                          shape_str(s));
    if (matrix.dtype() == Dtype::b8)
        raise<DtypeError>(op_name(fn).c_str(), "matrix must hold counts, got bool");
    const std::int64_t c = s[0];
    if (c > 200)
        raise<ValueError>(op_name(fn).c_str(), std::to_string(c), " classes are too many to draw");
    if (!class_names.empty() && static_cast<std::int64_t>(class_names.size()) != c)
        raise<ValueError>(op_name(fn).c_str(), std::to_string(class_names.size()),
                          " class names for a matrix of shape ", shape_str(s));
    if (o.cell_size < 0 || o.cell_size > 400)
        raise<ValueError>(op_name(fn).c_str(), "cell_size must be in [0, 400], got ",
                          std::to_string(o.cell_size));
    const std::vector<double> m = matrix.to_vector<double>();
    double max_value = 0;
    for (std::size_t i = 0; i < m.size(); ++i) {
        if (!std::isfinite(m[i]) || m[i] < 0)
            raise<ValueError>(op_name(fn).c_str(), "matrix ", shape_str(s),
                              " holds a negative or non-finite count at (",
                              std::to_string(static_cast<std::int64_t>(i) / c), ", ",
                              std::to_string(static_cast<std::int64_t>(i) % c), ")");
        max_value = std::max(max_value, m[i]);
    }
    std::vector<std::string> names(static_cast<std::size_t>(c));
    double name_w = 0;
    for (std::int64_t k = 0; k < c; ++k) {
        const auto ks = static_cast<std::size_t>(k);
        names[ks] = class_names.empty() ? std::to_string(k) : class_names[ks];
        name_w = std::max(name_w, detail::text_width(names[ks], detail::kFont));
    }
    const double cell =
        o.cell_size > 0 ? o.cell_size : std::clamp(480.0 / static_cast<double>(c), 26.0, 64.0);
    const bool rotate = name_w > cell - 4;
    const double left = 16 + (o.y_label.empty() ? 0 : 22) + name_w + 10;
    const double top = o.title.empty() ? 16 : detail::kTitleSpace;
    const double grid = cell * static_cast<double>(c);
    const double x_names = rotate ? name_w * 0.72 + 16 : 22;
    const double width = std::max(left + grid + 24, 160.0);
    const double height = top + grid + x_names + (o.x_label.empty() ? 0 : 24) + 12;

    Svg svg(width, height);
    const double font = std::clamp(cell / 3.2, 7.0, 13.0);
    for (std::int64_t i = 0; i < c; ++i) {
        double row_total = 0;
        for (std::int64_t j = 0; j < c; ++j) row_total += m[static_cast<std::size_t>(i * c + j)];
        for (std::int64_t j = 0; j < c; ++j) {
            const double v = m[static_cast<std::size_t>(i * c + j)];
            const double denom = o.normalize_rows ? row_total : max_value;
            const double t = denom > 0 ? v / denom : 0.0;
            const double x = left + static_cast<double>(j) * cell;
            const double y = top + static_cast<double>(i) * cell;
            svg.rect(x, y, cell, cell,
                     fill(detail::blues(t)) + " stroke=\"white\" stroke-width=\"1\"");
            char buf[48];
            if (v == std::floor(v) && v < 1e15)
                std::snprintf(buf, sizeof buf, "%.0f", v);
            else
                std::snprintf(buf, sizeof buf, "%.3g", v);
            svg.text(x + cell / 2, y + cell / 2 + font * 0.35, buf,
                     "text-anchor=\"middle\" font-size=\"" + num(font) + "\" fill=\"" +
                         (t > 0.55 ? "white" : "#1a1a1a") + "\"");
        }
    }
    svg.rect(left, top, grid, grid, "fill=\"none\" stroke=\"#444444\"");
    for (std::int64_t k = 0; k < c; ++k) {
        const auto ks = static_cast<std::size_t>(k);
        const double center = static_cast<double>(k) * cell + cell / 2;
        svg.text(left - 8, top + center + 4, names[ks], "text-anchor=\"end\"");
        const double x = left + center, y = top + grid + 16;
        if (rotate)
            svg.text(
                x, y, names[ks],
                "text-anchor=\"end\" transform=\"rotate(-40 " + num(x) + " " + num(y - 8) + ")\"");
        else
            svg.text(x, y, names[ks], "text-anchor=\"middle\"");
    }
    if (!o.x_label.empty())
        svg.text(left + grid / 2, top + grid + x_names + 18, o.x_label,
                 "text-anchor=\"middle\" font-weight=\"bold\"");
    if (!o.y_label.empty()) {
        const double x = left - name_w - 22, y = top + grid / 2;
        svg.text(x, y, o.y_label,
                 "text-anchor=\"middle\" font-weight=\"bold\" transform=\"rotate(-90 " + num(x) +
                     " " + num(y) + ")\"");
    }
    detail::draw_title(svg, width / 2, o.title);
    detail::write_file_atomic(path, svg.str(), "xgrad::plot::confusion_matrix_heatmap");
}

// ---- image grid --------------------------------------------------------------------------

void image_grid(const Tensor& images, const std::filesystem::path& path,
                const ImageGridOptions& o) {
    const char* fn = "image_grid";
    if (!images.defined()) raise<ValueError>(op_name(fn).c_str(), "images is undefined");
    const Shape& s = images.shape();
    const bool chw = s.size() == 4;
    if (!(s.size() == 3 || (chw && (s[1] == 1 || s[1] == 3))))
        raise<ShapeError>(op_name(fn).c_str(),
                          "images must be [N, H, W], [N, 1, H, W] or [N, 3, H, W], ", "got ",
                          shape_str(s));
    if (!is_floating(images.dtype()))
        raise<DtypeError>(op_name(fn).c_str(), "images must be floating point in [0, 1], got ",
                          dtype_name(images.dtype()));
    const std::int64_t n = s[0], channels = chw ? s[1] : 1, h = s[s.size() - 2],
                       w = s[s.size() - 1];
    if (n < 1 || h < 1 || w < 1)
        raise<ValueError>(op_name(fn).c_str(), "no pixels to draw in images ", shape_str(s));
    if (n * h * w > 4'000'000)
        raise<ValueError>(op_name(fn).c_str(), "images ", shape_str(s),
                          " have too many pixels for an SVG grid (at most 4 million)");
    if (!o.labels.empty() && static_cast<std::int64_t>(o.labels.size()) != n)
        raise<ValueError>(op_name(fn).c_str(), std::to_string(o.labels.size()), " labels for ",
                          std::to_string(n), " images");
    if (!o.predicted.empty() && static_cast<std::int64_t>(o.predicted.size()) != n)
        raise<ValueError>(op_name(fn).c_str(), std::to_string(o.predicted.size()),
                          " predicted labels for ", std::to_string(n), " images");
    if (o.columns < 1 || o.scale < 1 || o.scale > 64)
        raise<ValueError>(op_name(fn).c_str(), "columns must be >= 1 and scale in [1, 64], got ",
                          std::to_string(o.columns), " and ", std::to_string(o.scale));
    const std::vector<double> v = images.to_vector<double>();
    for (std::size_t i = 0; i < v.size(); ++i)
        if (std::isnan(v[i]))
            raise<ValueError>(op_name(fn).c_str(), "image ",
                              std::to_string(static_cast<std::int64_t>(i) / (channels * h * w)),
                              " contains NaN");

    const double caption_font = 11, line_h = 14;
    const int lines = (o.labels.empty() ? 0 : 1) + (o.predicted.empty() ? 0 : 1);
    double caption_w = 0;
    for (const auto& l : o.labels)
        caption_w = std::max(caption_w, detail::text_width(l, caption_font));
    for (const auto& l : o.predicted)
        caption_w = std::max(caption_w, detail::text_width(l, caption_font));
    const double img_w = static_cast<double>(w * o.scale), img_h = static_cast<double>(h * o.scale);
    const double cell_w = std::max(img_w, caption_w) + 10;
    const double cell_h = img_h + lines * line_h + 10;
    const std::int64_t cols = std::min<std::int64_t>(o.columns, n);
    const std::int64_t rows = (n + cols - 1) / cols;
    const double top = o.title.empty() ? 8 : detail::kTitleSpace;
    const double width = std::max(static_cast<double>(cols) * cell_w + 12, 120.0);
    const double height = top + static_cast<double>(rows) * cell_h + 6;

    Svg svg(width, height);
    const std::int64_t plane = h * w, per_image = channels * plane;
    for (std::int64_t k = 0; k < n; ++k) {
        const double* px = v.data() + k * per_image;
        double lo = 0, hi = 1;
        if (o.rescale) {
            lo = *std::min_element(px, px + per_image);
            hi = *std::max_element(px, px + per_image);
            if (!(hi > lo)) hi = lo + 1;
        }
        auto level = [&](std::int64_t ch, std::int64_t i) {
            const double t = std::clamp((px[ch * plane + i] - lo) / (hi - lo), 0.0, 1.0);
            return std::lround(t * 255.0);
        };
        auto color_at = [&](std::int64_t i) {
            const long r = level(0, i);
            const long g = channels == 3 ? level(1, i) : r;
            const long b = channels == 3 ? level(2, i) : r;
            return (r << 16) | (g << 8) | b;
        };
        const double ox = 6 + static_cast<double>(k % cols) * cell_w + (cell_w - img_w) / 2;
        const double oy = top + static_cast<double>(k / cols) * cell_h;
        svg.raw("<g transform=\"translate(" + num(ox) + " " + num(oy) +
                ")\" shape-rendering=\"crispEdges\">\n");
        for (std::int64_t r = 0; r < h; ++r) {
            std::int64_t c = 0;
            while (c < w) {
                const long col = color_at(r * w + c);
                std::int64_t end = c + 1;
                while (end < w && color_at(r * w + end) == col) ++end;
                char hex[8];
                std::snprintf(hex, sizeof hex, "#%06lx", col);
                svg.rect(static_cast<double>(c * o.scale), static_cast<double>(r * o.scale),
                         static_cast<double>((end - c) * o.scale), o.scale, fill(hex));
                c = end;
            }
        }
        svg.raw("</g>\n");
        const double tx = 6 + static_cast<double>(k % cols) * cell_w + cell_w / 2;
        double ty = oy + img_h + 13;
        const auto ks = static_cast<std::size_t>(k);
        const std::string font = "text-anchor=\"middle\" font-size=\"" + num(caption_font) + "\"";
        if (!o.labels.empty()) {
            svg.text(tx, ty, o.labels[ks], font + " fill=\"#333\"");
            ty += line_h;
        }
        if (!o.predicted.empty()) {
            std::string color = "#333";
            if (!o.labels.empty()) color = o.predicted[ks] == o.labels[ks] ? "#1a7f37" : "#cf222e";
            svg.text(tx, ty, o.predicted[ks], font + " fill=\"" + color + "\"");
        }
    }
    detail::draw_title(svg, width / 2, o.title);
    detail::write_file_atomic(path, svg.str(), "xgrad::plot::image_grid");
}

}  // namespace xgrad::plot
