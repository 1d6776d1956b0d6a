// Training-experience utilities: metrics, the progress bar, SVG plots and the Graphviz export
// of the tape.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <xgrad/autograd/graphviz.hpp>
#include <xgrad/utils.hpp>
#include <xgrad/xgrad.hpp>

using namespace xgrad;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

Tensor ints(std::vector<std::int64_t> v) {
    return tensor(v);
}

// A fresh directory under the system temp folder, removed with its contents at scope exit.
struct TempDir {
    TempDir() {
        std::random_device rd;
        path = fs::temp_directory_path() /
               ("xgrad_utils_" + std::to_string(::getpid()) + "_" + std::to_string(rd()));
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::vector<std::string> files() const {
        std::vector<std::string> out;
        for (const auto& e : fs::directory_iterator(path)) out.push_back(e.path().filename());
        std::sort(out.begin(), out.end());
        return out;
    }
    fs::path path;
};

std::string read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::size_t count(const std::string& s, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t i = s.find(what); i != std::string::npos; i = s.find(what, i + 1)) ++n;
    return n;
}

// A small XML check: tags nest and close, attribute quotes pair up, '&' only starts entities,
// and there is exactly one <svg> root.
std::string xml_problem(const std::string& s) {
    std::vector<std::string> stack;
    std::size_t i = 0, roots = 0;
    while ((i = s.find('<', i)) != std::string::npos) {
        if (s.compare(i, 2, "<?") == 0) {
            i = s.find("?>", i);
            if (i == std::string::npos) return "unterminated <?";
            i += 2;
            continue;
        }
        const std::size_t j = s.find('>', i);
        if (j == std::string::npos) return "unterminated tag at " + std::to_string(i);
        const std::string tag = s.substr(i + 1, j - i - 1);
        if (tag.empty()) return "empty tag";
        if (count(tag, "\"") % 2) return "unbalanced quotes in <" + tag + ">";
        if (tag[0] == '/') {
            if (stack.empty() || stack.back() != tag.substr(1))
                return "</" + tag.substr(1) + "> closes " +
                       (stack.empty() ? "nothing" : stack.back());
            stack.pop_back();
        } else {
            const std::string name = tag.substr(0, tag.find_first_of(" /\n"));
            if (stack.empty()) {
                ++roots;
                if (name != "svg") return "root element is " + name;
            }
            if (tag.back() != '/') stack.push_back(name);
        }
        i = j + 1;
    }
    if (!stack.empty()) return "unclosed <" + stack.back() + ">";
    if (roots != 1) return std::to_string(roots) + " root elements";
    for (std::size_t a = s.find('&'); a != std::string::npos; a = s.find('&', a + 1)) {
        const std::string rest = s.substr(a, 6);
        if (rest.rfind("&amp;", 0) && rest.rfind("&lt;", 0) && rest.rfind("&gt;", 0) &&
            rest.rfind("&quot;", 0) && rest.rfind("&apos;", 0))
            return "bare & at " + std::to_string(a);
    }
    return "";
}

std::string checked_svg(const fs::path& p) {
    REQUIRE(fs::exists(p));
    const std::string s = read_file(p);
    INFO(p.string());
    CHECK(xml_problem(s) == "");
    CHECK(s.rfind("<?xml", 0) == 0);
    return s;
}

}  // namespace

// ---- metrics -------------------------------------------------------------------------------

TEST_CASE("accuracy takes scores (argmax) or class indices", "[utils]") {
    Tensor logits = tensor({{0.1, 0.9}, {0.8, 0.2}, {0.3, 0.7}, {0.6, 0.4}});
    Tensor y = ints({1, 0, 0, 0});
    CHECK(metrics::accuracy(logits, y) == Approx(0.75));
    CHECK(metrics::accuracy(ints({1, 0, 1, 0}), y) == Approx(0.75));
    CHECK(metrics::accuracy(ints({1, 0, 0, 0}), y) == 1.0);
    CHECK(metrics::predicted_classes(logits) == std::vector<std::int64_t>{1, 0, 1, 0});
    // Ties go to the first maximum, as argmax does.
    CHECK(metrics::predicted_classes(tensor({{2.0, 2.0, 1.0}})) == std::vector<std::int64_t>{0});
}

TEST_CASE("confusion matrix counts true class by row", "[utils]") {
    Tensor cm = metrics::confusion_matrix(ints({0, 1, 2, 2, 1, 0}), ints({0, 1, 1, 2, 1, 2}), 3);
    CHECK(cm.dtype() == kInt64);
    CHECK(cm.shape() == Shape{3, 3});
    CHECK(cm.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 0, 0, 0, 2, 1, 1, 0, 1});
    // Scores give the same matrix through the argmax.
    Tensor scores = tensor({{0.9, 0.0, 0.1}, {0.1, 0.8, 0.1}, {0.0, 0.2, 0.8}}, {kFloat64});
    CHECK(metrics::confusion_matrix(scores, ints({0, 1, 1}), 3).to_vector<std::int64_t>() ==
          std::vector<std::int64_t>{1, 0, 0, 0, 1, 1, 0, 0, 0});
}

