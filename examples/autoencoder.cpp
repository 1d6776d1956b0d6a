// Unsupervised learning on Fashion-MNIST: an autoencoder, then clustering of its codes.
//
// No labels are used for training. The encoder squeezes each 784-pixel image into a 32-number
// code, the decoder rebuilds the image from the code, and the cost is how far the rebuilt
// image is from the original (mean squared error): the network must discover on its own what
// matters in a picture. Then k-means groups the test images' codes into 10 clusters (the seed
// article's clustering), and only now are the labels looked at, to score the clusters by
// purity: the share of images that belong to their cluster's most common class. k-means on the
// raw pixels gives the baseline.
//
//   autoencoder               # 5 epochs; writes autoencoder_reconstructions.svg
//   autoencoder --code 16     # a tighter bottleneck
//   autoencoder --quick       # a few batches (CTest): exits 1 unless the cost fell
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include <xgrad/data.hpp>
#include <xgrad/utils.hpp>
#include <xgrad/xgrad.hpp>

#include "common/args.hpp"

using namespace xgrad;
namespace fs = std::filesystem;

namespace {

struct Clustering {
    Tensor assign;       // int64 [N]: each row's cluster
    double inertia = 0;  // sum of squared distances to the assigned centres
};

// k-means (Lloyd's algorithm with k-means++ seeding) on the rows of x [N, D]. Distances
// |x - c|^2 = |x|^2 - 2 x.c + |c|^2 come from one matrix product per iteration.
Clustering kmeans_once(const Tensor& x, std::int64_t k, int iterations, Generator& gen) {
    NoGradGuard no_grad;
    const std::int64_t n = x.size(0);
    const Tensor x2 = (x * x).sum({1}, true);         // [N, 1]
    auto sq_distances = [&](const Tensor& centres) {  // [N, K]
        return clamp(x2 - 2.0 * matmul(x, centres, {.transpose_b = true}) +
                         (centres * centres).sum({1}).unsqueeze(0),
                     0.0);
    };
    // k-means++: each new centre is a row drawn with probability proportional to its squared
    // distance from the nearest centre chosen so far.
    std::vector<std::int64_t> chosen{gen.randint(0, n)};
    while (static_cast<std::int64_t>(chosen.size()) < k) {
        const Tensor d = sq_distances(x.index_select(0, tensor(chosen))).min({1});
        const auto w = d.to_vector<double>();
        double total = 0;
        for (double v : w) total += v;
        double r = gen.uniform() * total;
        std::int64_t pick = n - 1;
        for (std::int64_t i = 0; i < n; ++i)
            if ((r -= w[i]) <= 0) {
                pick = i;
                break;
            }
        chosen.push_back(pick);
    }
    Tensor centres = x.index_select(0, tensor(chosen));
    for (int it = 0; it < iterations; ++it) {
        const Tensor assign = argmin(sq_distances(centres), 1);
        // New centre = mean of its rows (index_add sums rows per cluster); an empty cluster
        // keeps its old centre.
        const Tensor sums = index_add(zeros({k, x.size(1)}), 0, assign, x);
        const Tensor counts = index_add(zeros({k}), 0, assign, ones({n})).unsqueeze(1);
        centres = where(counts > 0.0, sums / clamp(counts, 1.0), centres);
    }
    const Tensor d = sq_distances(centres);
    return {argmin(d, 1), d.min({1}).sum().item<double>()};
}

// The best of several k-means runs (lowest inertia), as k-means is sensitive to its seeding.
Tensor kmeans(const Tensor& x, std::int64_t k, int restarts, Generator& gen) {
    Clustering best;
    for (int r = 0; r < restarts; ++r) {
        Clustering c = kmeans_once(x, k, 30, gen);
        if (r == 0 || c.inertia < best.inertia) best = c;
    }
    return best.assign;
}

// Share of samples whose cluster's most common true class is their own.
double purity(const Tensor& clusters, const Tensor& labels, std::int64_t k) {
    // Rows: true class, columns: cluster.
    const auto cm = metrics::confusion_matrix(clusters, labels, k).to_vector<std::int64_t>();
    std::int64_t hit = 0;
    for (std::int64_t c = 0; c < k; ++c) {
        std::int64_t best = 0;
        for (std::int64_t t = 0; t < k; ++t) best = std::max(best, cm[t * k + c]);
        hit += best;
    }
    return double(hit) / double(labels.size(0));
}

}  // namespace

