// Train a small fully connected network on any numeric CSV table: classification or regression.
//
// Every column but the target is an input feature (all must be numbers); the target column is
// chosen by name or index (the last column by default). Text targets, or --task classification,
// make it a classifier (cross-entropy); numeric targets a regressor (mean squared error on
// standardised targets). The rows are shuffled and split into training and validation parts,
// the features standardised with the training part's statistics, and the network trained in
// mini-batches until the validation cost stops improving (early stopping); the best weights are
// kept and scored.
//
//   csv_train                                            # Iris (examples/data/iris.csv)
//   csv_train my_table.csv --target price --hidden 64
//   csv_train examples/data/synthetic_regression.csv     # regression: y from x1, x2, x3
//   csv_train --quick                                    # 5 epochs (CTest): exits 1 unless
//                                                        # the validation cost fell
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <xgrad/data.hpp>
#include <xgrad/utils.hpp>
#include <xgrad/xgrad.hpp>

#include "common/args.hpp"

#ifndef XGRAD_EXAMPLES_DATA_DIR
#define XGRAD_EXAMPLES_DATA_DIR "examples/data"
#endif

using namespace xgrad;

namespace {

// "3" or "-1" picks a column by index, anything else by name.
data::CsvColumn parse_column(const std::string& text) {
    try {
        std::size_t used = 0;
        const int index = std::stoi(text, &used);
        if (used == text.size()) return data::CsvColumn(index);
    } catch (const std::exception&) {
    }
    return data::CsvColumn(text);
}

}  // namespace