TEST_CASE("precision, recall and F1 per class with macro and weighted averages", "[utils]") {
    auto r = metrics::precision_recall_f1(ints({0, 1, 2, 2, 1, 0}), ints({0, 1, 1, 2, 1, 2}), 3);
    REQUIRE(r.precision.size() == 3);
    CHECK(r.precision[0] == Approx(0.5));
    CHECK(r.precision[1] == Approx(1.0));
    CHECK(r.precision[2] == Approx(0.5));
    CHECK(r.recall[0] == Approx(1.0));
    CHECK(r.recall[1] == Approx(2.0 / 3));
    CHECK(r.recall[2] == Approx(0.5));
    CHECK(r.f1[0] == Approx(2.0 / 3));
    CHECK(r.f1[1] == Approx(0.8));
    CHECK(r.f1[2] == Approx(0.5));
    CHECK(r.support == std::vector<std::int64_t>{1, 3, 2});
    CHECK(r.macro_precision == Approx(2.0 / 3));
    CHECK(r.macro_recall == Approx((1 + 2.0 / 3 + 0.5) / 3));
    CHECK(r.macro_f1 == Approx((2.0 / 3 + 0.8 + 0.5) / 3));
    CHECK(r.weighted_f1 == Approx((2.0 / 3 * 1 + 0.8 * 3 + 0.5 * 2) / 6));
    CHECK(r.weighted_precision == Approx((0.5 * 1 + 1.0 * 3 + 0.5 * 2) / 6));
    CHECK(r.weighted_recall == Approx(4.0 / 6));  // equals accuracy, as always
    CHECK(r.accuracy == Approx(4.0 / 6));
    CHECK(r.total == 6);

    const std::string text = metrics::classification_report(r, {"cat", "dog", "bird"});
    CHECK_THAT(text, Contains("dog"));
    CHECK_THAT(text, Contains("0.8000"));
    CHECK_THAT(text, Contains("macro avg"));
    CHECK_THROWS_AS(metrics::classification_report(r, {"only one"}), ValueError);
}

TEST_CASE("a class never predicted or absent scores 0, as scikit-learn's zero_division",
          "[utils]") {
    auto r = metrics::precision_recall_f1(ints({0, 0, 0, 0}), ints({0, 0, 1, 1}), 3);
    CHECK(r.precision == std::vector<double>{0.5, 0.0, 0.0});
    CHECK(r.recall == std::vector<double>{1.0, 0.0, 0.0});
    CHECK(r.f1[0] == Approx(2.0 / 3));
    CHECK(r.f1[1] == 0.0);
    CHECK(r.f1[2] == 0.0);
    CHECK(r.support == std::vector<std::int64_t>{2, 2, 0});
    CHECK(r.macro_f1 == Approx(2.0 / 9));
    // From a confusion matrix directly, with float counts.
    auto r2 = metrics::precision_recall_f1(tensor({{3.0, 1.0}, {0.0, 0.0}}));
    CHECK(r2.precision == std::vector<double>{1.0, 0.0});
    CHECK(r2.recall == std::vector<double>{0.75, 0.0});
}

TEST_CASE("regression metrics: MAE, RMSE and R^2", "[utils]") {
    Tensor pred = tensor({1.0, 2.0, 3.0, 4.0});
    Tensor truth = tensor({1.5, 2.0, 2.0, 5.0});
    CHECK(metrics::mae(pred, truth) == Approx(0.625));
    CHECK(metrics::rmse(pred, truth) == Approx(0.75));
    CHECK(metrics::r2_score(pred, truth) == Approx(1.0 - 2.25 / 7.6875));
    CHECK(metrics::r2_score(truth, truth) == 1.0);
    // Constant targets: 1 when perfect, 0 otherwise (scikit-learn's force_finite).
    CHECK(metrics::r2_score(tensor({2.0, 2.0}), tensor({2.0, 2.0})) == 1.0);
    CHECK(metrics::r2_score(tensor({1.0, 3.0}), tensor({2.0, 2.0})) == 0.0);
    // Any numeric dtype, any shape as long as both agree.
    CHECK(metrics::mae(ints({1, 2}), ints({3, 2})) == Approx(1.0));
    CHECK(metrics::rmse(tensor({{1.0, 1.0}}, {kFloat64}), tensor({{4.0, -3.0}}, {kFloat64})) ==
          Approx(std::sqrt(12.5)));
}