int main(int argc, char** argv) {
    int epochs = 5, threads = 0;
    std::int64_t batch_size = 128, code = 32, seed = 0;
    double lr = 1e-3;
    std::string data_dir = "/usr/share/datasets/fashion-mnist", out_dir = ".";
    bool quick = false;
    examples::Args args("autoencoder",
                        "An autoencoder on Fashion-MNIST, then k-means on its codes.");
    args.option("--epochs", epochs, "training epochs");
    args.option("--batch-size", batch_size, "mini-batch size");
    args.option("--lr", lr, "Adam learning rate");
    args.option("--code", code, "size of the code (the bottleneck)");
    args.option("--threads", threads,
                "threads (xgrad, oneDNN, OpenBLAS); 0 = OPENBLAS_NUM_THREADS, else the cores");
    args.option("--data-dir", data_dir, "folder with the Fashion-MNIST IDX files");
    args.option("--out-dir", out_dir, "where autoencoder_reconstructions.svg goes");
    args.option("--seed", seed, "random seed");
    args.flag("--quick", quick, "tiny configuration for CTest (a few batches)");
    args.parse(argc, argv);
    if (threads > 0) set_num_threads(threads);
    args.print_config();
    if (quick) epochs = 1;
    if (!fs::is_directory(data_dir)) {
        std::cout << "Fashion-MNIST not found in " << data_dir << "; skipping\n";
        return examples::kSkipExitCode;
    }
    fs::create_directories(out_dir);
    manual_seed(static_cast<std::uint64_t>(seed));
    examples::Stopwatch total_time;

    // Pixels in [0, 1]; the labels are loaded but not used until the clusters are scored.
    const auto train = data::FashionMNIST::load(data_dir, data::Split::Train,
                                                {.flatten = true, .limit = quick ? 1280 : -1});
    const auto test = data::FashionMNIST::load(data_dir, data::Split::Test,
                                               {.flatten = true, .limit = quick ? 500 : -1});

    nn::Sequential encoder(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, code));
    nn::Sequential decoder(nn::Linear(code, 256), nn::ReLU(), nn::Linear(256, 784), nn::Sigmoid());
    std::vector<Tensor> params = encoder.parameters();
    for (const Tensor& p : decoder.parameters()) params.push_back(p);
    optim::Adam opt(params, {.lr = lr});

    auto test_cost = [&] {
        NoGradGuard no_grad;
        return nn::mse_loss(decoder(encoder(test.inputs())), test.inputs()).item<double>();
    };
    const double first_cost = test_cost();
    std::printf(
        "reconstruction cost (MSE per pixel) of the untrained network on the test set: %.4f\n",
        first_cost);
    data::DataLoader loader(
        data::TensorDataset(train.inputs()),  // images only, no labels
        {.batch_size = batch_size, .shuffle = true, .seed = static_cast<std::uint64_t>(seed)});
    for (int epoch = 1; epoch <= epochs; ++epoch) {
        ProgressBar bar(loader.size(), {.epoch = epoch, .num_epochs = epochs, .label = "train"});
        std::int64_t i = 0;
        for (auto& batch : loader) {
            const Tensor& x = batch.input;  // no target: the input is the target
            Tensor cost = nn::mse_loss(decoder(encoder(x)), x);  // reconstruction cost
            opt.zero_grad();
            cost.backward();
            opt.step();
            bar.update(++i, {.loss = cost.item<double>(), .samples = x.size(0)});
        }
        bar.finish();
        std::printf("epoch %d: train cost %.4f, test cost %.4f\n", epoch, *bar.mean_loss(),
                    test_cost());
    }
    const double last_cost = test_cost();

    NoGradGuard inference;
    // Originals and reconstructions in alternating rows of 8.
    const std::int64_t shown = std::min<std::int64_t>(16, test.size());
    const Tensor originals = test.inputs().narrow(0, 0, shown);
    const Tensor rebuilt = decoder(encoder(originals));
    TensorList rows;
    for (std::int64_t r = 0; r < shown; r += 8) {
        rows.push_back(originals.narrow(0, r, std::min<std::int64_t>(8, shown - r)));
        rows.push_back(rebuilt.narrow(0, r, std::min<std::int64_t>(8, shown - r)));
    }
    const auto svg = fs::path(out_dir) / "autoencoder_reconstructions.svg";
    plot::image_grid(cat(rows, 0).reshape({-1, 1, 28, 28}), svg,
                     {.title = "Test images (rows 1, 3), rebuilt from " + std::to_string(code) +
                               " numbers (rows 2, 4)",
                      .columns = 8,
                      .scale = 3});

    // Cluster the test set: on the learned codes, and on the raw pixels for comparison.
    Generator gen(static_cast<std::uint64_t>(seed) + 1);
    const Tensor codes = encoder(test.inputs());
    const Tensor labels = test.targets();
    const double purity_codes = purity(kmeans(codes, 10, 5, gen), labels, 10);
    const double purity_pixels = purity(kmeans(test.inputs(), 10, 5, gen), labels, 10);
    std::printf("test reconstruction cost %.4f -> %.4f; wrote %s\n", first_cost, last_cost,
                svg.c_str());
    std::printf(
        "k-means (k = 10, best of 5) on %lld test images: purity %.1f%% on the %lld-number codes, "
        "%.1f%% on the raw 784 pixels (10%% would be chance); total %.1f s\n",
        static_cast<long long>(test.size()), 100 * purity_codes, static_cast<long long>(code),
        100 * purity_pixels, total_time.seconds());
    return last_cost < first_cost ? 0 : 1;
}
