// A fully connected input-hidden-output network classifies points in the plane: noisy XOR
// (2 classes) and three interleaved spirals (3 classes). Neither can be separated by straight
// lines; the hidden layer's non-linear neurons bend the boundary. Each decision boundary is
// written as an SVG: the plane coloured by the predicted class, with the training points on top.
//
//   classify_2d                  # writes xor_boundary.svg and spiral_boundary.svg
//   classify_2d --hidden 16      # a narrower hidden layer
//   classify_2d --quick          # 100 steps each (CTest): exits 1 unless both costs fell
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <xgrad/utils.hpp>
#include <xgrad/xgrad.hpp>

#include "common/args.hpp"

using namespace xgrad;

namespace {

struct Points {
    Tensor x;  // float32 [N, 2]
    Tensor y;  // int64 [N]
};

// XOR as clouds: points around the four corners (+-1, +-1); the class is 1 when the signs of
// the two coordinates differ.
Points make_xor(std::int64_t per_corner, Generator& gen) {
    std::vector<float> xs;
    std::vector<std::int64_t> ys;
    for (int corner = 0; corner < 4; ++corner) {
        const float cx = corner & 1 ? 1.f : -1.f, cy = corner & 2 ? 1.f : -1.f;
        for (std::int64_t i = 0; i < per_corner; ++i) {
            xs.push_back(cx + 0.35f * float(gen.normal()));
            xs.push_back(cy + 0.35f * float(gen.normal()));
            ys.push_back(cx * cy < 0 ? 1 : 0);
        }
    }
    const auto n = static_cast<std::int64_t>(ys.size());
    return {tensor(xs, {n, 2}), tensor(ys)};
}

// Three spiral arms (CS231n's classic): class k's points lie at radius r in [0, 1] and angle
// 4k + 4r plus a little noise.
Points make_spiral(std::int64_t per_class, Generator& gen) {
    std::vector<float> xs;
    std::vector<std::int64_t> ys;
    for (int k = 0; k < 3; ++k)
        for (std::int64_t i = 0; i < per_class; ++i) {
            const double r = double(i) / double(per_class - 1);
            const double angle = 4.0 * k + 4.0 * r + 0.2 * gen.normal();
            xs.push_back(float(r * std::sin(angle)));
            xs.push_back(float(r * std::cos(angle)));
            ys.push_back(k);
        }
    const auto n = static_cast<std::int64_t>(ys.size());
    return {tensor(xs, {n, 2}), tensor(ys)};
}

struct Outcome {
    double first_cost = 0, last_cost = 0, accuracy = 0;
};

// Input layer (2) -> hidden layer (tanh) -> output layer (one score per class), trained with
// Adam on the whole set at once; then the boundary is drawn by forward propagation alone.
Outcome train_and_plot(const std::string& name, const Points& data, std::int64_t classes,
                       std::int64_t hidden, int steps, const std::filesystem::path& svg) {
    nn::Sequential net(nn::Linear(2, hidden), nn::Tanh(), nn::Linear(hidden, classes));
    optim::Adam opt(net.parameters(), {.lr = 0.02});
    Outcome out;
    for (int step = 0; step < steps; ++step) {
        Tensor cost = nn::cross_entropy(net(data.x), data.y);
        opt.zero_grad();
        cost.backward();
        opt.step();
        if (step == 0) out.first_cost = cost.item<double>();
        out.last_cost = cost.item<double>();
        if (step % (steps / 5) == 0 || step == steps - 1)
            std::printf("  %s step %4d  cost %.4f\n", name.c_str(), step, out.last_cost);
    }
    {
        NoGradGuard inference;
        out.accuracy = metrics::accuracy(net(data.x), data.y);
    }
    std::vector<std::string> names;
    for (std::int64_t k = 0; k < classes; ++k) names.push_back("class " + std::to_string(k));
    plot::decision_boundary([&](const Tensor& p) { return net(p); }, data.x, data.y, svg,
                            {.title = name + ": 2-" + std::to_string(hidden) + "-" +
                                      std::to_string(classes) + " network, training accuracy " +
                                      std::to_string(int(std::round(100 * out.accuracy))) + "%",
                             .class_names = names});
    std::printf("%s: cost %.4f -> %.4f, training accuracy %.1f%%, boundary in %s\n", name.c_str(),
                out.first_cost, out.last_cost, 100 * out.accuracy, svg.c_str());
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    int steps = 1500;
    std::int64_t hidden = 32;
    std::string out_dir = ".";
    bool quick = false;
    examples::Args args("classify_2d", "An input-hidden-output network on XOR and spirals.");
    args.option("--steps", steps, "full-batch Adam steps per problem");
    args.option("--hidden", hidden, "neurons in the hidden layer");
    args.option("--out-dir", out_dir, "where the SVG files go");
    args.flag("--quick", quick, "tiny configuration for CTest");
    args.parse(argc, argv);
    args.print_config();
    if (quick) steps = 100;
    std::filesystem::create_directories(out_dir);

    manual_seed(1);
    Generator gen(7);
    const Outcome xr = train_and_plot("XOR", make_xor(50, gen), 2, hidden, steps,
                                      std::filesystem::path(out_dir) / "xor_boundary.svg");
    const Outcome sp = train_and_plot("spiral", make_spiral(100, gen), 3, hidden, steps,
                                      std::filesystem::path(out_dir) / "spiral_boundary.svg");
    const bool fell = xr.last_cost < xr.first_cost && sp.last_cost < sp.first_cost;
    if (quick) return fell ? 0 : 1;
    return fell && xr.accuracy > 0.9 && sp.accuracy > 0.9 ? 0 : 1;
}