TEST_CASE("metrics reject bad input with messages naming the function and shapes", "[utils]") {
    Tensor y = ints({0, 1, 1});
    CHECK_THROWS_WITH(metrics::accuracy(ints({0, 1}), y),
                      Contains("xgrad::metrics::accuracy") && Contains("[2]") && Contains("[3]"));
    CHECK_THROWS_AS(metrics::accuracy(ints({0, 1}), y), ShapeError);
    CHECK_THROWS_AS(metrics::accuracy(ints({}), ints({})), ValueError);
    CHECK_THROWS_WITH(metrics::accuracy(ints({}), ints({})), Contains("empty"));
    CHECK_THROWS_AS(metrics::accuracy(tensor({0.0, 1.0, 1.0}), y), DtypeError);  // float [N]
    CHECK_THROWS_AS(metrics::accuracy(ints({0, 1, 1}), tensor({0.0, 1.0, 1.0})), DtypeError);
    CHECK_THROWS_AS(metrics::accuracy(tensor({{0.3}, {0.6}, {0.9}}), y), ShapeError);  // [N, 1]
    CHECK_THROWS_AS(metrics::accuracy(zeros({3, 2, 2}), y), ShapeError);
    CHECK_THROWS_AS(metrics::accuracy(ints({0, 1, 1}), Tensor()), ValueError);
    CHECK_THROWS_AS(metrics::confusion_matrix(ints({0, 3, 1}), y, 3), ValueError);
    CHECK_THROWS_WITH(metrics::confusion_matrix(ints({0, 1, 1}), ints({0, -1, 1}), 3),
                      Contains("target -1"));
    CHECK_THROWS_AS(metrics::confusion_matrix(ints({0, 1, 1}), y, 0), ValueError);
    CHECK_THROWS_AS(metrics::confusion_matrix(zeros({3, 4}), y, 3), ShapeError);
    CHECK_THROWS_AS(metrics::precision_recall_f1(zeros({2, 3})), ShapeError);
    CHECK_THROWS_AS(metrics::precision_recall_f1(zeros({2, 2})), ValueError);  // no samples
    CHECK_THROWS_AS(metrics::precision_recall_f1(tensor({{1.0, -1.0}, {0.0, 1.0}})), ValueError);
    CHECK_THROWS_WITH(metrics::mae(zeros({3}), zeros({3, 1})),
                      Contains("xgrad::metrics::mae") && Contains("[3, 1]"));
    CHECK_THROWS_AS(metrics::rmse(zeros({0}), zeros({0})), ValueError);
    CHECK_THROWS_AS(metrics::r2_score(zeros({0}), zeros({0})), ValueError);
    CHECK_THROWS_AS(metrics::r2_score(zeros({2}), zeros({2}) > 1.0), DtypeError);
}

// ---- progress bar --------------------------------------------------------------------------

TEST_CASE("progress bar in plain mode prints a line every 10% and a final line", "[utils]") {
    std::ostringstream out;
    double t = 100.0;
    {
        ProgressBar bar(20, {.epoch = 2,
                             .num_epochs = 5,
                             .stream = &out,
                             .mode = ProgressMode::Plain,
                             .clock = [&t] { return t; }});
        CHECK_FALSE(bar.terminal());
        for (std::int64_t i = 1; i <= 20; ++i) {
            t += 0.5;
            bar.update(i, {.loss = i <= 10 ? 2.0 : 1.0, .accuracy = 0.75, .samples = 32});
            if (i == 10) {
                CHECK_THAT(bar.line(), Contains("batch 10/20") && Contains("ETA 00:05") &&
                                           Contains("64 samples/s") && Contains("loss 2 "));
            }
        }
        CHECK(*bar.mean_loss() == Approx(1.5));
        CHECK(*bar.mean_accuracy() == Approx(0.75));
        CHECK(bar.samples() == 640);
        bar.finish();
        bar.finish();  // once only
    }
    const std::string s = out.str();
    CHECK(s.find('\r') == std::string::npos);
    CHECK(count(s, "\n") == 10);  // at 10%, 20%, ..., 90%, then the final line
    CHECK_THAT(s, Contains("epoch 2/5 batch 2/20  10%"));
    CHECK_THAT(s, Contains("acc 75.00%"));
    CHECK_THAT(s, Contains("ETA "));
    // The last line: all batches, the mean loss and the elapsed time instead of an ETA.
    const std::string last = s.substr(s.rfind('\n', s.size() - 2) + 1);
    CHECK_THAT(last,
               Contains("batch 20/20 100%") && Contains("loss 1.5 ") && Contains("took 00:10"));
    CHECK(last.find("ETA") == std::string::npos);
}

