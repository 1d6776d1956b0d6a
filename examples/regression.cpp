// Regression: an MLP fits noisy samples of sin(x), trained until convergence.
//
// "Train until convergence" made concrete: after every step the cost on held-out validation
// points is fed to optim::Convergence, which stops training once it has not improved for
// `patience` checks (early stopping); the weights of the best check are kept. The fit is scored
// with R^2 and drawn as an SVG (data points, the network's curve and the true sin(x)).
//
//   regression                   # writes regression_fit.svg
//   regression --patience 500    # wait longer before calling it converged
//   regression --quick           # 150 steps at most (CTest): exits 1 unless the cost fell
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include <xgrad/utils.hpp>
#include <xgrad/xgrad.hpp>

#include "common/args.hpp"

using namespace xgrad;

namespace {

constexpr double kPi = 3.14159265358979323846;

// n points with x uniform in [-pi, pi] and y = sin(x) + noise; x and y are [n, 1].
std::pair<Tensor, Tensor> noisy_sine(std::int64_t n, double noise, Generator& gen) {
    Tensor x = rand({n, 1}, gen) * (2 * kPi) - kPi;
    Tensor y = sin(x) + randn({n, 1}, gen) * noise;
    return {x, y};
}

}  // namespace

int main(int argc, char** argv) {
    std::int64_t patience = 300, max_steps = 20000, hidden = 32;
    double lr = 0.01, noise = 0.1;
    std::string out_dir = ".";
    bool quick = false;
    examples::Args args("regression",
                        "An MLP fits noisy sin(x) until the validation cost converges.");
    args.option("--hidden", hidden, "neurons in each of the two hidden layers");
    args.option("--lr", lr, "Adam learning rate");
    args.option("--noise", noise, "standard deviation of the noise added to sin(x)");
    args.option("--patience", patience, "steps without a better validation cost before stopping");
    args.option("--max-steps", max_steps, "upper limit on training steps");
    args.option("--out-dir", out_dir, "where regression_fit.svg goes");
    args.flag("--quick", quick, "tiny configuration for CTest");
    args.parse(argc, argv);
    args.print_config();
    if (quick) max_steps = 150;
    std::filesystem::create_directories(out_dir);

    manual_seed(0);
    Generator gen(42);
    const auto [x_train, y_train] = noisy_sine(200, noise, gen);
    const auto [x_val, y_val] = noisy_sine(100, noise, gen);

    nn::Sequential model(nn::Linear(1, hidden), nn::Tanh(), nn::Linear(hidden, hidden), nn::Tanh(),
                         nn::Linear(hidden, 1));
    optim::Adam opt(model.parameters(), {.lr = lr});
    optim::Convergence convergence(
        {.min_delta = 1e-6, .patience = patience, .max_steps = max_steps});

    auto validation_cost = [&, &x_val = x_val, &y_val = y_val] {  // (clang: bindings by name)
        NoGradGuard no_grad;
        return nn::mse_loss(model(x_val), y_val).item<double>();
    };
    const double first_val = validation_cost();
    nn::StateDict best;
    examples::Stopwatch clock;
    while (!convergence.should_stop()) {
        Tensor cost = nn::mse_loss(model(x_train), y_train);
        opt.zero_grad();
        cost.backward();
        opt.step();
        const double val = validation_cost();
        if (convergence.update(val)) {  // a new best: remember these weights
            NoGradGuard no_grad;
            for (const auto& [name, t] : model.state_dict()) best[name] = t.clone();
        }
        if (convergence.steps() % 500 == 1)
            std::printf("step %5lld  train cost %.5f  validation cost %.5f\n",
                        static_cast<long long>(convergence.steps()), cost.item<double>(), val);
    }
    model.load_state_dict(best);
    const char* why = convergence.reason() == optim::StopReason::converged ? "converged"
                      : convergence.reason() == optim::StopReason::max_steps
                          ? "reached the step limit"
                          : "diverged";
    std::printf("%s after %lld steps (%.1f s); best validation cost %.5f at step %lld\n", why,
                static_cast<long long>(convergence.steps()), clock.seconds(), convergence.best(),
                static_cast<long long>(convergence.best_step()));

    // Inference by forward propagation alone.
    NoGradGuard inference;
    const Tensor pred_val = model(x_val);
    std::printf(
        "validation: R^2 %.4f, RMSE %.4f (noise level %.2f), R^2 against the true sin(x) %.4f\n",
        metrics::r2_score(pred_val, y_val), metrics::rmse(pred_val, y_val), noise,
        metrics::r2_score(pred_val, sin(x_val)));

    const Tensor grid = linspace(-kPi, kPi, 200).reshape({200, 1});
    const auto gx = grid.to_vector<double>();
    const auto gy = sin(grid).to_vector<double>();
    const auto svg = std::filesystem::path(out_dir) / "regression_fit.svg";
    plot::regression_fit(x_train, y_train, grid, model(grid), svg,
                         {.title = "MLP fit of noisy sin(x) (early stopping)",
                          .data_name = "training data",
                          .fit_name = "network",
                          .extra_curves = {{"sin(x)", gx, gy}}});
    std::printf("wrote %s\n", svg.c_str());
    return convergence.best() < first_val ? 0 : 1;
}
