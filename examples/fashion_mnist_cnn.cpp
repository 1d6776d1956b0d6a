// Fashion-MNIST with a small convolutional network and batch normalisation.
//
// Instead of one weight per pixel, a convolution slides small 3x3 filters over the image, so
// the same feature detector (an edge, a stripe, a collar) is found wherever it appears; max
// pooling keeps the strongest response of each 2x2 patch; batch normalisation rescales every
// channel over the batch so that a high learning rate stays stable. Two such stages and a fully
// connected head reach 93 % on the test set, which the MLP of fashion_mnist_mlp does not approach.
// Conv2d is oneDNN's convolution, and every gradient comes from the tape.
//
//   conv(1->32, 3x3) maxpool(2) BN ReLU  ->  conv(32->64, 3x3) maxpool(2) BN ReLU  ->  [64*7*7]
//   -> Linear(3136, 128) BN ReLU dropout(0.3) -> Linear(128, 10)
//
//   fashion_mnist_cnn          # 8 epochs: 93 % from epoch 7 (93.31 % at the end, seed 0)
//                              # Adam peak lr 3e-3, warm-up + cosine, label smoothing 0.1,
//                              # random left-right mirroring, batch 128
//   fashion_mnist_cnn --eval   # evaluate the saved checkpoint (forward only)
//   fashion_mnist_cnn --quick  # a few batches (CTest): exits 1 unless the cost fell
//
// It prints the wall time (since the start, loading and the tests after each epoch included)
// at which the test accuracy first reached --target (93 %). Files in --out-dir:
// fashion_mnist_cnn.safetensors, cnn_loss.svg, cnn_accuracy.svg, cnn_confusion.svg.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <xgrad/data.hpp>
#include <xgrad/nn/serialization.hpp>
#include <xgrad/utils.hpp>
#include <xgrad/xgrad.hpp>

#include "common/args.hpp"

using namespace xgrad;
namespace fs = std::filesystem;

namespace {

// Each convolution is followed by max pooling, then batch normalisation, then ReLU. Batch
// normalisation keeps every channel at zero mean and unit variance over the batch, so a high
// learning rate stays stable and a few epochs suffice. Pooling first is the cheap order: the
// normalisation and ReLU then touch a quarter of the values (those ops walk memory, they are
// most of a step's time next to the oneDNN convolutions), and max pooling commutes with ReLU
// and with any increasing per-channel map, so little changes but the batch statistics. A layer
// followed by batch normalisation needs no bias: the normalisation subtracts it again and adds
// its own shift. Dropout in the head regularises the 400 000 weights of Linear(3136, 128).
nn::Sequential make_model(std::int64_t c, double dropout) {
    return nn::Sequential(nn::Conv2d(1, c, 3, {.padding = 1, .bias = false}), nn::MaxPool2d(2),
                          nn::BatchNorm2d(c), nn::ReLU(),
                          nn::Conv2d(c, 2 * c, 3, {.padding = 1, .bias = false}), nn::MaxPool2d(2),
                          nn::BatchNorm2d(2 * c), nn::ReLU(), nn::Flatten(),
                          nn::Linear(2 * c * 7 * 7, 128, /*bias=*/false), nn::BatchNorm1d(128),
                          nn::ReLU(), nn::Dropout(dropout), nn::Linear(128, 10));
}

// Mirrors each image of a batch [B, 1, 28, 28] left-right with probability p: a mirrored
// shirt, shoe or bag is still one, so every epoch shows the network new images, for the price
// of a gather and a select over the batch.
Tensor random_flip(const Tensor& x, double p, const Tensor& reversed_columns) {
    const Tensor mirrored = index_select(x, 3, reversed_columns);
    return where(rand({x.size(0), 1, 1, 1}) < p, mirrored, x);
}

// Images [N, 1, 28, 28], standardised.
data::TensorDataset load_split(const std::string& dir, data::Split split, std::int64_t limit) {
    data::TensorDataset raw = data::FashionMNIST::load(dir, split, {.limit = limit});
    Tensor images = raw.inputs();
    data::normalize_(images, 0.2860, 0.3530);  // in place: one copy of the data in memory
    return raw;
}

struct Evaluation {
    double loss = 0, accuracy = 0;
    Tensor logits;
};

// Forward propagation only, in batches, with no tape.
Evaluation evaluate(nn::Module& model, const data::TensorDataset& ds) {
    NoGradGuard no_grad;
    model.eval();
    TensorList parts;
    double loss_sum = 0;
    for (auto& [x, y] : data::DataLoader(ds, {.batch_size = 500})) {
        Tensor logits = model(x);
        loss_sum += nn::cross_entropy(logits, y, {.reduction = nn::Reduction::sum}).item<double>();
        parts.push_back(logits);
    }
    model.train();
    Tensor logits = cat(parts, 0);
    return {loss_sum / double(ds.size()), metrics::accuracy(logits, ds.targets()), logits};
}

void report(const Evaluation& ev, const data::TensorDataset& test, const fs::path& out) {
    const auto& names = data::FashionMNIST::classes();
    Tensor cm = metrics::confusion_matrix(ev.logits, test.targets(), 10);
    std::cout << metrics::classification_report(metrics::precision_recall_f1(cm), names);
    plot::confusion_matrix_heatmap(cm, names, out / "cnn_confusion.svg",
                                   {.title = "Fashion-MNIST CNN: test confusion matrix"});
}

}  // namespace