TEST_CASE("progress bar in terminal mode redraws one line with carriage returns", "[utils]") {
    std::ostringstream out;
    double t = 0.0;
    ProgressBar bar(8, {.epoch = 1,
                        .label = "train",
                        .stream = &out,
                        .mode = ProgressMode::Terminal,
                        .bar_width = 8,
                        .min_redraw_seconds = 0,
                        .clock = [&t] { return t; }});
    CHECK(bar.terminal());
    for (std::int64_t i = 1; i <= 8; ++i) {
        t += 1.0;
        bar.update(i, {.loss = 0.5, .samples = 10});
        if (i == 4) CHECK_THAT(out.str(), Contains("train epoch 1 [====>   ] 4/8  50%"));
    }
    bar.finish();
    const std::string s = out.str();
    CHECK(count(s, "\r") == 9);  // 8 updates + the final redraw
    CHECK(count(s, "\n") == 1);
    CHECK(s.back() == '\n');
    CHECK_THAT(s, Contains("ETA 00:07"));  // after batch 1: 1 s per batch, 7 to go
    CHECK_THAT(s, Contains("[========] 8/8 100%") && Contains("10 samples/s"));
}

TEST_CASE("progress bar throttles terminal redraws and handles an unknown total", "[utils]") {
    std::ostringstream out;
    double t = 0.0;
    {
        ProgressBar bar(100, {.stream = &out,
                              .mode = ProgressMode::Terminal,
                              .min_redraw_seconds = 1.0,
                              .clock = [&t] { return t; }});
        for (std::int64_t i = 1; i <= 100; ++i) {
            t += 0.1;
            bar.update(i);
        }
    }  // the destructor finishes the bar
    // First update, then one per simulated second (9 more), the 100th, and the final line.
    CHECK(count(out.str(), "\r") == 12);
    CHECK(out.str().back() == '\n');

    std::ostringstream plain;
    ProgressBar open_ended(
        0, {.stream = &plain, .mode = ProgressMode::Plain, .plain_every = 4, .clock = [&t] {
                return t;
            }});
    for (std::int64_t i = 1; i <= 9; ++i) {
        t += 1;
        open_ended.update(i, {.samples = 2});
    }
    open_ended.finish();
    CHECK(count(plain.str(), "\n") == 3);  // batches 4, 8 and the final line
    CHECK_THAT(plain.str(), Contains("batch 8 ") && Contains("batch 9 "));
    CHECK(plain.str().find("ETA") == std::string::npos);
    CHECK(plain.str().find('%') == std::string::npos);
}

TEST_CASE("progress bar rejects bad batch numbers and formats durations", "[utils]") {
    std::ostringstream out;
    ProgressBar bar(5, {.stream = &out, .mode = ProgressMode::Plain});
    CHECK_THROWS_AS(bar.update(0), ValueError);
    bar.update(3);
    CHECK_THROWS_AS(bar.update(2), ValueError);
    CHECK_THROWS_WITH(bar.update(6), Contains("exceeds the total of 5"));
    CHECK_THROWS_AS(bar.update(4, {.samples = -1}), ValueError);
    bar.finish();
    CHECK_THROWS_AS(bar.update(5), ValueError);
    CHECK_THROWS_AS(ProgressBar(-1), ValueError);
    // Auto mode on a string stream is plain.
    ProgressBar auto_bar(3, {.stream = &out});
    CHECK_FALSE(auto_bar.terminal());
    CHECK(format_duration(65) == "01:05");
    CHECK(format_duration(3725) == "1:02:05");
    CHECK(format_duration(-1) == "--:--");
}

// ---- plots ---------------------------------------------------------------------------------

TEST_CASE("line chart: one path per series, nice ticks, escaped text, legend", "[utils]") {
    TempDir dir;
    const fs::path file = dir.path / "loss.svg";
    std::vector<double> train{2.3, 1.2, 0.8, 0.5, 0.3};
    std::vector<double> test{2.1, 1.3, std::nan(""), 0.7, 0.6};  // a gap
    plot::line_chart({{"train <a&b>", {}, train}, {"test", {}, test}}, file,
                     {.title = "Loss <train> & \"test\"", .x_label = "epoch", .y_label = "loss"});
    const std::string s = checked_svg(file);
    CHECK(count(s, "<path ") == 2);
    CHECK(count(s, "<rect ") == 3);  // background, clip region, frame
    CHECK(count(s, "<circle ") == 0);
    CHECK_THAT(s, Contains("Loss &lt;train&gt; &amp; &quot;test&quot;"));
    CHECK_THAT(s, Contains("train &lt;a&amp;b&gt;"));
    CHECK(s.find("<train>") == std::string::npos);
    // y from 0.3 to 2.3 gets ticks 0, 0.5, ..., 2.5; x gets the epochs 1..5.
    CHECK_THAT(s, Contains(">0.5</text>") && Contains(">2.5</text>") && Contains(">5</text>"));
    // The gap starts a new sub-path: two "M" commands in the second series.
    const std::size_t second = s.find("<path ", s.find("<path ") + 1);
    const std::string d = s.substr(second, s.find("/>", second) - second);
    CHECK(count(d, "M") == 2);

    plot::line_chart({{"acc", {0, 10, 20}, {0.5, 0.8, 0.9}}}, file,
                     {.markers = true, .y_range = plot::Range{0, 1}});
    const std::string s2 = checked_svg(file);
    CHECK(count(s2, "<circle ") == 3);
    CHECK_THAT(s2, Contains(">1.0</text>") && Contains(">0.2</text>") && Contains(">20</text>"));
}