int main(int argc, char** argv) {
    std::string path = std::string(XGRAD_EXAMPLES_DATA_DIR) + "/iris.csv";
    std::string target = "-1", task_name = "auto";
    std::int64_t hidden = 32, batch_size = 16, patience = 30, max_epochs = 500, seed = 0;
    double lr = 0.01, val_fraction = 0.25;
    bool quick = false;
    examples::Args args("csv_train", "A fully connected network on a numeric CSV table.");
    args.positional("CSV", path, "the table (a header row, then one sample per row)");
    args.option("--target", target, "target column: a name or an index (negative from the end)");
    args.option("--task", task_name, "auto, classification or regression");
    args.option("--hidden", hidden, "neurons in each of the two hidden layers");
    args.option("--lr", lr, "Adam learning rate");
    args.option("--batch-size", batch_size, "mini-batch size");
    args.option("--val-fraction", val_fraction, "share of the rows held out for validation");
    args.option("--patience", patience, "epochs without a better validation cost before stopping");
    args.option("--max-epochs", max_epochs, "upper limit on epochs");
    args.option("--seed", seed, "random seed (split, initial weights, shuffling)");
    args.flag("--quick", quick, "tiny configuration for CTest");
    args.parse(argc, argv);
    args.print_config();
    if (quick) max_epochs = 5;
    data::CsvTask task = data::CsvTask::Auto;
    if (task_name == "classification")
        task = data::CsvTask::Classification;
    else if (task_name == "regression")
        task = data::CsvTask::Regression;
    else if (task_name != "auto") {
        std::cerr << "--task must be auto, classification or regression\n";
        return 2;
    }

    data::CsvTable table;
    try {
        table = data::read_csv(path, {.target_column = parse_column(target), .task = task});
    } catch (const Error& e) {
        std::cerr << e.what() << "\n";  // names the file, the line and the column at fault
        return 2;
    }
    const bool classify = table.task == data::CsvTask::Classification;
    const std::int64_t n = table.features.size(0), d = table.features.size(1);
    const std::int64_t classes = static_cast<std::int64_t>(table.class_names.size());
    std::printf("%s: %lld rows, %lld features, target '%s' -> %s", path.c_str(),
                static_cast<long long>(n), static_cast<long long>(d), table.target_name.c_str(),
                classify ? "classification" : "regression");
    if (classify) {
        std::printf(" into %lld classes:", static_cast<long long>(classes));
        for (const auto& c : table.class_names) std::printf(" %s", c.c_str());
    }
    std::printf("\n");

    // Shuffle, split, and standardise with statistics of the training rows only.
    manual_seed(static_cast<std::uint64_t>(seed));
    Generator gen(static_cast<std::uint64_t>(seed));
    const auto order = data::randperm(n, gen);
    const std::int64_t n_val = std::max<std::int64_t>(1, std::llround(double(n) * val_fraction));
    const Tensor val_idx = tensor(std::vector<std::int64_t>(order.begin(), order.begin() + n_val));
    const Tensor train_idx = tensor(std::vector<std::int64_t>(order.begin() + n_val, order.end()));
    const auto x_scaler = data::Standardizer::fit(table.features.index_select(0, train_idx));
    const Tensor x_train = x_scaler.transform(table.features.index_select(0, train_idx));
    const Tensor x_val = x_scaler.transform(table.features.index_select(0, val_idx));
    Tensor y_train = table.targets.index_select(0, train_idx);
    Tensor y_val = table.targets.index_select(0, val_idx);
    data::Standardizer y_scaler;
    if (!classify) {  // regression targets as [N, 1] columns, standardised too
        y_train = y_train.reshape({-1, 1});
        y_val = y_val.reshape({-1, 1});
        y_scaler = data::Standardizer::fit(y_train);
        y_train = y_scaler.transform(y_train);
        y_val = y_scaler.transform(y_val);
    }

    const std::int64_t outputs = classify ? classes : 1;
    nn::Sequential model(nn::Linear(d, hidden), nn::ReLU(), nn::Linear(hidden, hidden), nn::ReLU(),
                         nn::Linear(hidden, outputs));
    optim::Adam opt(model.parameters(), {.lr = lr});
    auto cost = [&](const Tensor& pred, const Tensor& y) {
        return classify ? nn::cross_entropy(pred, y) : nn::mse_loss(pred, y);
    };
    auto validation_cost = [&] {
        NoGradGuard no_grad;
        return cost(model(x_val), y_val).item<double>();
    };

    data::DataLoader loader(
        data::TensorDataset(x_train, y_train),
        {.batch_size = batch_size, .shuffle = true, .seed = static_cast<std::uint64_t>(seed)});
    optim::Convergence stop({.min_delta = 1e-5, .patience = patience, .max_steps = max_epochs});
    const double first_val = validation_cost();
    nn::StateDict best;
    while (!stop.should_stop()) {
        for (auto& [x, y] : loader) {
            Tensor c = cost(model(x), y);
            opt.zero_grad();
            c.backward();
            opt.step();
        }
        const double val = validation_cost();
        if (stop.update(val)) {  // a new best: keep a copy of these weights
            NoGradGuard no_grad;
            for (const auto& [name, t] : model.state_dict()) best[name] = t.clone();
        }
        if (stop.steps() % 25 == 1 || stop.should_stop())
            std::printf("epoch %4lld  validation cost %.4f\n", static_cast<long long>(stop.steps()),
                        val);
    }
    model.load_state_dict(best);
    std::printf(
        "stopped after %lld epochs (%s); best validation cost %.4f at epoch %lld (from %.4f)\n",
        static_cast<long long>(stop.steps()),
        stop.reason() == optim::StopReason::converged ? "converged" : "epoch limit", stop.best(),
        static_cast<long long>(stop.best_step()), first_val);

    NoGradGuard inference;
    const Tensor pred_train = model(x_train), pred_val = model(x_val);
    if (classify) {
        std::printf("accuracy: training %.2f%%, validation %.2f%%\n",
                    100 * metrics::accuracy(pred_train, y_train),
                    100 * metrics::accuracy(pred_val, y_val));
        std::cout << "validation set:\n"
                  << metrics::classification_report(
                         metrics::precision_recall_f1(pred_val, y_val, classes), table.class_names);
    } else {
        // Back to the target's own units.
        const Tensor p = y_scaler.inverse_transform(pred_val),
                     t = y_scaler.inverse_transform(y_val);
        std::printf("validation: R^2 %.4f, RMSE %.4f, MAE %.4f (in the units of '%s')\n",
                    metrics::r2_score(p, t), metrics::rmse(p, t), metrics::mae(p, t),
                    table.target_name.c_str());
    }
    return stop.best() < first_val ? 0 : 1;
}