int main(int argc, char** argv) {
    int epochs = 8, threads = 0;
    std::int64_t batch_size = 128, channels = 32, seed = 0;
    double lr = 3e-3, warmup = 0.2, label_smoothing = 0.1, flip = 0.5, dropout = 0.3, target = 0.93;
    std::string data_dir = "/usr/share/datasets/fashion-mnist", out_dir = "fashion_mnist_cnn_out";
    bool eval_only = false, quick = false;
    examples::Args args("fashion_mnist_cnn",
                        "Fashion-MNIST with a small convolutional network (batch norm).");
    args.option("--epochs", epochs, "training epochs");
    args.option("--batch-size", batch_size, "mini-batch size");
    args.option("--lr", lr, "peak Adam learning rate (linear warm-up, then cosine to 0)");
    args.option("--warmup", warmup, "fraction of the batches spent warming the lr up");
    args.option("--label-smoothing", label_smoothing, "weight of the uniform target in the cost");
    args.option("--flip", flip, "probability of mirroring a training image left-right");
    args.option("--dropout", dropout, "dropout before the output layer");
    args.option("--channels", channels,
                "filters of the first convolution (twice as many in the second)");
    args.option("--target", target, "test accuracy whose first crossing is timed");
    args.option("--threads", threads,
                "threads (xgrad, oneDNN, OpenBLAS); 0 = OPENBLAS_NUM_THREADS, else the cores");
    args.option("--data-dir", data_dir, "folder with the Fashion-MNIST IDX files");
    args.option("--out-dir", out_dir, "where the checkpoint and the SVG plots go");
    args.option("--seed", seed, "random seed");
    args.flag("--eval", eval_only, "load the checkpoint and evaluate on the test set only");
    args.flag("--quick", quick, "tiny configuration for CTest (a few batches)");
    args.parse(argc, argv);
    if (epochs < 1 || batch_size < 1 || channels < 1 || !(lr > 0) || !(warmup >= 0 && warmup < 1) ||
        !(label_smoothing >= 0 && label_smoothing <= 1) || !(flip >= 0 && flip <= 1) ||
        !(dropout >= 0 && dropout < 1)) {
        std::cerr << "--epochs, --batch-size, --channels and --lr must be positive; --warmup and "
                     "--dropout in [0, 1), --label-smoothing and --flip in [0, 1]\n";
        return 2;
    }
    if (threads > 0) set_num_threads(threads);
    args.print_config();
    if (quick) epochs = 1;
    if (!fs::is_directory(data_dir)) {
        std::cout << "Fashion-MNIST not found in " << data_dir << "; skipping\n";
        return examples::kSkipExitCode;
    }
    const fs::path out(out_dir);
    fs::create_directories(out);
    const fs::path checkpoint = out / "fashion_mnist_cnn.safetensors";
    manual_seed(static_cast<std::uint64_t>(seed));
    examples::Stopwatch total_time;

    const data::TensorDataset test = load_split(data_dir, data::Split::Test, quick ? 500 : -1);
    const data::TensorDataset train =
        eval_only ? data::TensorDataset()
                  : load_split(data_dir, data::Split::Train, quick ? 640 : -1);
    nn::Sequential model = make_model(channels, dropout);

    if (eval_only) {
        nn::load(model, checkpoint.string());
        examples::Stopwatch t;
        const Evaluation ev = evaluate(model, test);
        std::printf("%s: test loss %.4f, test accuracy %.2f%% (%.1f s, forward only)\n",
                    checkpoint.c_str(), ev.loss, 100 * ev.accuracy, t.seconds());
        report(ev, test, out);
        return 0;
    }

    std::cout << model << "\n";
    optim::Adam opt(model.parameters(), {.lr = lr});
    data::DataLoader loader(
        train,
        {.batch_size = batch_size, .shuffle = true, .seed = static_cast<std::uint64_t>(seed)});
    // The lr climbs from lr/25 to lr over the first batches (Adam's moment estimates are poor at
    // first and batch norm's statistics still move), then follows a cosine down to 0 by the last
    // batch: the two schedulers, stepped after every batch, multiply (PyTorch's chained form).
    const std::int64_t steps = epochs * loader.size();
    optim::LinearLR warm_up(
        opt, {.start_factor = 0.04,
              .total_iters = std::max<std::int64_t>(1, std::llround(warmup * double(steps)))});
    optim::CosineAnnealingLR cosine(opt, {.T_max = steps});
    const Tensor reversed_columns = arange<std::int64_t>(27, -1, -1);
    std::printf(
        "Adam peak lr %g (warm-up %g, cosine), label smoothing %g, flip %g, dropout %g, "
        "batch %lld, %d epochs, %d BLAS threads\n",
        lr, warmup, label_smoothing, flip, dropout, static_cast<long long>(batch_size), epochs,
        get_num_threads());

    // The cost before and after training, on the first 10 000 training images: a forward pass
    // over all 60 000 would cost a third of an epoch twice, for the same verdict.
    const std::int64_t probe_size = std::min<std::int64_t>(10000, train.size());
    const data::TensorDataset probe(train.inputs().narrow(0, 0, probe_size),
                                    train.targets().narrow(0, 0, probe_size));
    const double first_cost = evaluate(model, probe).loss;
    std::vector<double> train_loss, train_acc, test_loss, test_acc;
    Evaluation ev;
    int target_epoch = 0;
    double target_seconds = 0;
    for (int epoch = 1; epoch <= epochs; ++epoch) {
        examples::Stopwatch t;
        ProgressBar bar(loader.size(), {.epoch = epoch, .num_epochs = epochs, .label = "train"});
        std::int64_t i = 0;
        for (auto& [x, y] : loader) {
            Tensor logits = model(flip > 0 ? random_flip(x, flip, reversed_columns) : x);
            Tensor loss = nn::cross_entropy(logits, y, {.label_smoothing = label_smoothing});
            opt.zero_grad();
            loss.backward();
            opt.step();
            warm_up.step();
            cosine.step();
            bar.update(++i, {.loss = loss.item<double>(),
                             .accuracy = metrics::accuracy(logits, y),
                             .samples = x.size(0)});
        }
        bar.finish();
        const double seconds = t.seconds();
        ev = evaluate(model, test);
        train_loss.push_back(*bar.mean_loss());
        train_acc.push_back(*bar.mean_accuracy());
        test_loss.push_back(ev.loss);
        test_acc.push_back(ev.accuracy);
        std::printf("epoch %d: train loss %.4f acc %.2f%% | test loss %.4f acc %.2f%% | %.1f s\n",
                    epoch, train_loss.back(), 100 * train_acc.back(), ev.loss, 100 * ev.accuracy,
                    seconds);
        if (target_epoch == 0 && ev.accuracy >= target) {
            target_epoch = epoch;
            target_seconds = total_time.seconds();
        }
        nn::save(model, checkpoint.string(), {{"epochs", std::to_string(epoch)}});
    }
    plot::line_chart({{"train", {}, train_loss}, {"test", {}, test_loss}}, out / "cnn_loss.svg",
                     {.title = "Fashion-MNIST CNN: cost",
                      .x_label = "epoch",
                      .y_label = "cross-entropy",
                      .markers = true});
    plot::line_chart({{"train", {}, train_acc}, {"test", {}, test_acc}}, out / "cnn_accuracy.svg",
                     {.title = "Fashion-MNIST CNN: accuracy",
                      .x_label = "epoch",
                      .y_label = "accuracy",
                      .markers = true});
    report(ev, test, out);
    // Wall time since the program started: loading, training and the test after every epoch.
    if (target_epoch > 0)
        std::printf("reached %g %% after epoch %d, %.1f s\n", 100 * target, target_epoch,
                    target_seconds);
    else
        std::printf("did not reach %g %% in %d epochs\n", 100 * target, epochs);
    const double last_cost = evaluate(model, probe).loss;
    std::printf("training-set cost %.4f -> %.4f; test accuracy %.2f%%; total %.1f s\n", first_cost,
                last_cost, 100 * ev.accuracy, total_time.seconds());
    return last_cost < first_cost ? 0 : 1;
}