TEST_CASE("line chart with a logarithmic y axis and its input errors", "[utils]") {
    TempDir dir;
    const fs::path file = dir.path / "log.svg";
    plot::line_chart({{"loss", {}, {1.0, 0.1, 0.01, 0.002}}}, file, {.log_y = true});
    const std::string s = checked_svg(file);
    CHECK_THAT(s, Contains(">0.001</text>") && Contains(">0.01</text>") && Contains(">1</text>"));
    // A fixed range on a log axis keeps only the ticks inside it.
    plot::line_chart({{"loss", {}, {1.0, 0.1, 0.01, 0.002}}}, file,
                     {.log_y = true, .y_range = plot::Range{0.01, 1}});
    const std::string fixed = checked_svg(file);
    CHECK_THAT(fixed, Contains(">0.01</text>") && Contains(">0.1</text>"));
    CHECK(fixed.find(">0.001</text>") == std::string::npos);
    CHECK_THROWS_AS(plot::line_chart({{"loss", {}, {1.0}}}, file,
                                     {.log_y = true, .y_range = plot::Range{0, 1}}),
                    ValueError);
    CHECK_THROWS_AS(plot::line_chart({{"loss", {}, {1.0, 0.0}}}, file, {.log_y = true}),
                    ValueError);
    CHECK_THROWS_AS(plot::line_chart({}, file), ValueError);
    CHECK_THROWS_AS(plot::line_chart({{"a", {1, 2, 3}, {1, 2}}}, file), ShapeError);
    CHECK_THROWS_AS(plot::line_chart({{"a", {}, {}}}, file), ValueError);
    CHECK_THROWS_WITH(plot::line_chart({{"a", {}, {std::nan("")}}}, file),
                      Contains("xgrad::plot::line_chart"));
    CHECK_THROWS_AS(plot::line_chart({{"a", {}, {1, 2}}}, file, {.width = 10}), ValueError);
}

TEST_CASE("decision boundary from a predict function: runs of regions and the points", "[utils]") {
    TempDir dir;
    const fs::path file = dir.path / "boundary.svg";
    bool grad_mode_in_predict = true;
    std::int64_t grid_rows = 0;
    auto predict = [&](const Tensor& p) {
        grad_mode_in_predict = GradMode::is_enabled();
        grid_rows = p.size(0);
        std::vector<float> v = p.to_vector<float>();
        std::vector<std::int64_t> cls(static_cast<std::size_t>(p.size(0)));
        for (std::size_t i = 0; i < cls.size(); ++i) cls[i] = v[2 * i] > 0 ? 1 : 0;
        return tensor(cls);
    };
    Tensor points = tensor({{-0.5, 0.2}, {0.5, -0.3}, {0.7, 0.7}, {-0.2, -0.9}});
    Tensor labels = ints({0, 1, 1, 0});
    plot::decision_boundary(predict, points, labels, file,
                            {.title = "XOR <net>",
                             .x_range = plot::Range{-1, 1},
                             .y_range = plot::Range{-1, 1},
                             .resolution = 10,
                             .class_names = {"zero", "one & only"}});
    CHECK_FALSE(grad_mode_in_predict);
    CHECK(grid_rows == 100);
    const std::string s = checked_svg(file);
    // background + clip + 10 rows x 2 runs + frame + 2 legend swatches
    CHECK(count(s, "<rect ") == 25);
    CHECK(count(s, "<circle ") == 4);
    CHECK_THAT(s, Contains("one &amp; only") && Contains("XOR &lt;net&gt;"));

    // Scores [M, C] work too (argmax), and the range defaults to the points' bounding box.
    auto scores = [](const Tensor& p) {
        Tensor x = p.select(1, 0).unsqueeze(1);
        return concat({x, -x, zeros_like(x)}, 1);
    };
    plot::decision_boundary(scores, points, labels, file, {.resolution = 20});
    const std::string s2 = checked_svg(file);
    CHECK(count(s2, "<circle ") == 4);
    // 2 runs per row (class 2 never wins); the legend lists the classes that occur.
    CHECK(count(s2, "<rect ") == 1 + 1 + 40 + 1 + 2);
}

TEST_CASE("decision boundary from a precomputed grid, and its input errors", "[utils]") {
    TempDir dir;
    const fs::path file = dir.path / "grid.svg";
    Tensor grid = tensor(std::vector<std::int64_t>{0, 0, 1, 1, 2, 2, 2, 2, 0, 1, 0, 1}, {3, 4});
    plot::DecisionBoundaryOptions o;
    o.x_range = plot::Range{0, 4};
    o.y_range = plot::Range{0, 3};
    plot::decision_boundary(grid, Tensor(), Tensor(), file, o);
    const std::string s = checked_svg(file);
    CHECK(count(s, "<rect ") == 1 + 1 + (2 + 1 + 4) + 1 + 3);
    CHECK(count(s, "<circle ") == 0);
    CHECK_THAT(s, Contains("class 2"));

    // The grid points helper lays out cell centres, row 0 at y.min.
    Tensor g = plot::decision_grid_points({0, 4}, {0, 2}, 2);
    CHECK(g.shape() == Shape{4, 2});
    CHECK(g.to_vector<double>() == std::vector<double>{1, 0.5, 3, 0.5, 1, 1.5, 3, 1.5});

    auto ok = [](const Tensor& p) { return zeros({p.size(0)}, {kInt64}); };
    Tensor pts = tensor({{0.0, 0.0}, {1.0, 1.0}});
    CHECK_THROWS_AS(plot::decision_boundary(grid, pts, Tensor(), file, {}), ValueError);  // range
    CHECK_THROWS_AS(plot::decision_boundary(ok, pts, ints({0}), file), ShapeError);
    CHECK_THROWS_AS(plot::decision_boundary(ok, pts, tensor({0.0, 1.0}), file), DtypeError);
    CHECK_THROWS_AS(plot::decision_boundary(ok, zeros({2, 3}), Tensor(), file), ShapeError);
    CHECK_THROWS_AS(plot::decision_boundary(ok, Tensor(), Tensor(), file), ValueError);
    CHECK_THROWS_WITH(plot::decision_boundary(
                          [](const Tensor& p) {
                              return zeros({p.size(0), 1});
                          },
                          pts, Tensor(), file),
                      Contains("xgrad::plot::decision_boundary") && Contains("[14400, 1]"));
    CHECK_THROWS_AS(plot::decision_boundary(ok, pts, Tensor(), file, {.resolution = 1}),
                    ValueError);
    CHECK_THROWS_AS(plot::decision_grid_points({1, 0}, {0, 1}, 4), ValueError);
}

TEST_CASE("regression fit: data dots, fitted curve, dashed extra curves", "[utils]") {
    TempDir dir;
    const fs::path file = dir.path / "fit.svg";
    Tensor x = linspace(-3, 3, 10).unsqueeze(1);  // [N, 1] is accepted
    Tensor y = sin(x) + randn({10, 1}) * 0.1;
    Tensor cx = linspace(3, -3, 50);  // unsorted order is fine: the curve is drawn by x
    Tensor cy = sin(cx);
    std::vector<double> tx, ty;
    for (int i = 0; i <= 30; ++i) tx.push_back(-3 + 0.2 * i), ty.push_back(std::sin(tx.back()));
    plot::regression_fit(x, y, cx, cy, file,
                         {.title = "sin(x) < 1", .extra_curves = {{"truth", tx, ty}}});
    const std::string s = checked_svg(file);
    CHECK(count(s, "<circle ") == 10 + 1);  // data points + the legend's dot
    CHECK(count(s, "<path ") == 2);
    CHECK(count(s, "stroke-dasharray") == 2);  // the extra curve and its legend line
    CHECK_THAT(s, Contains("sin(x) &lt; 1") && Contains(">prediction</text>"));
    // The fitted curve runs left to right: its first point is at the smallest x.
    const std::size_t fit = s.find("stroke-width=\"2.4\"");
    const std::size_t d = s.rfind("d=\"M", fit);
    const std::size_t first_x = std::stoul(s.substr(d + 4));
    const std::size_t frame = s.find("fill=\"none\" stroke=\"#444444\"");
    const std::size_t frame_x = std::stoul(s.substr(s.rfind("x=\"", frame) + 3));
    CHECK(first_x <= frame_x + 1);

    CHECK_THROWS_AS(plot::regression_fit(x, zeros({9}), cx, cy, file), ShapeError);
    CHECK_THROWS_AS(plot::regression_fit(zeros({2, 2}), zeros({2}), cx, cy, file), ShapeError);
    CHECK_THROWS_AS(plot::regression_fit(x, y, cx, zeros({3}), file), ShapeError);
    CHECK_THROWS_AS(plot::regression_fit(Tensor(), y, cx, cy, file), ValueError);
}

TEST_CASE("confusion matrix heat map: a cell per entry with its count", "[utils]") {
    TempDir dir;
    const fs::path file = dir.path / "cm.svg";
    Tensor cm =
        metrics::confusion_matrix(ints({0, 1, 2, 2, 1, 0, 2}), ints({0, 1, 1, 2, 1, 2, 2}), 3);
    plot::confusion_matrix_heatmap(cm, {"T-shirt/top", "<trouser>", "bag & co"}, file);
    const std::string s = checked_svg(file);
    CHECK(count(s, "<rect ") == 1 + 9 + 1);  // background, cells, frame
    CHECK(count(s, ">2</text>") == 2);       // (1, 1) and (2, 2)
    CHECK(count(s, ">0</text>") == 4);
    CHECK_THAT(s, Contains("&lt;trouser&gt;") && Contains("bag &amp; co"));
    CHECK(count(s, "fill=\"white\"") >= 3);  // background + text on the darkest cells

    plot::confusion_matrix_heatmap(cm, {}, file, {.title = "", .normalize_rows = true});
    const std::string s2 = checked_svg(file);
    CHECK(count(s2, "<rect ") == 11);
    CHECK(s2.find("font-weight=\"bold\" font-size") == std::string::npos);

    CHECK_THROWS_AS(plot::confusion_matrix_heatmap(zeros({2, 3}), {}, file), ShapeError);
    CHECK_THROWS_AS(plot::confusion_matrix_heatmap(cm, {"a", "b"}, file), ValueError);
    CHECK_THROWS_AS(plot::confusion_matrix_heatmap(tensor({{1.0, -1.0}, {0.0, 1.0}}), {}, file),
                    ValueError);
}

TEST_CASE("image grid: pixels as merged runs, captions coloured by correctness", "[utils]") {
    TempDir dir;
    const fs::path file = dir.path / "images.svg";
    // 3 images of 4 x 5 pixels whose rows are constant: one rect per row.
    std::vector<float> px;
    for (int n = 0; n < 3; ++n)
        for (int r = 0; r < 4; ++r)
            for (int c = 0; c < 5; ++c) px.push_back(static_cast<float>(r) / 3.0f);
    Tensor images = tensor(px, {3, 4, 5});
    plot::image_grid(images, file,
                     {.title = "Fashion <MNIST>",
                      .labels = {"Shirt", "Bag", "Coat"},
                      .predicted = {"Shirt", "Sandal", "Coat"},
                      .columns = 2});
    const std::string s = checked_svg(file);
    CHECK(count(s, "<rect ") == 1 + 3 * 4);
    CHECK(count(s, "fill=\"#000000\"") == 3);  // row 0 of each image is black
    CHECK(count(s, "fill=\"#ffffff\"") == 3);  // row 3 is white
    CHECK(count(s, "#cf222e") == 1);           // one wrong prediction
    CHECK(count(s, "#1a7f37") == 2);
    CHECK_THAT(s, Contains("Fashion &lt;MNIST&gt;") && Contains(">Sandal</text>"));

    // [N, 1, H, W], clamping and a varying row give more runs.
    Tensor chw = images.reshape({3, 1, 4, 5}).clone();
    chw.data_ptr<float>()[0] = 7.0f;  // clamped to white, splits row 0 of image 0
    plot::image_grid(chw, file, {.columns = 3, .scale = 2});
    const std::string s2 = checked_svg(file);
    CHECK(count(s2, "<rect ") == 1 + 3 * 4 + 1);
    CHECK(count(s2, "<text") == 0);

    CHECK_THROWS_AS(plot::image_grid(zeros({3, 2, 4, 5}), file), ShapeError);
    CHECK_THROWS_AS(plot::image_grid(zeros({3, 4, 5}, {kInt64}), file), DtypeError);
    CHECK_THROWS_AS(plot::image_grid(images, file, {.labels = {"a"}}), ValueError);
    CHECK_THROWS_AS(plot::image_grid(images, file, {.columns = 0}), ValueError);
    CHECK_THROWS_AS(plot::image_grid(full({1, 2, 2}, std::nan("")), file), ValueError);
}

TEST_CASE("plots replace files atomically and leave no temporary files", "[utils]") {
    TempDir dir;
    const fs::path file = dir.path / "curve.svg";
    {
        std::ofstream old(file);
        old << "old contents";
    }
    plot::line_chart({{"a", {}, {1, 2, 3}}}, file);
    plot::line_chart({{"a", {}, {3, 2, 1}}}, file);
    plot::confusion_matrix_heatmap(tensor({{1.0, 0.0}, {0.0, 1.0}}), {}, dir.path / "cm.svg");
    CHECK(dir.files() == std::vector<std::string>{"cm.svg", "curve.svg"});
    CHECK(read_file(file).find("old contents") == std::string::npos);
    // A folder that does not exist: a clear error, nothing left behind.
    CHECK_THROWS_WITH(plot::line_chart({{"a", {}, {1, 2}}}, dir.path / "missing" / "x.svg"),
                      Contains("xgrad::plot::line_chart") && Contains("missing"));
    CHECK(dir.files() == std::vector<std::string>{"cm.svg", "curve.svg"});
    // Failing validation does not touch the existing file.
    const std::string before = read_file(file);
    CHECK_THROWS(plot::line_chart({}, file));
    CHECK(read_file(file) == before);
}

// ---- Graphviz export of the tape -------------------------------------------------------------

namespace {
struct SmallGraph {
    Tensor x = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
    Tensor w = tensor({0.1, 0.2, 0.3}, {.requires_grad = true});
    Tensor b = tensor({0.0, 0.5, 1.0}, {.requires_grad = true});
    Tensor loss = tanh(x * w + b).sum();
};
}  // namespace

TEST_CASE("DOT export lists ops in sequence order with shapes, leaves and edges", "[utils]") {
    SmallGraph g;
    const std::string dot = autograd::to_dot(g.loss);
    INFO(dot);
    CHECK(dot.rfind("digraph \"xgrad\" {", 0) == 0);
    CHECK(dot.substr(dot.size() - 2) == "}\n");
    const std::size_t mul = dot.find("MulBackward"), add = dot.find("AddBackward"),
                      th = dot.find("TanhBackward"), sum = dot.find("SumBackward");
    REQUIRE(mul != std::string::npos);
    CHECK(mul < add);
    CHECK(add < th);
    CHECK(th < sum);
    CHECK_THAT(dot, Contains("op0 [label=\"MulBackward\\n[2, 3]\""));
    CHECK_THAT(dot, Contains("op3 [label=\"SumBackward\\n[]\""));
    CHECK(count(dot, "shape=ellipse") == 4);
    CHECK(count(dot, "shape=box") == 2);  // w and b; x does not require grad
    CHECK(count(dot, "[3]\\nrequires_grad") == 2);
    CHECK(count(dot, " -> ") == 5);  // w->mul, mul->add, b->add, add->tanh, tanh->sum
    CHECK_THAT(dot, Contains("leaf0 -> op0;") && Contains("op0 -> op1;") &&
                        Contains("leaf1 -> op1;") && Contains("op2 -> op3;"));
    // Only the root is highlighted.
    CHECK(count(dot, "penwidth") == 1);
    CHECK(dot.find("penwidth") > dot.find("op3 [label"));
}

TEST_CASE("DOT export is deterministic, names leaves and can follow the gradient", "[utils]") {
    SmallGraph g1;
    const std::string a = autograd::to_dot(g1.loss);
    CHECK(autograd::to_dot(g1.loss) == a);
    SmallGraph g2;  // same structure, later sequence numbers: same text
    CHECK(autograd::to_dot(g2.loss) == a);

    autograd::DotOptions named;
    named.names = {{"weight", g1.w}, {"bias \"b\"", g1.b}};
    named.show_dtypes = true;
    const std::string n = autograd::to_dot(g1.loss, named);
    CHECK_THAT(n, Contains("label=\"weight\\n[3]\\nfloat32\\nrequires_grad\""));
    CHECK_THAT(n, Contains("bias \\\"b\\\""));

    const std::string grad =
        autograd::to_dot(g1.loss, {.direction = autograd::DotDirection::GradientFlow});
    CHECK_THAT(grad, Contains("op0 -> leaf0;") && Contains("op3 -> op2;"));
    CHECK(grad.find("leaf0 -> op0") == std::string::npos);
    CHECK(count(grad, " -> ") == 5);

    // An input used twice gives two edges; a leaf root is a single highlighted box.
    Tensor x = tensor({1.0, 2.0}, {.requires_grad = true});
    const std::string sq = autograd::to_dot((x * x).sum());
    CHECK(count(sq, "leaf0 -> op0;") == 2);
    const std::string leaf = autograd::to_dot(x);
    CHECK(count(leaf, "shape=box") == 1);
    CHECK(count(leaf, "penwidth") == 1);
    CHECK(count(leaf, " -> ") == 0);
    // After backward the saved tensors are gone, and the export says so.
    Tensor y = (x * x).sum();
    y.backward();
    CHECK_THAT(autograd::to_dot(y), Contains("released"));
}

TEST_CASE("DOT export saves atomically and rejects bad input", "[utils]") {
    TempDir dir;
    SmallGraph g;
    autograd::save_dot(g.loss, dir.path / "graph.dot", {.rankdir = "LR"});
    CHECK(read_file(dir.path / "graph.dot") == autograd::to_dot(g.loss, {.rankdir = "LR"}));
    CHECK(dir.files() == std::vector<std::string>{"graph.dot"});
    CHECK_THROWS_AS(autograd::to_dot(Tensor()), ValueError);
    CHECK_THROWS_WITH(autograd::to_dot(g.loss, {.rankdir = "sideways"}),
                      Contains("xgrad::autograd::to_dot") && Contains("sideways"));
    CHECK_THROWS_AS(autograd::save_dot(g.loss, dir.path / "no" / "graph.dot"), Error);
    CHECK(dir.files() == std::vector<std::string>{"graph.dot"});
}

TEST_CASE("DOT export walks a very deep graph without recursion", "[utils]") {
    Tensor x = tensor({1.0}, {.requires_grad = true});
    Tensor y = x;
    for (int i = 0; i < 20000; ++i) y = y * 1.0;
    const std::string dot = autograd::to_dot(y);
    CHECK(count(dot, "shape=ellipse") == 20000);
    CHECK(count(dot, " -> ") == 20000);
    CHECK_THAT(dot, Contains("op19999 [label=\"MulBackward"));
}
